"""A folder of images replayed as frames, at a fixed rate or as fast as possible.

For tests, demos and benchmarks without a camera. Unreadable files are skipped and
counted like bad camera frames; the source ends after the last image (of the last repeat).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from edge.image_io import read_image
from edge.sources.base import Frame, SourceError, resize_to_width, to_bgr, valid_image
from edge.sources.config import SourceConfig

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class ImageFolderSource:
    live = False

    def __init__(self, config: SourceConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.bad_frames = 0
        self.dropped_frames = 0
        self._sleep = sleep
        self._files: list[Path] = []
        self._position = 0
        self._next_time = 0.0

    def open(self) -> None:
        folder = Path(self.config.folder)
        if not folder.is_dir():
            raise SourceError(f"image folder not found: {folder}")
        self._files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise SourceError(f"no images in {folder} (looked for {sorted(IMAGE_SUFFIXES)})")
        self._position = 0
        self._next_time = time.monotonic()

    def read(self) -> Frame | None:
        total = len(self._files) * self.config.repeat
        while self._position < total:
            path = self._files[self._position % len(self._files)]
            index = self._position
            self._position += 1
            image = read_image(path).image
            if image is None or not valid_image(image):
                self.bad_frames += 1
                log.warning("skipped unreadable image %s", path)
                continue
            self._pace()
            full = to_bgr(image)
            small = resize_to_width(full, self.config.width)
            # Replayed at a rate: the frame clock is index / rate; as fast as possible: real time.
            stamp = index / self.config.fps if self.config.fps > 0 else time.monotonic()
            return Frame(small, index, stamp, None if small is full else full)
        return None

    def _pace(self) -> None:
        if self.config.fps <= 0:
            return
        wait = self._next_time - time.monotonic()
        if wait > 0:
            self._sleep(wait)
        self._next_time = max(self._next_time, time.monotonic()) + 1.0 / self.config.fps

    def close(self) -> None:
        self._files = []
