"""A stand-in for picamera2's Picamera2, fed from a video file, for machines with no Pi camera.

It mimics only what Picamera2Source uses, with the real library's names and shapes:
create_video_configuration(main=..., lores=..., transform=..., controls=...) (whose
"controls" carry the video defaults FrameDurationLimits (33333, 33333) and fast
NoiseReductionMode, and buffer_count 6, as the real one), create_still_configuration
(main at `sensor_resolution`, "BGR888", high-quality denoise, one buffer), camera_controls
(name -> (min, max, default), what the sensor advertises; AfMode only with autofocus),
configure (which, like the real one, replaces the controls with the configuration's own),
stream_configuration(name) (size and stride as configured: like libcamera, the YUV420
lores width is rounded down to even and its stride padded to 64 bytes), set_controls,
start, stop, close, capture_request() and captured_request() (a request with
make_array(name), which copies the buffer as the real one does, and release()),
switch_mode_and_capture_request(config) (stop, configure, start, capture, switch back),
and MappedArray(request, stream) (the buffer itself, no copy, inside `with`; releasing a
request with one open raises).

"RGB888" arrays are B, G, R and "BGR888" ones R, G, B, as in picamera2; "lores" arrays are
YUV420 planes of height x 3/2 rows by stride bytes, like the real lores stream. A
libcamera-like Transform (hflip, vflip) flips the frames.

Buffers: a request holds one of the configuration's `buffer_count` buffers until released;
released requests are dropped (nothing is kept for inspection but counts: `held`,
`max_held`, `arrays_made`, `arrays_mapped`). Where the real camera would stall because the
application holds every buffer, the fake raises instead of hanging the test.

Time: frames come as fast as the file decodes unless `fps` paces them. A mode switch costs
what the sensor would at least: each start hides `HIDDEN_START_FRAMES` frames, then the
still is one frame of the full-resolution mode (imx708: 14.35 fps), then video resumes
after the hidden frames of its own mode. Stopping and reconfiguring the ISP and
allocating the buffers cost more on a Pi than here (README, "still mode").
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

VIDEO_CONTROLS = {"NoiseReductionMode": 1, "FrameDurationLimits": (33333, 33333)}
STILL_CONTROLS = {"NoiseReductionMode": 2, "FrameDurationLimits": (100, 1_000_000_000)}
CAMERA_CONTROLS: dict[str, tuple[Any, Any, Any]] = {  # a Camera Module 3 (imx708)
    "AfMode": (0, 2, 0),
    "FrameDurationLimits": (33333, 120000000, None),
    "NoiseReductionMode": (0, 4, 0),
    "Sharpness": (0.0, 16.0, 1.0),
    "ExposureValue": (-8.0, 8.0, 0.0),
}
SENSOR_RESOLUTION = (4608, 2592)  # imx708
# imx708 sensor modes (output size, fastest fps); a stream is fed by the smallest that covers it.
SENSOR_MODES = (((1536, 864), 120.13), ((2304, 1296), 56.03), ((4608, 2592), 14.35))
HIDDEN_START_FRAMES = 2  # frames libcamera's Pi pipeline drops after a start (low estimate)


class FakeTransform:
    """libcamera.Transform's constructor and attributes (hflip, vflip)."""

    def __init__(self, hflip: int = 0, vflip: int = 0) -> None:
        self.hflip, self.vflip = bool(hflip), bool(vflip)


class FakeRequest:
    """A completed request: holds its buffers until released, like CompletedRequest."""

    def __init__(self, camera: FakePicamera2, arrays: dict[str, np.ndarray]) -> None:
        self._camera = camera
        self._arrays = arrays
        self.generation = camera.generation  # the configuration its buffer belongs to
        self.controls = dict(camera.controls_set)  # in effect when this frame was made
        self.mapped = 0  # MappedArrays of this request now open

    @property
    def released(self) -> bool:
        return not self._arrays

    def make_array(self, name: str) -> np.ndarray:
        if self.released:
            raise RuntimeError("request used after release")
        self._camera.arrays_made[name] += 1
        return self._arrays[name].copy()  # the real make_buffer copies out of the dmabuf

    def release(self) -> None:
        if self.released:
            raise RuntimeError("CompletedRequest: lock now has negative ref_count")
        if self.mapped:
            raise RuntimeError("request released while a MappedArray of it is open")
        self._arrays = {}
        self._camera._returned(self)


