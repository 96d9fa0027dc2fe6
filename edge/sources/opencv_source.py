"""OpenCV capture: USB/V4L2 cameras, RTSP/HTTP streams, GStreamer pipelines, video files.

Cameras and streams are live: read on a thread that keeps the newest frame. Video files
are read in order, every frame, and end at their end.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2

from edge.sources.base import (
    Frame,
    SourceError,
    SourceLostError,
    resize_to_width,
    to_bgr,
    valid_image,
)
from edge.sources.config import SourceConfig
from edge.sources.latest import LatestFrame

log = logging.getLogger(__name__)
LIVE_TIMEOUT_S = 5.0


def describe(device: str) -> tuple[object, int, bool]:
    """(what to pass to VideoCapture, API preference, live?) for a device string."""
    if device.isdigit():
        return int(device), cv2.CAP_ANY, True
    if "!" in device:  # a GStreamer pipeline (needs OpenCV built with GStreamer)
        return device, cv2.CAP_GSTREAMER, True
    if "://" in device:
        return device, cv2.CAP_FFMPEG, True
    if device.startswith("/dev/"):
        return device, cv2.CAP_V4L2, True
    return device, cv2.CAP_ANY, False


class OpenCVSource:
    def __init__(self, config: SourceConfig, live: bool | None = None) -> None:
        """`live` overrides what the device string implies (tests replay a file as a camera)."""
        self.config = config
        self.target, self.api, implied = describe(config.device)
        self.live = implied if live is None else live
        self.bad_frames = 0
        self._capture: cv2.VideoCapture | None = None
        self._latest: LatestFrame | None = None
        self._index = 0
        self._dropped_before = 0

    @property
    def dropped_frames(self) -> int:
        return self._dropped_before + (self._latest.dropped if self._latest else 0)

    def open(self) -> None:
        local = isinstance(self.target, str) and "://" not in self.target and "!" not in self.target
        if local and not Path(str(self.target)).exists():  # a missing file or unplugged /dev node
            raise SourceError(f"not found: {self.target}")
        capture = cv2.VideoCapture(self.target, self.api)  # type: ignore[call-overload]
        if not capture.isOpened():
            capture.release()
            hint = " (is OpenCV built with GStreamer?)" if self.api == cv2.CAP_GSTREAMER else ""
            raise SourceError(f"cannot open {self.config.device!r}{hint}")
        self._capture = capture
        if self.live:
            self._latest = LatestFrame(self._grab, str(self.config.device))
            self._latest.start()
        log.info("opened %s (%s)", self.config.device, "live" if self.live else "file")

    def _grab(self) -> Frame | None:
        """One frame from the device; None for a bad one (counted), SourceLostError on loss."""
        capture = self._capture
        if capture is None:
            raise SourceLostError("source is closed")
        ok, image = capture.read()
        if not ok:
            raise SourceLostError(f"{self.config.device!r} stopped delivering frames")
        if not valid_image(image):
            self.bad_frames += 1
            return None
        full = to_bgr(image)
        small = resize_to_width(full, self.config.width)
        self._index += 1
        # Files run on the video's own clock, so replays decide the same at any speed.
        stamp = time.monotonic() if self.live else capture.get(cv2.CAP_PROP_POS_MSEC) / 1e3
        return Frame(small, self._index - 1, stamp, None if small is full else full)

    def read(self) -> Frame | None:
        if self._capture is None:
            raise SourceLostError("source is not open")
        if self._latest is not None:
            return self._latest.take(LIVE_TIMEOUT_S)
        while True:
            try:
                frame = self._grab()
            except SourceLostError:
                return None  # a file ends at its end
            if frame is not None:
                return frame

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if self._latest is not None:
            self._dropped_before += self._latest.dropped
            if not self._latest.stop():
                # Releasing under a blocked read() can crash OpenCV: let the reader drop
                # the last reference when its read returns.
                log.warning("reader of %r still blocked; not releasing it", self.config.device)
                capture = None
            self._latest = None
        if capture is not None:
            capture.release()
