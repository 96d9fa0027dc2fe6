"""The live loop's eye readings (eyes.every): each tracked face read every N frames, with
three exceptions that keep the shutter honest.

- A face whose last reading said "closed" is read again on the very next frame: a false
  "closed" never holds the shutter for more than one frame.
- While the trigger holds or bursts (`urgent`), every face is read on every frame: a real
  blink is never the kept photo.
- A new face (no earlier box with IoU >= 0.5) is read at once; faces take turns so the
  cost is spread evenly over frames.
Between readings a face keeps its last (eyes_open, openness, mesh), the mesh moved with
the face's box so drawings stay on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.perception.face_match import same_face
from edge.types import Box, MeshResult

EyeReading = tuple[int, Any, MeshResult | None]  # eyes_open, per-eye values, mesh


@dataclass(frozen=True)
class _Kept:
    box: Box
    reading: EyeReading
    age: int


def moved_mesh(mesh: MeshResult | None, before: Box, after: Box) -> MeshResult | None:
    """The mesh shifted and scaled from one box to the next (a kept reading's drawing)."""
    if mesh is None or before.width <= 0 or before.height <= 0:
        return mesh
    scale = np.array([after.width / before.width, after.height / before.height], np.float32)
    origin = np.array([before.x1, before.y1], np.float32)
    target = np.array([after.x1, after.y1], np.float32)
    return dataclasses.replace(mesh, points=(mesh.points - origin) * scale + target)


class EyeSchedule:
    """Reads a frame's eyes where due and keeps the last reading elsewhere."""

    def __init__(self, every: int = 1) -> None:
        self.every = every
        self.urgent = False  # set by the loop while the trigger holds or bursts
        self._last: list[_Kept] = []
        self.read = self.kept = 0  # readings made and kept so far, for the bench

    def eyes(self, boxes: Sequence[Box], read: Callable[[int], EyeReading]) -> list[EyeReading]:
        """Each face's eye reading: `read(i)` for face i where due, else its kept one."""
        free = list(self._last)
        kept: list[_Kept] = []
        new = 0
        for index, box in enumerate(boxes):
            last = same_face(free, box)
            if last is not None:
                free.remove(last)
            due = (
                self.urgent
                or last is None
                or last.reading[0] == 0  # read closed: look again now
                or last.age + 1 >= self.every
            )
            if not due and last is not None:
                eyes_open, values, mesh = last.reading
                reading = (eyes_open, values, moved_mesh(mesh, last.box, box))
                kept.append(_Kept(box, reading, last.age + 1))
                self.kept += 1
                continue
            if last is None and not self.urgent:  # new faces take turns from the next frame
                age, new = new % self.every, new + 1
            else:
                age = 0
            kept.append(_Kept(box, read(index), age))
            self.read += 1
        self._last = kept
        return [k.reading for k in kept]
