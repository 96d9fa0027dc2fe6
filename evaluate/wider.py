"""WIDER FACE ground truth and the two evaluation protocols a booth cares about.

numpy/OpenCV only (no TensorFlow), so the tests and `smilebooth evaluate-detector` share it.

- **Near (zoom protocol)**: each unoccluded booth face at least 100 px wide is cut out in a
  4:3 crop whose height makes the face box 30, 50, 70 or 90 % of it (the photo's border
  replicated where the crop leaves it), as a face leaning towards a booth camera.
- **Groups**: whole photos of the group events, recall per face size and false detections
  (detections overlapping no labelled box at all, however small).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.types import Box

GROUP_EVENTS = ("12", "29", "49", "28", "4", "17", "11")
NEAR_SCALES = (0.3, 0.5, 0.7, 0.9)
NEAR_MIN_WIDTH = 100
CROP_ASPECT = 4 / 3  # width / height


@dataclass(frozen=True)
class WiderFace:
    box: Box
    blur: int
    occlusion: int
    pose: int
    invalid: bool

    @property
    def booth(self) -> bool:
        """A face of someone facing a booth: valid, typical pose, not heavily occluded or
        blurred (WIDER's attribute codes: 2 = heavy)."""
        return not self.invalid and self.pose == 0 and self.occlusion < 2 and self.blur < 2


@dataclass(frozen=True)
class WiderImage:
    path: Path
    event: str
    faces: tuple[WiderFace, ...]


def read_ground_truth(root: Path) -> list[WiderImage]:
    """The standard `wider_face_val_bbx_gt.txt` format, images under `root/images`."""
    gt = root / "wider_face_val_bbx_gt.txt"
    lines = gt.read_text().split("\n")
    images, at = [], 0
    while at < len(lines) and lines[at].strip():
        name = lines[at].strip()
        count = int(lines[at + 1])
        rows = lines[at + 2 : at + 2 + max(count, 1)]
        faces = []
        for row in rows[:count]:
            x, y, w, h, blur, _expr, _light, invalid, occlusion, pose = map(int, row.split())
            faces.append(WiderFace(Box(x, y, x + w, y + h), blur, occlusion, pose, bool(invalid)))
        images.append(WiderImage(root / "images" / name, name.split("--")[0], tuple(faces)))
        at += 2 + max(count, 1)
    return images


def read_image(path: Path) -> np.ndarray:
    """Decoded from bytes (cv2.imread crashes on some paths); ValueError names the file."""
    image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    return image


def near_faces(images: list[WiderImage]) -> list[tuple[WiderImage, WiderFace]]:
    return [
        (image, face)
        for image in images
        for face in image.faces
        if face.booth and face.occlusion == 0 and face.box.width >= NEAR_MIN_WIDTH
    ]


def zoom_crop(photo: np.ndarray, face: Box, fraction: float) -> tuple[np.ndarray, Box]:
    """A 4:3 crop centred on the face whose height makes the face `fraction` of it; the
    face's box in crop pixels."""
    crop_h = face.height / fraction
    crop_w = crop_h * CROP_ASPECT
    cx, cy = (face.x1 + face.x2) / 2, (face.y1 + face.y2) / 2
    x0, y0 = round(cx - crop_w / 2), round(cy - crop_h / 2)
    w, h = round(crop_w), round(crop_h)
    height, width = photo.shape[:2]
    pad = max(0, -x0, -y0, x0 + w - width, y0 + h - height)
    if pad:
        photo = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = photo[y0 + pad : y0 + pad + h, x0 + pad : x0 + pad + w]
    return crop, Box(face.x1 - x0, face.y1 - y0, face.x2 - x0, face.y2 - y0)


def near_cases(root: Path) -> Iterator[tuple[float, np.ndarray, Box]]:
    """(scale, crop, face box) for every near face at every scale."""
    cache: dict[Path, np.ndarray] = {}
    for image, face in near_faces(read_ground_truth(root)):
        if image.path not in cache:
            cache.clear()
            cache[image.path] = read_image(image.path)
        for fraction in NEAR_SCALES:
            crop, box = zoom_crop(cache[image.path], face.box, fraction)
            yield fraction, crop, box


def group_images(root: Path) -> list[WiderImage]:
    return [image for image in read_ground_truth(root) if image.event in GROUP_EVENTS]
