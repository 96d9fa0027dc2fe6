"""The eye-crop rule: the one definition of what the eye-state model sees.

Training (`training/eyes_data.py`), the crop-cutting command (`smilebooth crops`) and the
edge app all cut eyes with these functions, so the framing a model was trained on and the
framing it gets on a device can never drift apart.

A crop is a square centred on the detector's eye keypoint, of side EYE_CROP_SCALE x the
distance between the two eye keypoints, rotated so the eye line is horizontal. The eyes
dataset's crops are cut close around the eye (the eye spans ~75 % of the crop's width);
an eye is ~0.45 x the inter-eye distance wide, so 0.6 x that distance frames a run-time
eye the same way.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge.types import Face, Point

EYE_CROP_SIZE = 24  # pixels, square, grayscale
EYE_CROP_SCALE = 0.6  # crop side / distance between the eye keypoints
# Without a usable eye distance (keypoints on top of each other): this x the box width.
EYE_CROP_SCALE_OF_BOX = 0.25
EYES = ("right", "left")  # the person's own right and left, as in Keypoints

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
    if distance < 1.0:
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
    if gray.ndim != 2:
        raise ValueError(f"crop_eye expects a 2-D gray image, got shape {gray.shape}")
    side = max(float(side), 2.0)
    cx, cy = centre
    shrink = 1
    while side / (2 * shrink) >= 2 * size:
        shrink *= 2
    if shrink > 1:
        gray, cx, cy, side = _area_shrink(gray, (cx, cy), side, shrink)
    matrix = cv2.getRotationMatrix2D((cx, cy), angle_deg, size / side)
    matrix[0, 2] += size / 2 - cx
    matrix[1, 2] += size / 2 - cy
    return cv2.warpAffine(
        gray, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _area_shrink(
    gray: np.ndarray, centre: Point, side: float, shrink: int
) -> tuple[np.ndarray, float, float, float]:
    """The region around the eye (with margin for rotation), shrunk `shrink` times."""
    height, width = gray.shape
    half = side * 0.75  # covers the rotated square (side x sqrt(2) / 2)
    x1, y1 = max(0, int(centre[0] - half)), max(0, int(centre[1] - half))
    x2, y2 = min(width, int(centre[0] + half) + 1), min(height, int(centre[1] + half) + 1)
    region = gray[y1:y2, x1:x2]
    if region.size == 0 or min(region.shape) < shrink:
        return gray, centre[0], centre[1], side
    small = cv2.resize(
        region,
        (max(1, region.shape[1] // shrink), max(1, region.shape[0] // shrink)),
        interpolation=cv2.INTER_AREA,
    )
    sx, sy = small.shape[1] / region.shape[1], small.shape[0] / region.shape[0]
    return small, (centre[0] - x1) * sx, (centre[1] - y1) * sy, side * sx


def crop_eyes(gray: np.ndarray, face: Face, size: int = EYE_CROP_SIZE) -> np.ndarray | None:
    """Both eyes of a face, (2, size, size) uint8 in EYES order, None without keypoints."""
    geometry = eye_geometry(face)
    if geometry is None or face.keypoints is None:
        return None
    side, angle = geometry
    points = (face.keypoints.right_eye, face.keypoints.left_eye)
    return np.stack([crop_eye(gray, point, side, angle, size) for point in points])
