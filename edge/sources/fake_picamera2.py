"""A stand-in for picamera2's Picamera2, fed from a video file, for machines with no Pi camera.

It mimics only what Picamera2Source uses, with the real library's names and shapes:
create_video_configuration(main=..., lores=..., transform=..., controls=...) (whose
"controls" carry the video defaults FrameDurationLimits (33333, 33333) and fast
NoiseReductionMode, as the real one), camera_controls (name -> (min, max, default), what
the sensor advertises; AfMode only with autofocus), configure, stream_configuration(name)
(size and stride as configured: like libcamera, the YUV420 lores width is rounded down to
even and its stride padded to 64 bytes), set_controls, start, stop, close and
captured_request() (a context manager whose request has make_array(name) and release()).
"main" arrays are BGR (picamera2's "RGB888"), "lores" arrays are YUV420 planes of
height x 3/2 rows by stride bytes, like the real lores stream. A libcamera-like Transform
(hflip, vflip) flips the frames.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

VIDEO_CONTROLS = {"NoiseReductionMode": 1, "FrameDurationLimits": (33333, 33333)}
CAMERA_CONTROLS: dict[str, tuple[Any, Any, Any]] = {  # a Camera Module 3 (imx708)
    "AfMode": (0, 2, 0),
    "FrameDurationLimits": (33333, 120000000, None),
    "NoiseReductionMode": (0, 4, 0),
    "Sharpness": (0.0, 16.0, 1.0),
    "ExposureValue": (-8.0, 8.0, 0.0),
}


class FakeTransform:
    """libcamera.Transform's constructor and attributes (hflip, vflip)."""

    def __init__(self, hflip: int = 0, vflip: int = 0) -> None:
        self.hflip, self.vflip = bool(hflip), bool(vflip)


BUFFERS = 4  # picamera2's default buffer_count for a video configuration


class FakeRequest:
    def __init__(self, arrays: dict[str, np.ndarray], on_release: Any = None) -> None:
        self._arrays = arrays
        self._on_release = on_release
        self.released = False

    def make_array(self, name: str) -> np.ndarray:
        if self.released:
            raise RuntimeError("request used after release")
        return self._arrays[name]

    def release(self) -> None:
        if not self.released and self._on_release is not None:
            self._on_release()
        self.released = True


class FakePicamera2:
    """Picamera2 look-alike; `fail_after` frames it raises like an unplugged camera."""

    def __init__(
        self,
        video: str | Path,
        fail_after: int | None = None,
        camera_controls: dict[str, tuple[Any, Any, Any]] | None = None,
    ) -> None:
        self.video = str(video)
        self.camera_controls = dict(CAMERA_CONTROLS if camera_controls is None else camera_controls)
        self.controls_set: dict[str, Any] = {}
        self.fail_after = fail_after
        self.started = False
        self.closed = False
        self.requests: list[FakeRequest] = []
        self.held = 0  # requests (buffers) handed out and not yet released
        self._config: dict[str, Any] | None = None
        self._capture: cv2.VideoCapture | None = None
        self._served = 0

    def create_video_configuration(
        self,
        main: dict[str, Any],
        lores: dict[str, Any] | None = None,
        transform: FakeTransform | None = None,
        controls: dict[str, Any] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return {
            "main": dict(main),
            "lores": dict(lores or {}),
            "transform": transform or FakeTransform(),
            "controls": {**VIDEO_CONTROLS, **(controls or {})},
        }

    def configure(self, config: dict[str, Any]) -> None:
        if config["lores"]:
            (lw, lh), (mw, mh) = config["lores"]["size"], config["main"]["size"]
            if lw > mw or lh > mh:
                raise RuntimeError("lores stream must not be larger than main")
        unknown = set(config["controls"]) - set(self.camera_controls)
        if unknown:
            raise RuntimeError(f"Control {sorted(unknown)[0]} is not advertised by libcamera")
        streams = {}
        for name, stream in (("main", config["main"]), ("lores", config["lores"])):
            if not stream:
                continue
            width, height = stream["size"]
            if name == "lores":  # YUV420: even sizes, rows padded to 64 bytes
                width, height = width & ~1, height & ~1
                stride = (width + 63) // 64 * 64
            else:
                stride = (width * 3 + 63) // 64 * 64
            streams[name] = {**stream, "size": (width, height), "stride": stride}
        self._config = {**config, **streams}
        self.controls_set = dict(config["controls"])

    def stream_configuration(self, name: str) -> dict[str, Any]:
        if self._config is None:
            raise RuntimeError("Camera is not configured")
        return dict(self._config[name])

    def set_controls(self, controls: dict[str, Any]) -> None:
        unknown = set(controls) - set(self.camera_controls)
        if unknown:
            raise RuntimeError(f"Control {sorted(unknown)[0]} is not advertised by libcamera")
        self.controls_set.update(controls)

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

    def capture_request(self) -> FakeRequest:
        """The next request; the caller must release() it. Like libcamera, a camera whose
        BUFFERS buffers are all held by the application stalls and times out."""
        if self.held >= BUFFERS:
            raise RuntimeError("Camera frontend has timed out!")
        request = FakeRequest(self._next_arrays(), on_release=self._returned)
        self.held += 1
        self.requests.append(request)
        return request

    @contextlib.contextmanager
    def captured_request(self) -> Iterator[FakeRequest]:
        request = self.capture_request()
        try:
            yield request
        finally:
            request.release()

    def _returned(self) -> None:
        self.held -= 1

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
        transform = self._config["transform"]
        if transform.hflip and transform.vflip:
            frame = cv2.flip(frame, -1)
        elif transform.hflip or transform.vflip:
            frame = cv2.flip(frame, 1 if transform.hflip else 0)
        main = cv2.resize(frame, tuple(self._config["main"]["size"]))
        lores = self._config["lores"]
        (width, height), stride = lores["size"], lores["stride"]
        small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        padded = cv2.copyMakeBorder(small, 0, 0, 0, stride - width, cv2.BORDER_CONSTANT)
        return {"main": main, "lores": cv2.cvtColor(padded, cv2.COLOR_BGR2YUV_I420)}
