"""The `source` section of config.yaml: which camera, stream, file or folder to read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class SourceConfig:
    """Where frames come from; `type` picks the source."""

    type: Literal["opencv", "images", "picamera2"] = field(
        default="opencv",
        metadata={
            "doc": "opencv: USB/V4L2 device, URL, GStreamer pipeline or video file; "
            "images: a folder; picamera2: a Raspberry Pi camera"
        },
    )
    device: str = field(
        default="0",
        metadata={
            "doc": "opencv: device index or path, rtsp/http URL, video file, or a "
            "GStreamer pipeline ending in appsink"
        },
    )
    folder: str = field(default="", metadata={"doc": "images: the folder to replay"})
    fps: float = field(
        default=0.0, metadata={"doc": "images: replay rate (0 = as fast as possible)", "min": 0}
    )
    repeat: int = field(default=1, metadata={"doc": "images: times to replay the folder", "min": 1})
    width: int = field(
        default=640,
        metadata={
            "doc": "width the models see (frames are downscaled, captures keep full "
            "resolution); 0 = as delivered",
            "min": 0,
        },
    )
    capture_size: tuple[int, int] = field(
        default=(1920, 1080),
        metadata={
            "doc": "opencv cameras (index or /dev/video*): size to request; the photo is "
            "saved at it. [0, 0] = the driver's default (often 640x480)"
        },
    )
    capture_fps: float = field(
        default=30.0,
        metadata={"doc": "opencv cameras: frame rate to request (0 = driver default)", "min": 0},
    )
    fourcc: str = field(
        default="MJPG",
        metadata={
            "doc": "opencv cameras: pixel format to request, 4 characters; UVC cameras "
            "need MJPG for 720p/1080p at 30 fps ('' = driver default, e.g. YUYV)"
        },
    )
    main_size: tuple[int, int] = field(
        default=(1920, 1080), metadata={"doc": "picamera2: main (capture) stream size"}
    )
    lores_size: tuple[int, int] = field(
        default=(640, 360),
        metadata={"doc": "picamera2: lores (inference) stream size, never larger than main"},
    )
    transform: Literal["none", "hflip", "vflip", "rotate180"] = field(
        default="none",
        metadata={
            "doc": "picamera2: mirror (hflip), upside down (vflip) or rotate180 for a camera "
            "mounted that way; done by the ISP, no CPU cost"
        },
    )
    af_mode: Literal["continuous", "auto", "manual"] = field(
        default="continuous",
        metadata={
            "doc": "picamera2: autofocus of cameras that have it (Camera Module 3 starts in "
            "manual, fixed focus, unless told); ignored by fixed-focus cameras"
        },
    )
    frame_duration_limits_us: tuple[int, int] = field(
        default=(33333, 66666),
        metadata={
            "doc": "picamera2: shortest and longest frame time (us); the longest caps the "
            "exposure: the video default 33333 (1/30 s) makes indoor photos dark and noisy"
        },
    )
    noise_reduction: Literal["off", "fast", "high_quality"] = field(
        default="high_quality",
        metadata={"doc": "picamera2: ISP denoise (video configurations default to fast)"},
    )
    controls: dict[str, float] = field(
        default_factory=dict,
        metadata={
            "doc": "picamera2: further libcamera controls by name, e.g. {Sharpness: 1.5, "
            "ExposureValue: 0.5}; ones the camera lacks are named in a warning"
        },
    )
    still: bool = field(
        default=False,
        metadata={
            "doc": "picamera2: take each photo as a new still at still_size when the burst "
            "closes (a mode switch and back: 0.3 s on the test look-alike, more on a Pi, no "
            "frames scored meanwhile) instead of the main stream of the scored frame"
        },
    )
    still_size: tuple[int, int] = field(
        default=(0, 0),
        metadata={"doc": "picamera2 with still: true: photo size; [0, 0] = the full sensor"},
    )
    reopen_initial_s: float = field(
        default=0.5, metadata={"doc": "first wait before reopening a lost camera", "min": 0}
    )
    reopen_max_s: float = field(
        default=30.0, metadata={"doc": "longest wait between reopen attempts", "min": 0}
    )
    open_timeout_s: float = field(
        default=10.0,
        metadata={
            "doc": "opencv rtsp/http streams: longest wait to open, and for a frame (a "
            "server that accepts and never answers is given up on after it)",
            "min": 0.5,
            "max": 300,
        },
    )

    def validate(self) -> None:
        if self.fourcc and len(self.fourcc) != 4:
            raise ValueError(f"fourcc must be 4 characters (e.g. MJPG, YUYV), got {self.fourcc!r}")
        for name in ("capture_size", "still_size"):
            size = getattr(self, name)
            if min(size) < 0 or (0 in size and any(size)):
                raise ValueError(f"{name} must be [width, height] or [0, 0], got {list(size)}")
        if self.type == "images" and not self.folder:
            raise ValueError("type images needs `folder`")
        if any(lo > m for lo, m in zip(self.lores_size, self.main_size, strict=True)):
            raise ValueError(
                f"lores_size {self.lores_size} is larger than main_size {self.main_size}"
            )
        shortest, longest = self.frame_duration_limits_us
        if not 0 < shortest <= longest:
            raise ValueError(
                f"frame_duration_limits_us {self.frame_duration_limits_us}: expected "
                "0 < shortest <= longest"
            )
        if self.reopen_initial_s > self.reopen_max_s:
            raise ValueError("reopen_initial_s is larger than reopen_max_s")
