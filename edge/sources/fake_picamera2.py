"""A stand-in for picamera2's Picamera2, fed from a video file, for machines with no Pi camera.

It mimics only what Picamera2Source uses, with the real library's names and shapes:
create_video_configuration(main=..., lores=...), configure, start, stop, close and
captured_request() (a context manager whose request has make_array(name) and release()).
"main" arrays are BGR (picamera2's "RGB888"), "lores" arrays are YUV420 planes of
height x 3/2 rows, like the real lores stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np


class FakeRequest:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self._arrays = arrays
        self.released = False

    def make_array(self, name: str) -> np.ndarray:
        if self.released:
            raise RuntimeError("request used after release")
        return self._arrays[name]

    def release(self) -> None:
        self.released = True


class FakePicamera2:
    """Picamera2 look-alike; `fail_after` frames it raises like an unplugged camera."""

    def __init__(self, video: str | Path, fail_after: int | None = None) -> None:
        self.video = str(video)
        self.fail_after = fail_after
        self.started = False
        self.closed = False
        self.requests: list[FakeRequest] = []
        self._config: dict[str, Any] | None = None
        self._capture: cv2.VideoCapture | None = None
        self._served = 0

    def create_video_configuration(
        self, main: dict[str, Any], lores: dict[str, Any] | None = None, **_: Any
    ) -> dict[str, Any]:
        return {"main": dict(main), "lores": dict(lores or {})}

    def configure(self, config: dict[str, Any]) -> None:
        if config["lores"]:
            (lw, lh), (mw, mh) = config["lores"]["size"], config["main"]["size"]
            if lw > mw or lh > mh:
                raise RuntimeError("lores stream must not be larger than main")
        self._config = config

    def start(self) -> None:
        if self._config is None:
            raise RuntimeError("Camera must be configured before starting")
        capture = cv2.VideoCapture(self.video)
        if not capture.isOpened():  # like an unplugged camera
            capture.release()
            raise RuntimeError(f"Camera __init__ sequence did not complete ({self.video})")
        self._capture = capture
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self.closed = True

    @contextlib.contextmanager
    def captured_request(self) -> Iterator[FakeRequest]:
        request = FakeRequest(self._next_arrays())
        self.requests.append(request)
        try:
            yield request
        finally:
            request.release()

    def _next_arrays(self) -> dict[str, np.ndarray]:
        if not self.started or self._capture is None:
            raise RuntimeError("Camera is not running")
        if self.fail_after is not None and self._served >= self.fail_after:
            raise RuntimeError("Camera frontend has timed out!")
        ok, frame = self._capture.read()
        if not ok:  # a real camera never ends: loop the file
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
        self._served += 1
        assert self._config is not None
        main = cv2.resize(frame, tuple(self._config["main"]["size"]))
        lores_bgr = cv2.resize(
            frame, tuple(self._config["lores"]["size"]), interpolation=cv2.INTER_AREA
        )
        return {"main": main, "lores": cv2.cvtColor(lores_bgr, cv2.COLOR_BGR2YUV_I420)}
