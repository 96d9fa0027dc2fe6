"""Draw a FrameResult on its image: boxes, keypoints, the face mesh (where eyes are read
from one), smile class, eyes and group score."""

from __future__ import annotations

import cv2
import numpy as np

from edge.perception.face_mesh import IRISES, MESH_OUTLINES
from edge.types import Box, FrameResult, MeshResult

SMILING = (60, 200, 60)
NOT_SMILING = (40, 140, 255)
MESH_COLOR = (230, 230, 60)


def annotate(frame_bgr: np.ndarray, result: FrameResult) -> np.ndarray:
    """A copy of the frame with the results drawn; line widths scale with the image."""
    image = frame_bgr.copy() if frame_bgr.ndim == 3 else cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
    thickness = max(1, round(max(image.shape[:2]) / 400))
    font = 0.4 + max(image.shape[:2]) / 2000
    labels = []
    for face in result.faces:
        box = face.face.box
        color = SMILING if face.smiling else NOT_SMILING
        top_left = (round(box.x1), round(box.y1))
        cv2.rectangle(image, top_left, (round(box.x2), round(box.y2)), color, thickness)
        if face.mesh is not None:
            draw_mesh(image, face.mesh, max(1, thickness - 1))
        if face.face.keypoints is not None:
            for x, y in face.face.keypoints.as_tuple():
                cv2.circle(image, (round(x), round(y)), thickness + 1, (255, 200, 0), -1)
        smile = face.smile
        text = f"{smile.intensity_class} {smile.smile_probability:.2f} eyes {face.eyes_open}"
        labels.append((text, color, box))
    score = result.group.score
    headline = (
        "no face" if score is None else f"group {score:.2f} ({result.group.face_count} faces)"
    )
    origin = (8, int(24 * font / 0.5))
    head_width = _text_size(headline, font * 1.2, thickness + 1)[0]
    headline_rect = (0, 0, origin[0] + head_width + 4, origin[1] + int(12 * font))  # kept clear
    sizes = [_text_size(text, font, thickness) for text, _, _ in labels]
    spots = place_labels([b for _, _, b in labels], sizes, image.shape[:2], [headline_rect])
    for (text, color, _), (width, height), (x, y) in zip(labels, sizes, spots, strict=True):
        pad = thickness + 1
        cv2.rectangle(image, (x - pad, y - height - pad), (x + width + pad, y + pad), (0, 0, 0), -1)
        cv2.putText(
            image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, font, color, thickness, cv2.LINE_AA
        )
    cv2.putText(
        image,
        headline,
        origin,
        cv2.FONT_HERSHEY_SIMPLEX,
        font * 1.2,
        (255, 255, 255),
        thickness + 1,
        cv2.LINE_AA,
    )
    return image


Rect = tuple[int, int, int, int]  # x1, y1, x2, y2


def _text_size(text: str, font: float, thickness: int) -> tuple[int, int]:
    (width, height), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font, thickness)
    return int(width), int(height)


def place_labels(
    boxes: list[Box],
    sizes: list[tuple[int, int]],
    shape: tuple[int, int],
    reserved: list[Rect] | None = None,
) -> list[tuple[int, int]]:
    """Each label's text origin (its baseline's left end): above its face's box, else
    below it, else stacked further above: the first spot in the image that clears the
    labels already placed and the other faces, else the first that clears the labels; so
    a big group's labels neither print over each other (nor the `reserved` areas) nor,
    where there is room, a face."""
    height_px, width_px = shape
    faces = [(round(b.x1), round(b.y1), round(b.x2), round(b.y2)) for b in boxes]
    placed: list[Rect] = list(reserved or [])
    spots: list[tuple[int, int]] = []
    gap = 4
    for index, (box, (width, height)) in enumerate(zip(boxes, sizes, strict=True)):
        x = min(max(0, round(box.x1)), max(0, width_px - width))
        above, below = round(box.y1) - gap, round(box.y2) + height + gap
        tries = [above, below, *(above - k * (height + gap) for k in range(1, 4))]
        fits = [y for y in tries if height <= y <= height_px]
        others = placed + faces[:index] + faces[index + 1 :]
        free = [y for y in fits if _clear((x, y - height, x + width, y), others)]
        free += [y for y in fits if _clear((x, y - height, x + width, y), placed)]
        spot = free[0] if free else fits[0] if fits else min(max(height, above), height_px)
        placed.append((x, spot - height, x + width, spot))
        spots.append((x, spot))
    return spots


def _clear(rect: Rect, placed: list[Rect]) -> bool:
    """True when rect overlaps none of the placed rects."""
    return not any(
        rect[0] < other[2] and other[0] < rect[2] and rect[1] < other[3] and other[1] < rect[3]
        for other in placed
    )


def draw_mesh(image: np.ndarray, mesh: MeshResult, thickness: int) -> None:
    """Eyes, eyebrows, nose and lips of a face mesh, and the irises' centres, in place."""
    for path in MESH_OUTLINES.values():
        points = np.round(mesh.points[list(path)]).astype(np.int32)
        cv2.polylines(image, [points], False, MESH_COLOR, thickness, cv2.LINE_AA)
    for index in IRISES:
        x, y = mesh.points[index]
        cv2.circle(image, (round(float(x)), round(float(y))), thickness, MESH_COLOR, -1)
