"""OpenCV capture: USB/V4L2 cameras, RTSP/HTTP streams, GStreamer pipelines, video files.

Cameras and streams are live: read on a thread that keeps the newest frame. Video files
are read in order, every frame, and end at their end: decoded one frame ahead on a thread
(read_ahead.py), by FFmpeg with one decoding thread (the reader already runs beside the
loop; a second decoding thread holds 8 MB more at 1080p for no faster a loop).

A camera (device index or /dev node) is asked for `fourcc`, `capture_size` and
`capture_fps` before the first read, in that order: V4L2 picks the sizes a format offers,
so asking for 1920x1080 while still in YUYV lands on a smaller size. The values are read
back, and a camera that ignored one is named in a warning (with what it gave instead).
Streams and pipelines are left alone: their format is set by the far end or the pipeline.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge.config.source import SourceConfig
from edge.io.exif import CameraInfo
from edge.io.sources.base import (
    Frame,
    KeptPhoto,
    SourceError,
    SourceLostError,
    resize_to_width,
    to_bgr,
    valid_image,
)
from edge.io.sources.latest import LatestFrame
from edge.io.sources.read_ahead import DecodeBuffer, Decoded, ReadAhead

log = logging.getLogger(__name__)
LIVE_TIMEOUT_S = 5.0
# How long close() waits for a live reader: one frame of any camera is far less; a reader
# still in a read after it is stuck on a stalled stream (left to finish, never released
# under it), and the loop must not stop pinging the watchdog or hold a SIGTERM for it.
READER_JOIN_S = 0.5
DECODER_THREADS = 1  # FFmpeg's, for video files


@dataclass(frozen=True)
class DecodedPhoto(KeptPhoto):
    """A video file's full-size frame, still in a decode buffer the reader reuses: copied
    out only for a frame the loop keeps (a 1080p frame is 6 MB a read otherwise). After
    the next read, take() and keep() raise PhotoError instead of returning a later frame."""

    buffer: DecodeBuffer = field(compare=False)
    returns: int  # the buffer's hand-back count when this frame was decoded into it

    def take(self) -> np.ndarray:
        self.buffer.check(self.returns)
        return self.image

    def keep(self) -> KeptPhoto:
        return KeptPhoto(self.take().copy())


def fourcc_text(code: float) -> str:
    """CAP_PROP_FOURCC's number as its 4 characters ('' for none)."""
    value = int(code)
    text = "".join(chr((value >> (8 * i)) & 0xFF) for i in range(4))
    return text if value and text.isprintable() else ""


