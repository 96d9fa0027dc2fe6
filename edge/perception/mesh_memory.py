"""The live loop's memory of face-mesh readings (eyes.reader cnn+mesh, `eyes.mesh_every`).

The mesh costs ~4 ms a face and the eye CNN ~0.05 ms; on small faces the CNN is rarely
sure, so without a memory the mesh reads almost every face on every frame. A face's mesh
reading is kept for up to `mesh_every` frames while the CNN keeps reading the face the same
way (the same count of open eyes): a blink or a laugh changes what the CNN reads, and the
mesh looks again at once. A face read closed is read again on the next frame (a false
"closed" holds the shutter for one frame at most), and while the trigger holds or bursts
every face is read afresh (edge.perception.eye_schedule's `urgent`), so a blink is never
the kept photo.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.perception.eye_schedule import EyeReading, moved_mesh
from edge.perception.face_match import SAME_FACE_IOU, same_face
from edge.types import Box


@dataclass(frozen=True)
class _Remembered:
    box: Box
    cnn_count: int  # the CNN's open eyes when the mesh read the face
    reading: EyeReading
    frame: int


class MeshMemory:
    """Mesh readings of the faces of recent frames, matched to new boxes by overlap."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.frame = 0
        self._kept: list[_Remembered] = []
        self.reused = 0  # readings given back instead of a mesh read, for the bench

    def next_frame(self) -> None:
        """A new frame: readings `every` frames old are forgotten."""
        self.frame += 1
        self._kept = [k for k in self._kept if self.frame - k.frame < self.every]

    def recall(self, box: Box, cnn_count: int) -> EyeReading | None:
        """The face's kept reading (its mesh moved to `box`) if it may stand, else None."""
        kept = same_face(self._kept, box)
        if kept is None or kept.cnn_count != cnn_count or kept.reading[0] == 0:
            return None
        eyes_open, values, mesh = kept.reading
        self.reused += 1
        return eyes_open, values, moved_mesh(mesh, kept.box, box)

    def remember(self, box: Box, cnn_count: int, reading: EyeReading) -> None:
        """A fresh mesh reading of the face at `box` (replacing the one kept for it)."""
        self._kept = [k for k in self._kept if k.box.iou(box) < SAME_FACE_IOU]
        self._kept.append(_Remembered(box, cnn_count, reading, self.frame))
