"""Raspberry Pi camera through picamera2: infer on lores, capture from main, same request.

The lores stream (YUV420, small) is what the models see; the main stream of the very same
request is the full-resolution photo, so a capture is always the frame that was scored.
`captured_request()` releases the buffers however the block exits.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import cv2

from edge.sources.base import Frame, SourceError, SourceLostError
from edge.sources.config import SourceConfig
from edge.sources.latest import LatestFrame

log = logging.getLogger(__name__)


def _default_camera() -> Any:
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise SourceError(
            "picamera2 is not importable: on Raspberry Pi OS `sudo apt install "
            "python3-picamera2` and make the venv with --system-site-packages"
        ) from exc
    return Picamera2()


class Picamera2Source:
    live = True

    def __init__(self, config: SourceConfig, camera_factory: Any = _default_camera) -> None:
        self.config = config
        self.bad_frames = 0
        self._factory = camera_factory
        self._camera: Any = None
        self._latest: LatestFrame | None = None
        self._index = 0
        self._dropped_before = 0

    @property
    def dropped_frames(self) -> int:
        return self._dropped_before + (self._latest.dropped if self._latest else 0)

    def open(self) -> None:
        main_w, main_h = self.config.main_size
        lores_w, lores_h = self.config.lores_size
        camera = None
        try:
            camera = self._factory()
            configuration = camera.create_video_configuration(
                # "RGB888" is stored B, G, R: the array is BGR, as OpenCV expects.
                main={"size": (main_w, main_h), "format": "RGB888"},
                lores={"size": (lores_w, lores_h), "format": "YUV420"},
            )
            camera.configure(configuration)
            camera.start()
        except SourceError:
            raise
        except Exception as exc:  # no camera, busy, or libcamera failed: may come back
            if camera is not None:
                camera.close()
            raise SourceError(f"picamera2: cannot start the camera: {exc}") from exc
        self._camera = camera
        self._latest = LatestFrame(self._grab, "picamera2")
        self._latest.start()
        log.info("picamera2 started: main %sx%s, lores %sx%s", main_w, main_h, lores_w, lores_h)

    def _grab(self) -> Frame | None:
        try:
            with self._camera.captured_request() as request:
                lores = request.make_array("lores")
                main = request.make_array("main")
        except Exception as exc:  # libcamera errors have no common base class
            raise SourceLostError(f"picamera2: {exc}") from exc
        lores_h = self.config.lores_size[1]
        if lores.ndim != 2 or lores.shape[0] < lores_h or main.ndim != 3:
            self.bad_frames += 1
            return None
        # YUV420 (I420: Y, then U, then V) arrives as height*3/2 rows; crop stride padding.
        # Not COLOR_YUV420p2BGR: that is an alias of YV12 (V before U) and swaps colours.
        image = cv2.cvtColor(lores[: lores_h * 3 // 2], cv2.COLOR_YUV2BGR_I420)
        image = image[:, : self.config.lores_size[0]]
        self._index += 1
        return Frame(image, self._index - 1, time.monotonic(), main)

    def read(self) -> Frame | None:
        if self._latest is None:
            raise SourceLostError("source is not open")
        return self._latest.take(5.0)

    def close(self) -> None:
        if self._latest is not None:
            self._dropped_before += self._latest.dropped
            self._latest.stop()
            self._latest = None
        if self._camera is not None:
            try:
                self._camera.stop()
            finally:
                self._camera.close()
                self._camera = None