class MappedArray:
    """picamera2.MappedArray: a stream's buffer as an array, no copy, valid inside `with`."""

    def __init__(
        self, request: FakeRequest, stream: str, reshape: bool = True, write: bool = True
    ) -> None:
        self._request = request
        self._stream = stream
        self._array: np.ndarray | None = None

    def __enter__(self) -> MappedArray:
        if self._request.released:
            raise RuntimeError("request used after release")
        self._array = self._request._arrays[self._stream]  # the buffer itself
        self._request.mapped += 1
        self._request._camera.arrays_mapped[self._stream] += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._array = None
        self._request.mapped -= 1

    @property
    def array(self) -> np.ndarray | None:
        return self._array


def sensor_frame_time(size: tuple[int, int], controls: dict[str, Any]) -> float:
    """Seconds per frame of the sensor mode feeding `size`, within FrameDurationLimits."""
    fastest = next((fps for mode, fps in SENSOR_MODES if mode[0] >= size[0] and mode[1] >= size[1]))
    shortest_us = controls.get("FrameDurationLimits", (0, 0))[0]
    return max(1.0 / fastest, shortest_us / 1e6)


def _configuration(
    use_case: str,
    main: dict[str, Any],
    lores: dict[str, Any] | None,
    transform: FakeTransform | None,
    defaults: dict[str, Any],
    controls: dict[str, Any] | None,
    buffer_count: int,
) -> dict[str, Any]:
    """A configuration dict as picamera2's create_*_configuration make them."""
    return {
        "use_case": use_case,
        "main": main,
        "lores": dict(lores or {}),
        "transform": transform or FakeTransform(),
        "controls": {**defaults, **(controls or {})},  # the caller's win, as in picamera2
        "buffer_count": buffer_count,
    }