def apply_camera_settings(capture: cv2.VideoCapture, config: SourceConfig) -> dict[str, object]:
    """Request FOURCC, then size, then fps; read each back; warn for each one ignored.

    Returns what the camera reports, {"fourcc", "size", "fps"}, for the log and the tests.
    """
    if config.fourcc:
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*config.fourcc))
    width, height = config.capture_size
    if width and height:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    if config.capture_fps:
        capture.set(cv2.CAP_PROP_FPS, config.capture_fps)
    fourcc = fourcc_text(capture.get(cv2.CAP_PROP_FOURCC))
    size = (
        round(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        round(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
    )
    fps = round(capture.get(cv2.CAP_PROP_FPS), 2)
    ignored = []
    if config.fourcc and fourcc.upper() != config.fourcc.upper():
        ignored.append(f"fourcc {config.fourcc} (got {fourcc or 'unknown'})")
    if width and height and size != (width, height):
        ignored.append(f"capture_size {width}x{height} (got {size[0]}x{size[1]})")
    if config.capture_fps and abs(fps - config.capture_fps) > 0.5:
        ignored.append(f"capture_fps {config.capture_fps:g} (got {fps:g})")
    if ignored:
        log.warning(
            "camera %r ignored %s; photos are saved at what it delivers "
            "(v4l2-ctl --list-formats-ext lists what it offers)",
            config.device,
            ", ".join(ignored),
        )
    return {"fourcc": fourcc, "size": size, "fps": fps}


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


def v4l2_camera(device: str, sysfs: Path = Path("/sys/class/video4linux")) -> CameraInfo | None:
    """A USB camera's name as the kernel reports it (the photos' EXIF Model); None for
    anything else (a file, a stream, a machine without the V4L2 node)."""
    name = f"video{device}" if device.isdigit() else Path(device).name
    if not re.fullmatch(r"video\d+", name):
        return None
    try:
        model = (sysfs / name / "name").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return CameraInfo(model=model) if model else None


PLUGGED_IN = "is the USB camera plugged in? `ls /dev/video*` lists the cameras"


def quiet_opencv() -> None:
    """OpenCV prints its own lines past our logging (`[ WARN:0@0.156] global cap_v4l.cpp:914
    open VIDEOIO(V4L2:/dev/video0): can't open camera by index`, one per backend tried);
    the source says what went wrong in the booth's words instead, so OpenCV keeps only its
    errors, and its warnings too under -v."""
    debug = logging.getLogger().isEnabledFor(logging.DEBUG)
    levels = cv2.utils.logging
    levels.setLogLevel(levels.LOG_LEVEL_WARNING if debug else levels.LOG_LEVEL_ERROR)


def camera_missing(device: str) -> str:
    """Why camera `device` (an index or a /dev node) did not open, for the operator."""
    node = Path(f"/dev/video{device}" if device.isdigit() else device)
    if not Path("/dev").is_dir():  # not Linux: indexes only, nothing to look at
        return f"no camera {device} could be opened (is it plugged in? source.device picks one)"
    if not node.exists():
        return f"no camera at {node} ({PLUGGED_IN}; source.device picks one)"
    return (
        f"camera {node} is there but cannot be opened: another program may be using it, or "
        "this user may not be in the video group"
    )


class OpenCVSource:
    def __init__(self, config: SourceConfig, live: bool | None = None) -> None:
        """`live` overrides what the device string implies (tests replay a file as a camera)."""
        self.config = config
        self.target, self.api, implied = describe(config.device)
        self.live = implied if live is None else live
        self.bad_frames = 0
        self._capture: cv2.VideoCapture | None = None
        self._latest: LatestFrame | None = None  # a live source's reader
        self._ahead: ReadAhead | None = None  # a file's reader
        self._index = 0
        self._dropped_before = 0
        self.camera: CameraInfo | None = None  # a USB camera's name (the photos' EXIF)
        # Set by the loop to its stop event's is_set: a stream that stalls must not hold a
        # SIGTERM for LIVE_TIMEOUT_S.
        self.should_stop: Callable[[], bool] = lambda: False

    @property
    def dropped_frames(self) -> int:
        return self._dropped_before + (self._latest.dropped if self._latest else 0)

    def open(self) -> None:
        quiet_opencv()
        camera = self.live and self.api in (cv2.CAP_ANY, cv2.CAP_V4L2)  # an index or /dev node
        local = isinstance(self.target, str) and "://" not in self.target and "!" not in self.target
        if local and not Path(str(self.target)).exists():  # a missing file or unplugged /dev node
            where = f" ({PLUGGED_IN})" if camera else ""
            raise SourceError(f"not found: {self.target}{where}")
        capture = self._open_capture()
        if not capture.isOpened():
            capture.release()
            if camera:
                raise SourceError(camera_missing(self.config.device))
            hint = " (is OpenCV built with GStreamer?)" if self.api == cv2.CAP_GSTREAMER else ""
            raise SourceError(f"cannot open {self.config.device!r}{hint}")
        self._capture = capture
        self.camera = v4l2_camera(self.config.device) if self.api != cv2.CAP_FFMPEG else None
        self.settings: dict[str, object] = {}
        if self.live and self.api not in (cv2.CAP_GSTREAMER, cv2.CAP_FFMPEG):
            self.settings = apply_camera_settings(capture, self.config)
        if self.live:
            self._latest = LatestFrame(self._grab, str(self.config.device))
            self._latest.start()
        else:
            self._ahead = ReadAhead(self._decode, str(self.config.device))
        log.info(
            "opened %s (%s)%s",
            self.config.device,
            "live" if self.live else "file",
            f": {self.settings}" if self.settings else "",
        )

    def _open_capture(self) -> cv2.VideoCapture:
        """The device; a file through FFmpeg with DECODER_THREADS, or through whichever
        backend reads it if FFmpeg cannot (an OpenCV built without it)."""
        if not self.live:
            params = [cv2.CAP_PROP_N_THREADS, DECODER_THREADS]
            capture = cv2.VideoCapture(str(self.target), cv2.CAP_FFMPEG, params)
            if capture.isOpened():
                return capture
            capture.release()
        if self.api == cv2.CAP_FFMPEG:  # a stream: FFmpeg's own wait is ~30 s, or forever
            timeout_ms = round(self.config.open_timeout_s * 1000)
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms]
            params += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
            return cv2.VideoCapture(str(self.target), cv2.CAP_FFMPEG, params)
        return cv2.VideoCapture(self.target, self.api)  # type: ignore[call-overload]

    def _grab(self) -> Frame | None:
        """A live device's next frame, a new array each (it crosses to the loop's thread);
        None for a bad one (counted), SourceLostError on loss."""
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
        return Frame(small, self._index - 1, time.monotonic(), None if small is full else full)

    def _decode(self, buffer: DecodeBuffer) -> Decoded | None:
        """A file's next frame (on the reader thread), in `buffer`; None at the end."""
        capture = self._capture
        if capture is None or not capture.grab():
            return None
        ok, image = capture.retrieve(buffer.array)
        buffer.array = image if ok and valid_image(image) else None
        # Files run on the video's own clock, so replays decide the same at any speed.
        stamp = capture.get(cv2.CAP_PROP_POS_MSEC) / 1e3
        return Decoded(buffer.array, stamp, buffer)

    def _read_file(self, ahead: ReadAhead) -> Frame | None:
        """The next good frame of the file, downscaled here; None at its end."""
        while (decoded := ahead.take()) is not None:
            if decoded.image is None:
                self.bad_frames += 1
                continue
            return self._file_frame(decoded.image, decoded)
        return None

    def _file_frame(self, image: np.ndarray, decoded: Decoded) -> Frame:
        """The loop's frame of a decoded image, its full size left in the decode buffer
        when the loop sees only the downscaled copy."""
        full = to_bgr(image)
        small = resize_to_width(full, self.config.width)
        self._index += 1
        index, stamp, buffer = self._index - 1, decoded.timestamp, decoded.buffer
        if small is full:  # the loop sees the decoded array itself: it is the frame's own
            buffer.array = None
            return Frame(small, index, stamp)
        if full is not image:
            return Frame(small, index, stamp, full)
        return Frame(small, index, stamp, photo=DecodedPhoto(image, buffer, buffer.returns))

    def read(self) -> Frame | None:
        if self._capture is None:
            raise SourceLostError("source is not open")
        if self._latest is not None:
            return self._latest.take(LIVE_TIMEOUT_S, self.should_stop)
        assert self._ahead is not None
        return self._read_file(self._ahead)

    def close(self) -> None:
        stopped = True  # False: a reader is still blocked in a read of the capture
        if self._latest is not None:
            self._dropped_before += self._latest.dropped
            stopped = self._latest.stop(READER_JOIN_S)
            self._latest = None
        if self._ahead is not None:
            stopped = self._ahead.stop()
            self._ahead = None
        capture, self._capture = self._capture, None
        if not stopped:
            # Releasing under a blocked read() can crash OpenCV: let the reader drop the
            # last reference when its read returns.
            log.warning("reader of %r still blocked; not releasing it", self.config.device)
        elif capture is not None:
            capture.release()
