"""Raspberry Pi camera through picamera2: infer on lores, capture from main, same request.

The lores stream (YUV420, small) is what the models see; the main stream of the very same
request is the full-resolution photo, so a capture is always the frame that was scored.
Copying main out of the camera's buffer costs 6 MB a frame at 1080p, and the loop saves
few frames: so each frame holds its request, and main is copied only if the loop keeps
the frame (a burst candidate, `Frame.keep()`). A request is released when its frame is
replaced: in the newest-frame slot by a newer grab, or in the loop's hands by the next
read. So the application holds at most three of the camera's six video buffers (the
frame the loop is on, the newest waiting for it, and for an instant the grab replacing
that one); picamera2 keeps one more, which leaves libcamera two to fill.

With `source.still`, a photo is a still instead: `switch_mode_and_capture_request` on a
still configuration (full sensor unless `still_size`), which stops the camera, captures
in the still mode and returns to video; requests are then released as soon as lores is
copied. The still configuration gets the same controls as the video one (configure
replaces the controls: whatever was set only at run time would be lost by the switch).

The video configuration's own controls suit video, not photos: FrameDurationLimits
(33333, 33333) caps exposure at 1/30 s (dark, noisy indoors) and denoise is "fast"; and a
Camera Module 3's autofocus starts in manual. `source.frame_duration_limits_us`,
`noise_reduction`, `af_mode` and the `controls` passthrough replace them, each only when
the camera advertises the control (others are named in a warning). Sizes are read back
from the configured streams: libcamera may round them, and the lores rows carry stride
padding.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import cv2
import numpy as np

from edge.config.source import SourceConfig
from edge.io.exif import CameraInfo
from edge.io.sources.base import Frame, KeptPhoto, Photo, PhotoError, SourceError, SourceLostError
from edge.io.sources.latest import LatestFrame

log = logging.getLogger(__name__)
AF_MODES = {"manual": 0, "auto": 1, "continuous": 2}  # libcamera controls.AfModeEnum
NOISE_REDUCTION = {"off": 0, "fast": 1, "high_quality": 2}  # NoiseReductionModeEnum
FLIPS = {"none": (0, 0), "hflip": (1, 0), "vflip": (0, 1), "rotate180": (1, 1)}


def _libcamera_transform(hflip: int, vflip: int) -> Any:
    from libcamera import Transform  # installed with picamera2 (python3-libcamera)

    return Transform(hflip=hflip, vflip=vflip)


def wanted_controls(config: SourceConfig, advertised: Any) -> dict[str, Any]:
    """The controls to set: ours and the passthrough, less those the camera lacks (warned
    about, except AfMode on a fixed-focus camera, which is expected)."""
    wanted: dict[str, Any] = {
        "FrameDurationLimits": tuple(config.frame_duration_limits_us),
        "NoiseReductionMode": NOISE_REDUCTION[config.noise_reduction],
        "AfMode": AF_MODES[config.af_mode],
        **config.controls,
    }
    missing = sorted(name for name in wanted if name not in advertised)
    if [name for name in missing if name != "AfMode" or "AfMode" in config.controls]:
        log.warning("picamera2: this camera has no %s; left out", ", ".join(missing))
    return {name: value for name, value in wanted.items() if name in advertised}


class HeldMain:
    """The main image of a request still held: copied out only by take() or keep(), or
    mapped without a copy by view() (picamera2's MappedArray) until the request goes back."""

    def __init__(self, request: Any, size: tuple[int, int], mapper: Any = None) -> None:
        self._request: Any = request
        self._lock = threading.Lock()  # the reader releases dropped frames, the loop keeps
        self.size = size
        self._mapper = mapper  # picamera2.MappedArray, or None where it cannot be imported
        self._mapping: Any = None

    def take(self) -> np.ndarray:
        with self._lock:
            if self._request is None:
                raise PhotoError("picamera2: the frame's request was released (keep() it)")
            try:
                return self._request.make_array("main")
            except Exception as exc:  # libcamera errors have no common base class
                raise PhotoError(f"picamera2: cannot read the main stream: {exc}") from exc

    def keep(self) -> Photo:
        kept = KeptPhoto(self.take())
        self.release()
        return kept

    def view(self) -> np.ndarray | None:
        """The main stream in the camera's buffer, mapped, not copied (make_array copies:
        1.4 ms a 1080p frame here, several on a Pi); valid until the request is released,
        at the source's next read. None without picamera2's MappedArray."""
        with self._lock:
            if self._request is None:
                raise PhotoError("picamera2: the frame's request was released (keep() it)")
            if self._mapper is None:
                return None
            if self._mapping is None:
                try:
                    mapping = _read_only_mapping(self._mapper, self._request)
                    mapping.__enter__()
                except Exception as exc:  # libcamera errors have no common base class
                    raise PhotoError(f"picamera2: cannot map the main stream: {exc}") from exc
                self._mapping = mapping
            array: np.ndarray | None = self._mapping.array
            return array

    def release(self) -> None:
        """Give the buffer back to the camera (once; later calls do nothing), unmapped."""
        with self._lock:
            request, self._request = self._request, None
            mapping, self._mapping = self._mapping, None
        if mapping is not None:
            mapping.__exit__(None, None, None)
        if request is not None:
            request.release()


class StillPhoto:
    """A photo taken, when asked for, as a still in the still mode."""

    def __init__(self, source: Picamera2Source) -> None:
        self._source = source
        self.size = source.still_size

    def take(self) -> np.ndarray:
        image = self._source.capture_still()
        self.size = image.shape[1], image.shape[0]
        return image

    def keep(self) -> Photo:
        return self  # holds no buffer: the still is taken when the photo is saved

    def view(self) -> None:
        return None  # not taken yet


def still_size(wanted: tuple[int, int], sensor: tuple[int, int]) -> tuple[int, int]:
    """The still's size: `wanted`, [0, 0] for the full sensor, never larger than it."""
    if not any(wanted):
        return sensor[0], sensor[1]
    if wanted[0] > sensor[0] or wanted[1] > sensor[1]:
        log.warning(
            "source.still_size %dx%d is larger than the sensor (%dx%d): using the sensor's",
            *wanted,
            *sensor,
        )
        return sensor[0], sensor[1]
    return wanted[0], wanted[1]


def _release(frame: Frame) -> None:
    if isinstance(frame.photo, HeldMain):
        frame.photo.release()


def _read_only_mapping(mapper: Any, request: Any) -> Any:
    """MappedArray(request, "main"), read-only where this picamera2 takes `write`."""
    try:
        return mapper(request, "main", write=False)
    except TypeError:  # picamera2 before `write` (Bullseye)
        return mapper(request, "main")


def _default_mapper() -> Any:
    """picamera2's MappedArray; None where picamera2 has none to give."""
    try:
        from picamera2 import MappedArray
    except ImportError:
        return None
    return MappedArray


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

    def __init__(
        self,
        config: SourceConfig,
        camera_factory: Any = _default_camera,
        transform_factory: Any = _libcamera_transform,
        mapper_factory: Any = _default_mapper,
    ) -> None:
        """`mapper_factory()`: picamera2's MappedArray (or a look-alike; None: no mapping),
        with which small faces' eyes are read in main without copying it."""
        self.config = config
        self._transform = transform_factory
        self._mapper_factory = mapper_factory
        self._mapper: Any = None
        self.lores_size: tuple[int, int] = config.lores_size
        self.main_size: tuple[int, int] = config.main_size
        self.controls: dict[str, Any] = {}
        self.bad_frames = 0
        self.still_size: tuple[int, int] = config.still_size
        self.still_delays: list[float] = []  # seconds each still took (mode switch included)
        self._factory = camera_factory
        self._camera: Any = None
        self._still_configuration: Any = None
        self._still_lock = threading.Lock()
        self._latest: LatestFrame | None = None
        self.camera: CameraInfo | None = None  # the sensor's model (the photos' EXIF)
        self._handed: Frame | None = None  # the frame the loop has: released at next read
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
            controls = wanted_controls(self.config, camera.camera_controls)
            # None: picamera2's default (no flip), without importing libcamera.
            transform = (
                None
                if self.config.transform == "none"
                else self._transform(*FLIPS[self.config.transform])
            )
            configuration = camera.create_video_configuration(
                # "RGB888" is stored B, G, R: the array is BGR, as OpenCV expects.
                main={"size": (main_w, main_h), "format": "RGB888"},
                lores={"size": (lores_w, lores_h), "format": "YUV420"},
                transform=transform,
                controls=controls,
            )
            camera.configure(configuration)
            if self.config.still:
                self.still_size = still_size(self.config.still_size, camera.sensor_resolution)
                self._still_configuration = camera.create_still_configuration(
                    main={"size": self.still_size, "format": "RGB888"},  # BGR888 would be RGB
                    transform=transform,
                    controls=controls,
                )
            # What libcamera made of the request (sizes may be rounded, rows padded).
            lores, main = camera.stream_configuration("lores"), camera.stream_configuration("main")
            camera.start()
        except SourceError:
            raise
        except Exception as exc:  # no camera, busy, or libcamera failed: may come back
            if camera is not None:
                camera.close()
            raise SourceError(f"picamera2: cannot start the camera: {exc}") from exc
        self._camera = camera
        self.camera = CameraInfo(
            model=str(getattr(camera, "camera_properties", {}).get("Model", ""))
        )
        self._mapper = self._mapper_factory()
        self.controls = controls
        self.lores_size, self.main_size = tuple(lores["size"]), tuple(main["size"])
        self._lores_stride = int(lores.get("stride", self.lores_size[0]))
        self._latest = LatestFrame(self._grab, "picamera2", discard=_release)
        self._latest.start()
        log.info(
            "picamera2 started: main %sx%s, lores %sx%s (stride %d), transform %s, controls "
            "%s, photos %s",
            *self.main_size,
            *self.lores_size,
            self._lores_stride,
            self.config.transform,
            controls,
            f"stills {self.still_size[0]}x{self.still_size[1]}" if self.config.still else "main",
        )

    def _grab(self) -> Frame | None:
        try:
            request = self._camera.capture_request()
        except Exception as exc:  # libcamera errors have no common base class
            raise SourceLostError(f"picamera2: {exc}") from exc
        held = HeldMain(request, self.main_size, self._mapper)
        try:
            lores = request.make_array("lores")
        except Exception as exc:
            held.release()
            raise SourceLostError(f"picamera2: {exc}") from exc
        lores_w, lores_h = self.lores_size
        if lores.ndim != 2 or lores.shape[0] < lores_h * 3 // 2:
            held.release()
            self.bad_frames += 1
            return None
        # YUV420 (I420: Y, then U, then V) arrives as height*3/2 rows; crop stride padding.
        # Not COLOR_YUV420p2BGR: that is an alias of YV12 (V before U) and swaps colours.
        image = cv2.cvtColor(lores[: lores_h * 3 // 2], cv2.COLOR_YUV2BGR_I420)
        image = image[:, :lores_w]  # the stride padding off
        self._index += 1
        photo: Photo = held
        if self.config.still:  # main is not needed: the buffer goes back at once
            held.release()
            photo = StillPhoto(self)
        return Frame(image, self._index - 1, time.monotonic(), photo=photo)

    def capture_still(self) -> np.ndarray:
        """Switch to the still mode, capture, switch back; PhotoError if the camera fails
        (the reader then sees the loss too and the loop reopens it)."""
        with self._still_lock:
            camera = self._camera
            if camera is None or self._still_configuration is None:
                raise PhotoError("picamera2: no still: the camera is not open")
            started = time.monotonic()
            try:
                request = camera.switch_mode_and_capture_request(self._still_configuration)
                try:
                    image: np.ndarray = request.make_array("main")
                finally:
                    request.release()
            except Exception as exc:  # libcamera errors have no common base class
                raise PhotoError(f"picamera2: still capture failed: {exc}") from exc
            self.still_delays.append(time.monotonic() - started)
        log.info(
            "still %dx%d in %.0f ms", image.shape[1], image.shape[0], self.still_delays[-1] * 1e3
        )
        return image

    def read(self) -> Frame | None:
        if self._latest is None:
            raise SourceLostError("source is not open")
        self._release_handed()
        self._handed = self._latest.take(5.0)
        return self._handed

    def _release_handed(self) -> None:
        handed, self._handed = self._handed, None
        if handed is not None:
            _release(handed)

    def close(self) -> None:
        if self._latest is not None:
            self._dropped_before += self._latest.dropped
            self._latest.stop()
            self._latest = None
        self._release_handed()
        if self._camera is not None:
            try:
                self._camera.stop()
            finally:
                self._camera.close()
                self._camera = None
