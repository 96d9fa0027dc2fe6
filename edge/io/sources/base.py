"""What every frame source hands the loop, and how sources fail.

A Frame carries the small image the models run on and, separately, the full-resolution
image a capture saves (on a Pi these come from the lores and main streams of the same
request), with the scale between them stated explicitly. The full image may still be in
the camera's buffer (a `Photo`): it is copied out only for a frame the loop keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import cv2
import numpy as np

from edge.types import Detail


class SourceLostError(RuntimeError):
    """The camera or stream stopped delivering (unplugged, dropped); it may come back."""


class SourceError(RuntimeError):
    """The source cannot be opened at all (wrong device, missing file, bad pipeline)."""


class PhotoError(RuntimeError):
    """A frame's full-resolution photo cannot be had (camera gone, frame already released)."""


class Photo(Protocol):
    """A frame's full-resolution image that the source produces on demand."""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image take() returns."""
        ...

    def take(self) -> np.ndarray:
        """The image (BGR); PhotoError when it cannot be had."""
        ...

    def keep(self) -> Photo:
        """A Photo that outlives the source's next read (copies out what it holds)."""
        ...

    def view(self) -> np.ndarray | None:
        """The image if it is in memory already (no copy); None when only take() has it."""
        ...


@dataclass(frozen=True)
class KeptPhoto:
    """A photo already in memory."""

    image: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    def take(self) -> np.ndarray:
        return self.image

    def keep(self) -> KeptPhoto:
        return self

    def view(self) -> np.ndarray:
        return self.take()


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR, what the models see
    index: int
    # Seconds on the frame's own clock: time.monotonic() for cameras, the position in the
    # video (or index / fps) for files, so trigger hold times mean the same on replay.
    timestamp: float
    full: np.ndarray | None = None  # BGR at full resolution, for captures; None = image
    # The full-resolution image still in the camera (picamera2): valid until the source's
    # next read unless kept; takes precedence over `full`.
    photo: Photo | None = field(default=None, compare=False)

    @property
    def capture_image(self) -> np.ndarray:
        """The photo to save; PhotoError when the source cannot produce it."""
        if self.photo is not None:
            return self.photo.take()
        return self.image if self.full is None else self.full

    @property
    def capture_size(self) -> tuple[int, int]:
        """(width, height) of capture_image, without producing it."""
        if self.photo is not None:
            return self.photo.size
        shape = self.image.shape if self.full is None else self.full.shape
        return shape[1], shape[0]

    @property
    def scale(self) -> tuple[float, float]:
        """Factors from inference-image pixels to capture-image pixels (x, y)."""
        width, height = self.capture_size
        return width / self.image.shape[1], height / self.image.shape[0]

    @property
    def detail(self) -> Detail | None:
        """The full-resolution image with its scale, where the source has it without a
        copy (a video file's decode buffer, a USB camera's frame, a Pi camera's main
        stream mapped): small faces' eyes are read there. Fetched when first needed and
        valid until the source's next read; None when there is none but the model's
        image itself, and a fetch gives None when it would take a copy or is gone."""
        photo = self.photo
        if photo is None:
            return None if self.full is None else Detail.of(self.full, self.scale)

        def fetch() -> np.ndarray | None:
            try:
                return photo.view()
            except PhotoError:
                return None

        return Detail(fetch, self.scale)

    def keep(self) -> Frame:
        """This frame, safe to hold past the source's next read: a photo still in the
        camera's buffer is copied out now (only frames the loop may save pay for it)."""
        return self if self.photo is None else replace(self, photo=self.photo.keep())


class FrameSource(Protocol):
    """A camera, stream, video file or image folder."""

    @property
    def live(self) -> bool:
        """A camera: runs until stopped, reopened when lost; a file or folder ends."""
        ...

    @property
    def bad_frames(self) -> int:
        """Frames skipped because they were empty or malformed."""
        ...

    @property
    def dropped_frames(self) -> int:
        """Frames a live camera delivered that the loop never saw (it was busy)."""
        ...

    def open(self) -> None:
        """Open or reopen; SourceError when the device cannot be opened (now)."""
        ...

    def read(self) -> Frame | None:
        """The next (for live sources: the newest) frame; None at the end of the input."""
        ...

    def close(self) -> None: ...


def valid_image(image: object) -> bool:
    """A frame worth processing: a non-empty 8-bit BGR/gray array."""
    return (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.ndim in (2, 3)
        and image.size > 0
        and min(image.shape[:2]) >= 8
        and (image.ndim == 2 or image.shape[2] in (1, 3, 4))
    )


def to_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def resize_to_width(image: np.ndarray, width: int) -> np.ndarray:
    """Downscale to a width for inference (never upscale); 0 keeps the image as it is.

    Area averaging, since the eye crops of small faces alias with bilinear sampling (a 3x
    downscale of the blink video with INTER_LINEAR misses 2 more closed-eye frames of 334).
    An odd whole factor (1920x1080 -> 640x360) is the same average computed as a box
    filter (`box_downscale`): identical pixels, 1.4 ms against 2.1 ms here."""
    if width <= 0 or image.shape[1] <= width:
        return image
    factor = image.shape[1] // width
    if factor % 2 == 1 and image.shape[1] == factor * width and image.shape[0] % factor == 0:
        return box_downscale(image, factor)
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


BOX_STRIP_ROWS = 40  # output rows blurred at a time: 120 blurred 1080p rows are 0.7 MB


def box_downscale(image: np.ndarray, factor: int) -> np.ndarray:
    """The mean of each factor x factor block (factor odd): a box filter sampled at the
    blocks' centres, whose window never leaves its block. Blurred a strip at a time, so no
    full-size blurred copy exists (6 MB at 1080p, beside the frame)."""
    height, width = image.shape[0] // factor, image.shape[1] // factor
    small = np.empty((height, width, *image.shape[2:]), image.dtype)
    centre = factor // 2
    for top in range(0, height, BOX_STRIP_ROWS):
        blurred = cv2.blur(image[top * factor : (top + BOX_STRIP_ROWS) * factor], (factor, factor))
        small[top : top + BOX_STRIP_ROWS] = blurred[centre::factor, centre::factor]
    return small