class FakePicamera2:
    """Picamera2 look-alike; `fail_after` frames it raises like an unplugged camera."""

    sensor_resolution = SENSOR_RESOLUTION
    camera_properties: ClassVar[dict[str, object]] = {
        "Model": "imx708",
        "PixelArraySize": SENSOR_RESOLUTION,
    }

    def __init__(
        self,
        video: str | Path,
        fail_after: int | None = None,
        camera_controls: dict[str, tuple[Any, Any, Any]] | None = None,
        fps: float | None = None,
    ) -> None:
        self.video = str(video)
        self.camera_controls = dict(CAMERA_CONTROLS if camera_controls is None else camera_controls)
        self.controls_set: dict[str, Any] = {}
        self.fail_after = fail_after
        self.fps = fps  # pace frames like a camera; None: as fast as the file decodes
        self.started = False
        self.closed = False
        self.held: set[FakeRequest] = set()  # requests handed out and not released
        self.max_held = 0
        self.arrays_made: collections.Counter[str] = collections.Counter()
        self.arrays_mapped: collections.Counter[str] = collections.Counter()
        self.configured: list[tuple[str, dict[str, Any]]] = []  # (use_case, controls)
        self.switches = 0
        self.generation = 0  # configure() count: buffers of older configurations are apart
        self._config: dict[str, Any] | None = None
        self._capture: cv2.VideoCapture | None = None
        self._served = 0
        self._next_frame_at = 0.0
        self._held_lock = threading.Lock()
        self._jobs = threading.Lock()  # the real event loop runs one job at a time

    def create_video_configuration(
        self,
        main: dict[str, Any],
        lores: dict[str, Any] | None = None,
        transform: FakeTransform | None = None,
        controls: dict[str, Any] | None = None,
        buffer_count: int = 6,
        **_: Any,
    ) -> dict[str, Any]:
        main = {"format": "XBGR8888", **main}
        return _configuration(
            "video", main, lores, transform, VIDEO_CONTROLS, controls, buffer_count
        )

    def create_still_configuration(
        self,
        main: dict[str, Any] | None = None,
        transform: FakeTransform | None = None,
        controls: dict[str, Any] | None = None,
        buffer_count: int = 1,
        **_: Any,
    ) -> dict[str, Any]:
        main = {"size": self.sensor_resolution, "format": "BGR888", **(main or {})}
        return _configuration(
            "still", main, None, transform, STILL_CONTROLS, controls, buffer_count
        )

    def configure(self, config: dict[str, Any]) -> None:
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        if config["lores"]:
            (lw, lh), (mw, mh) = config["lores"]["size"], config["main"]["size"]
            if lw > mw or lh > mh:
                raise RuntimeError("lores stream must not be larger than main")
        width, height = config["main"]["size"]
        if width > self.sensor_resolution[0] or height > self.sensor_resolution[1]:
            raise RuntimeError(f"Invalid camera configuration: main {width}x{height}")
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
        self.controls_set = dict(config["controls"])  # configure replaces them, as the real one
        self.generation += 1
        self.configured.append((config["use_case"], dict(config["controls"])))

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

    def capture_request(self, wait: Any = None, flush: Any = None) -> FakeRequest:
        with self._jobs:
            self._wait_for_frame()
            return self._hand_out(self._next_arrays())

    @contextlib.contextmanager
    def captured_request(self, wait: Any = None, flush: Any = None) -> Iterator[FakeRequest]:
        request = self.capture_request(wait, flush)
        try:
            yield request
        finally:
            request.release()

    def switch_mode_and_capture_request(
        self,
        camera_config: dict[str, Any],
        wait: Any = None,
        signal_function: Any = None,
        delay: int = 0,
    ) -> FakeRequest:
        """Stop, configure `camera_config`, start, drop `delay` frames, capture one request,
        and switch back to the configuration that was running; the request is the caller's
        to release. Video frames resume only after the video mode's own hidden frames."""
        with self._jobs:
            if not self.started or self._config is None:
                raise RuntimeError("Camera is not running")
            previous = dict(self._config)
            self.switches += 1
            self.stop()
            self.configure(camera_config)
            self.started = True
            try:
                still_frame = sensor_frame_time(camera_config["main"]["size"], self.controls_set)
                time.sleep((HIDDEN_START_FRAMES + delay + 1) * still_frame)
                return self._hand_out(self._next_arrays())
            finally:
                self.stop()
                self.configure(previous)
                self.started = True
                video_frame = sensor_frame_time(previous["main"]["size"], self.controls_set)
                self._next_frame_at = time.monotonic() + (HIDDEN_START_FRAMES + 1) * video_frame

    def _wait_for_frame(self) -> None:
        """Until the next frame is due: after a mode switch's hidden frames, at `fps`."""
        wait = self._next_frame_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if self.fps:
            self._next_frame_at = max(self._next_frame_at, time.monotonic()) + 1.0 / self.fps

    def _hand_out(self, arrays: dict[str, np.ndarray]) -> FakeRequest:
        assert self._config is not None
        with self._held_lock:
            mine = sum(1 for held in self.held if held.generation == self.generation)
            if mine >= self._config["buffer_count"]:
                raise RuntimeError(
                    f"the application holds all {mine} buffers: a real camera stalls here"
                )
            request = FakeRequest(self, arrays)
            self.held.add(request)
            self.max_held = max(self.max_held, len(self.held))
        return request

    def _returned(self, request: FakeRequest) -> None:
        with self._held_lock:
            self.held.discard(request)

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
        main_config = self._config["main"]
        main = cv2.resize(frame, tuple(main_config["size"]))
        if main_config["format"] == "BGR888":  # picamera2's "BGR888" is stored R, G, B
            main = cv2.cvtColor(main, cv2.COLOR_BGR2RGB)
        arrays = {"main": main}
        lores = self._config["lores"]
        if lores:
            (width, height), stride = lores["size"], lores["stride"]
            small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
            padded = cv2.copyMakeBorder(small, 0, 0, 0, stride - width, cv2.BORDER_CONSTANT)
            arrays["lores"] = cv2.cvtColor(padded, cv2.COLOR_BGR2YUV_I420)
        return arrays
