"""The eye-crop rule: the one definition of what the eye-state model sees.

Training (`training/eyes_data.py`), the crop-cutting command (`smilebooth crops`) and the
edge app all cut eyes with these functions, so the framing a model was trained on and the
framing it gets on a device can never drift apart.

A crop is a square centred on the detector's eye keypoint, of side EYE_CROP_SCALE x the
distance between the two eye keypoints, rotated so the eye line is horizontal. On a face
both eyes come out of one warp: turned level, the two crops are side by side on one strip
(their centres 1 / EYE_CROP_SCALE crop widths apart), which halves the per-face cost. The eyes
dataset's crops are cut close around the eye (the eye spans ~75 % of the crop's width);
an eye is ~0.45 x the inter-eye distance wide, so about 0.6 x that distance frames a
run-time eye the same way.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge.types import Face, Point

EYE_CROP_SIZE = 24  # pixels, square, grayscale
# Crop side / distance between the eye keypoints. 0.6 with the MediaPipe detector; YuNet's
# eye keypoints are 0.954x as far apart (median of 398 faces found by both: faces-dlib and
# near WIDER faces), so 0.63 cuts the same eye: 24 / 38, which keeps the two eyes a whole
# number of pixels apart on the strip `crop_eyes` cuts them from.
EYE_CROP_SCALE = EYE_CROP_SIZE / 38
# Without a usable eye distance (keypoints on top of each other): this x the box width.
EYE_CROP_SCALE_OF_BOX = 0.25
EYES = ("right", "left")  # the person's own right and left, as in Keypoints
MIN_EYE_DISTANCE = 1.0  # px; closer keypoints give no eye line (size from the box instead)

EYE_CROP_RULE_TEXT = (
    f"square of side {EYE_CROP_SCALE} x the distance between the detector's two eye "
    f"keypoints, centred on one eye keypoint, rotated so the eye line is horizontal, edges "
    f"replicated outside the frame, grayscale, resized to {EYE_CROP_SIZE}x{EYE_CROP_SIZE} "
    "(linear, after an area pre-shrink for big eyes); pixel values 0..255, fed as int8 = "
    "pixel - 128 (scale 1/255, zero point -128, i.e. float input pixel/255)"
)


def eye_geometry(face: Face) -> tuple[float, float] | None:
    """(crop side in pixels, eye-line angle in degrees) of a face, None without keypoints."""
    if face.keypoints is None:
        return None
    (rx, ry), (lx, ly) = face.keypoints.right_eye, face.keypoints.left_eye
    distance = math.hypot(lx - rx, ly - ry)
    if distance < MIN_EYE_DISTANCE:
        return max(4.0, EYE_CROP_SCALE_OF_BOX * face.box.width), 0.0
    # The person's right eye is on the image's left: the line runs right eye -> left eye.
    return EYE_CROP_SCALE * distance, math.degrees(math.atan2(ly - ry, lx - rx))


def crop_eye(
    gray: np.ndarray, centre: Point, side: float, angle_deg: float, size: int = EYE_CROP_SIZE
) -> np.ndarray:
    """A size x size uint8 square of `side` pixels around `centre`, turned by -angle_deg.

    One affine warp; a big eye is first area-shrunk (by a power of two) so the warp
    does not alias, which keeps large and small eyes looking alike to the model.
    """
    return _warp(gray, (centre,), side, angle_deg, size, size)


def crop_eyes(
    gray: np.ndarray, face: Face, size: int = EYE_CROP_SIZE, out: np.ndarray | None = None
) -> np.ndarray | None:
    """Both eyes of a face, (2, size, size) uint8 in EYES order, None without keypoints.

    One warp cuts the strip through both eyes (crop_eye's framing, bit for bit on the
    right eye, within rounding on the left); `out`, a (2, size, size) uint8 array, takes
    the crops without an allocation.
    """
    geometry = eye_geometry(face)
    if geometry is None or face.keypoints is None:
        return None
    side, angle = geometry
    right, left = face.keypoints.right_eye, face.keypoints.left_eye
    if out is None:
        out = np.empty((2, size, size), np.uint8)
    if math.hypot(left[0] - right[0], left[1] - right[1]) < MIN_EYE_DISTANCE:
        out[0] = out[1] = crop_eye(gray, right, side, angle, size)
        return out
    gap = round(size / EYE_CROP_SCALE)  # eye centres apart on the strip (40 px at 24)
    strip = _warp(gray, (right, left), side, angle, size, size + gap)
    out[0] = strip[:, :size]
    out[1] = strip[:, gap:]
    return out


def _warp(
    gray: np.ndarray,
    centres: tuple[Point, ...],
    side: float,
    angle_deg: float,
    size: int,
    width: int,
) -> np.ndarray:
    """A size-high, width-wide crop: centres[0] in the middle of its first size x size square.

    Big eyes are area-shrunk first (one region around all centres, by a power of two),
    so the linear warp never skips pixels.
    """
    if gray.ndim != 2:
        raise ValueError(f"crop_eye expects a 2-D gray image, got shape {gray.shape}")
    side = max(float(side), 2.0)
    cx, cy = centres[0]
    shrink = 1
    while side / (2 * shrink) >= 2 * size:
        shrink *= 2
    if shrink > 1:
        shrunk = _area_shrink(gray, centres, side * 0.75, shrink)  # 0.75: room to rotate
        if shrunk is not None:
            gray, (x1, y1) = shrunk
            # frame pixel x -> shrunk pixel (x - x1 + 0.5) / shrink - 0.5 (pixel centres)
            cx, cy = (cx - x1 + 0.5) / shrink - 0.5, (cy - y1 + 0.5) / shrink - 0.5
            side /= shrink
    return cv2.warpAffine(
        gray,
        _eye_matrix(cx, cy, side, angle_deg, size),
        (width, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _eye_matrix(cx: float, cy: float, side: float, angle_deg: float, size: int) -> np.ndarray:
    """Frame -> crop: turn by angle_deg about the eye, scale side to size, eye to the middle.

    The same arithmetic as cv2.getRotationMatrix2D (which takes the centre as float32)
    plus a shift, bit for bit, in Python floats: several times cheaper per eye.
    """
    radians = angle_deg * (math.pi / 180)
    scale = size / side
    a, b = math.cos(radians) * scale, math.sin(radians) * scale
    x32, y32 = float(np.float32(cx)), float(np.float32(cy))
    half = size / 2
    return np.array(
        [
            [a, b, ((1 - a) * x32 - b * y32) + (half - cx)],
            [-b, a, (b * x32 + (1 - a) * y32) + (half - cy)],
        ]
    )


def _area_shrink(
    gray: np.ndarray, centres: tuple[Point, ...], margin: float, shrink: int
) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The region `margin` around the centres, shrink x shrink blocks averaged, and its origin.

    The region starts on a multiple of `shrink` and spans whole blocks, so a pixel of the
    result is the same block mean wherever the eyes are. None when it leaves the frame.
    """
    height, width = gray.shape
    xs, ys = [c[0] for c in centres], [c[1] for c in centres]
    x1 = max(0, int(min(xs) - margin)) // shrink * shrink
    y1 = max(0, int(min(ys) - margin)) // shrink * shrink
    x2 = min(width, int(max(xs) + margin) + 1)
    y2 = min(height, int(max(ys) + margin) + 1)
    blocks_x, blocks_y = (x2 - x1) // shrink, (y2 - y1) // shrink
    if blocks_x < 1 or blocks_y < 1:
        return None
    region = gray[y1 : y1 + blocks_y * shrink, x1 : x1 + blocks_x * shrink]
    small = cv2.resize(region, (blocks_x, blocks_y), interpolation=cv2.INTER_AREA)
    return small, (x1, y1)
