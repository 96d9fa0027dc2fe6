"""The operator's live view at any group size: a numbered marker per face, details in a list.

Text over a picture of 24 faces is a wall of overlapping words, so the picture carries only
a thin box and a small numbered disc per face; the numbers match the list beside the picture
(the now panel's `per_face`). Each disc is placed by `place_markers` so no two overlap and
all stay inside the picture: above the face if there is room, else the nearest free spot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.decide.explain import face_ready
from edge.types import Box, SmoothedFace

READY = (90, 200, 70)  # BGR: smiling, eyes open
NOT_SMILING = (40, 160, 255)
EYES_CLOSED = (230, 170, 60)
HOLDING_BACK = (60, 60, 230)  # the face the booth waits on


@dataclass(frozen=True)
class Rect:
    x1: float
    y1: float
    x2: float
    y2: float

    def overlaps(self, other: Rect) -> bool:
        across = self.x1 < other.x2 and other.x1 < self.x2
        return across and self.y1 < other.y2 and other.y1 < self.y2


def face_numbers(counted: Sequence[SmoothedFace]) -> dict[int, int]:
    """track id -> the number shown on the picture and in the list (1, 2, ...)."""
    return {face.track_id: index + 1 for index, face in enumerate(counted)}


def marker_radius(width: int, height: int) -> int:
    return max(9, round(max(width, height) / 60))


def place_markers(boxes: Sequence[Box], radius: int, width: int, height: int) -> list[Rect]:
    """One square (the disc's bounds) per box, none overlapping, all inside the picture."""
    placed: list[Rect] = []
    side = 2 * radius
    for box in boxes:
        cx = (box.x1 + box.x2) / 2
        preferred = [
            (cx, box.y1 - radius - 2),  # above the face
            (cx, box.y2 + radius + 2),  # below it
            (box.x1 - radius - 2, (box.y1 + box.y2) / 2),  # left
            (box.x2 + radius + 2, (box.y1 + box.y2) / 2),  # right
        ]
        spot = _first_free(preferred, placed, radius, width, height)
        if spot is None:  # rings around the spot above the face, nearest first
            around = [
                (preferred[0][0] + dx * side, preferred[0][1] + dy * side)
                for ring in range(1, max(width, height) // side + 1)
                for dx, dy in _ring(ring)
            ]
            spot = _first_free(around, placed, radius, width, height)
        if spot is None:  # more discs than the picture holds: overlap rather than vanish
            spot = _inside(preferred[0], radius, width, height)
        placed.append(Rect(spot[0] - radius, spot[1] - radius, spot[0] + radius, spot[1] + radius))
    return placed


def draw_markers(
    image: np.ndarray,
    boxes: Sequence[Box],
    faces: Sequence[SmoothedFace | None],
    numbers: Sequence[int],
    holding_back: int | None,
) -> list[Rect]:
    """Boxes and numbered discs on `image` (in place); the discs' squares, for checking."""
    height, width = image.shape[:2]
    radius = marker_radius(width, height)
    rects = place_markers(boxes, radius, width, height)
    thickness = max(1, round(max(width, height) / 500))
    font = radius / 22
    for box, face, number, rect in zip(boxes, faces, numbers, rects, strict=True):
        color = _color(face, number == holding_back)
        cv2.rectangle(
            image,
            (round(box.x1), round(box.y1)),
            (round(box.x2), round(box.y2)),
            color,
            thickness * (3 if number == holding_back else 1),
        )
        centre = (round((rect.x1 + rect.x2) / 2), round((rect.y1 + rect.y2) / 2))
        cv2.circle(image, centre, radius, color, -1, cv2.LINE_AA)
        text = str(number)
        (text_w, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font, thickness + 1)
        origin = (centre[0] - text_w // 2, centre[1] + text_h // 2)
        ink = (0, 0, 0)
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, font, ink, thickness + 1)
    return rects


def _color(face: SmoothedFace | None, holding_back: bool) -> tuple[int, int, int]:
    if holding_back:
        return HOLDING_BACK
    if face is None:
        return NOT_SMILING
    smiling, eyes_open = face_ready(face)
    if not smiling:
        return NOT_SMILING
    return READY if eyes_open else EYES_CLOSED


def _ring(ring: int) -> list[tuple[int, int]]:
    """The cells at distance `ring` (in disc widths) around a centre, nearest first."""
    cells = [
        (dx, dy)
        for dx in range(-ring, ring + 1)
        for dy in range(-ring, ring + 1)
        if max(abs(dx), abs(dy)) == ring
    ]
    return sorted(cells, key=lambda cell: (cell[0] ** 2 + cell[1] ** 2, cell))


def _inside(spot: tuple[float, float], radius: int, width: int, height: int) -> tuple[float, float]:
    x = min(max(spot[0], radius), width - radius)
    y = min(max(spot[1], radius), height - radius)
    return x, y


Spot = tuple[float, float]


def _first_free(
    spots: Sequence[Spot], placed: Sequence[Rect], radius: int, width: int, height: int
) -> Spot | None:
    for spot in spots:
        x, y = _inside(spot, radius, width, height)
        candidate = Rect(x - radius, y - radius, x + radius, y + radius)
        if not any(candidate.overlaps(other) for other in placed):
            return x, y
    return None
