"""A folder of images replayed as frames, at a fixed rate or as fast as possible.

For tests, demos and benchmarks without a camera. Unreadable files are skipped and
counted like bad camera frames (each named once, on the first pass); the source ends after
the last image (of the last repeat), when the folder vanishes, or after a whole pass
without one readable image: a folder deleted under a long replay must end it, not spin
through its missing files logging each (and ignoring SIGTERM while it does).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from edge.config.engine import printable
from edge.config.output import ImageConfig
from edge.config.source import SourceConfig
from edge.io.image_io import DEFAULT_IMAGES, IMAGE_SUFFIXES, read_image
from edge.io.sources.base import Frame, SourceError, resize_to_width, to_bgr, valid_image

log = logging.getLogger(__name__)


class ImageFolderSource:
    live = False

    def __init__(
        self,
        config: SourceConfig,
        sleep: Callable[[float], None] = time.sleep,
        images: ImageConfig = DEFAULT_IMAGES,
    ) -> None:
        self.config = config
        self.images = images  # the pixel and file-size limits every file is read under
        self.bad_frames = 0
        self.dropped_frames = 0
        self._sleep = sleep
        self._files: list[Path] = []
        self._position = 0
        self._next_time = 0.0
        # Set by the loop to its stop event's is_set: a long run of unreadable files is read
        # inside one read() call, and SIGTERM must not wait for it.
        self.should_stop: Callable[[], bool] = lambda: False

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
        failed_in_a_row = 0
        while self._position < total and not self.should_stop():
            path = self._files[self._position % len(self._files)]
            index = self._position
            self._position += 1
            read = read_image(path, self.images)
            image = read.image
            if image is None or not valid_image(image):
                self.bad_frames += 1
                failed_in_a_row += 1
                if not Path(self.config.folder).is_dir():
                    log.error("image folder %s vanished: replay ends", self.config.folder)
                    self._position = total
                    return None
                if failed_in_a_row >= len(self._files):
                    log.error("no readable image in %s in a whole pass: replay ends", path.parent)
                    self._position = total
                    return None
                if index < len(self._files):  # name each bad file once, not on every repeat
                    log.warning(
                        "skipped unreadable image %s: %s",
                        printable(str(path)),
                        read.problem or "not 8-bit BGR",
                    )
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
