"""The live loop's smile readings, each kept for the frames that follow it.

An expression takes a few hundred milliseconds to form, and the tracker smooths the score
over about a second: reading every tracked face's smile on every frame at 30 fps buys
little. With `smile.every: 2` each face is read every other frame, faces taking turns so
the cost is even from frame to frame, and a face found again where it was (IoU >= 0.5)
keeps its last reading in between. A new face is read at once. Eyes are still read on
every frame: a blink is over in 100-300 ms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edge.perception.face_match import same_face
from edge.types import Box, SmileResult


@dataclass(frozen=True)
class Reading:
    box: Box
    smile: SmileResult
    age: int  # frames since it was read


class SmileSchedule:
    """Reads a frame's smiles where due and keeps the last reading elsewhere."""

    def __init__(self, every: int = 1) -> None:
        self.every = every
        self._last: list[Reading] = []
        self.read = self.kept = 0  # readings made and kept so far, for the bench

    def smiles(self, boxes: Sequence[Box], read: Callable[[int], SmileResult]) -> list[SmileResult]:
        """Each face's smile: `read(i)` for face i where due, else its kept reading."""
        free = list(self._last)
        readings: list[Reading] = []
        new = 0
        for index, box in enumerate(boxes):
            last = same_face(free, box)
            if last is not None:
                free.remove(last)
            if last is not None and last.age + 1 < self.every:
                readings.append(Reading(box, last.smile, last.age + 1))
                self.kept += 1
                continue
            if last is None:  # new faces read together take turns from the next frame
                age, new = new % self.every, new + 1
            else:
                age = 0
            readings.append(Reading(box, read(index), age))
            self.read += 1
        self._last = readings
        return [r.smile for r in readings]
