"""The face-crop rule: the one definition of what the smile model sees.

Training, conversion and the edge app all import this module, so the crop a model was
trained on and the crop it is given on a device can never drift apart. FER2013 faces are
tightly registered 48x48 grayscale crops; on a device the crop comes from the face
detector's box, so we take a square around that box, expanded by a fixed factor, and
training augments shift/scale/rotation around it to absorb the detector's framing.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.types import Box, Detail

CROP_SIZE = 48  # pixels, square, grayscale
# Measured by putting 400 FER+ Test faces, scaled up, into frames and running the shipped
# detector on them (`python -m evaluate.crop_fit`): a FER2013 crop is 0.985x the YuNet
# box's longer side (median of 361 found; quartiles 0.89-1.06, which training's scale
# augmentation covers) and its centre sits 0.013 box heights above the box centre. (With
# the MediaPipe detector before it, whose box is wider and shorter: 1.13x and 0.06.)
CROP_EXPANSION = 0.985
CROP_CENTER_SHIFT_Y = -0.013

CROP_RULE_TEXT = (
    f"square of side {CROP_EXPANSION} x max(box width, box height) centred on the detector "
    f"box (centre moved {abs(CROP_CENTER_SHIFT_Y)} x box height "
    f"{'up' if CROP_CENTER_SHIFT_Y < 0 else 'down'}), edges replicated outside the "
    f"frame, converted to grayscale, resized to {CROP_SIZE}x{CROP_SIZE} with area "
    "interpolation; pixel values 0..255, fed as int8 = pixel - 128 (scale 1/255, "
    "zero point -128, i.e. float input pixel/255)"
)


def model_input(crops: np.ndarray) -> np.ndarray:
    """uint8 crops as the smile and eye models take them, float pixel/255 (CROP_RULE_TEXT):
    the one place that says so, for the edge models and the converters' calibration."""
    return crops.astype(np.float32) / 255.0


def to_gray(frame: np.ndarray) -> np.ndarray:
    """BGR/BGRA/gray frame -> 2-D uint8 gray."""
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0]
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"expected a gray, BGR or BGRA image, got shape {frame.shape}")


def crop_square(box: Box) -> Box:
    """The square region (possibly partly outside the frame) that the crop rule takes."""
    side = max(box.width, box.height) * CROP_EXPANSION
    cx, cy = box.center
    cy += CROP_CENTER_SHIFT_Y * box.height
    half = side / 2.0
    return Box(cx - half, cy - half, cx + half, cy + half)


def crop_face(gray: np.ndarray, box: Box, size: int = CROP_SIZE) -> np.ndarray:
    """Cut the model's input crop (size x size uint8) for one detected face.

    Uses one affine warp, so the cost does not depend on the face size and regions that
    stick out of the frame are filled by replicating the edge (as at training time).
    """
    if gray.ndim != 2:
        raise ValueError(f"crop_face expects a 2-D gray image, got shape {gray.shape}")
    square = crop_square(box)
    side = max(square.width, 1.0)
    scale = size / side
    matrix = np.array(
        [[scale, 0.0, -square.x1 * scale], [0.0, scale, -square.y1 * scale]], dtype=np.float64
    )
    if scale < 1.0:
        # Shrinking: average pixels (area) so small crops of big faces do not alias.
        return _crop_by_resize(gray, square, size)
    return cv2.warpAffine(
        gray, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _crop_by_resize(gray: np.ndarray, square: Box, size: int) -> np.ndarray:
    """Area-averaged crop for faces much larger than the crop, edges replicated."""
    height, width = gray.shape
    x1, y1 = round(square.x1), round(square.y1)
    x2, y2 = round(square.x2), round(square.y2)
    pad_left, pad_top = max(0, -x1), max(0, -y1)
    pad_right, pad_bottom = max(0, x2 - width), max(0, y2 - height)
    region = gray[max(0, y1) : min(height, y2), max(0, x1) : min(width, x2)]
    if region.size == 0:
        return np.zeros((size, size), np.uint8)
    if pad_left or pad_top or pad_right or pad_bottom:
        region = cv2.copyMakeBorder(
            region, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE
        )
    return cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA)


def crop_face_in_detail(detail: Detail, box: Box, size: int = CROP_SIZE) -> np.ndarray | None:
    """The smile crop cut from the full-resolution frame, for a face whose crop would be
    enlarged from the model's frame; None when that frame holds it well enough already.

    A face 30 px high in a 640 px view is 90 px in the camera's 1920 px frame: cut there
    and shrunk to the crop, its mouth keeps the detail that enlarging 30 px loses. Only the
    crop's square is converted to gray."""
    sx, sy = detail.scale
    if max(sx, sy) <= 1.0 or crop_square(box).width >= size:
        return None
    image = detail.fetch()
    if image is None:
        return None
    big = box.scale(sx, sy)
    square = crop_square(big)
    height, width = image.shape[:2]
    x1, y1 = max(0, int(square.x1) - 1), max(0, int(square.y1) - 1)
    x2, y2 = min(width, int(square.x2) + 2), min(height, int(square.y2) + 2)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    region = to_gray(image[y1:y2, x1:x2])
    local = Box(big.x1 - x1, big.y1 - y1, big.x2 - x1, big.y2 - y1)
    return crop_face(np.ascontiguousarray(region), local, size)
