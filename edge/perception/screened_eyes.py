"""Eye state read cheaply where it is plain, by the face mesh where it is not.

The eye CNN costs ~0.1 ms a face and is sure of most open eyes; its mistakes are narrowed,
laughing and small eyes that it reads closed, exactly where the face mesh's blendshapes
(eyeBlink against eyeSquint) are right, at ~4 ms a face here. `eyes.reader: cnn+mesh` reads
every face with the CNN and hands the mesh each face the CNN does not read as two open
eyes with one at least `eyes.sure_open`: on faces-eyes the CNN reads 77-96 % of
open faces (by size) and 0-1 % of closed ones, so the mesh runs on a fraction of the faces
and the CNN's false "closed" no longer holds the shutter (docs/face-mesh.md)."""

from __future__ import annotations

import numpy as np

from edge.perception.eye_schedule import EyeReading
from edge.perception.eye_state import MeshEyeReader
from edge.perception.eyes import EyeReader, count_open
from edge.perception.mesh_memory import MeshMemory
from edge.types import Detail, Face


class ScreenedEyeReader:
    """The CNN first; the mesh for every face the CNN does not read as two open eyes, one
    of them sure. A face is closed only when the mesh reads it closed and the CNN is not
    sure of either eye; the mesh counts the open eyes of a face it reads open (a narrowed
    eye the CNN reads closed beside a sure one is a squint, not a wink)."""

    def __init__(
        self, cnn: EyeReader, mesh: MeshEyeReader, sure_open: float, open_threshold: float
    ) -> None:
        self.cnn = cnn
        self.mesh = mesh
        self.sure_open = sure_open
        self.open_threshold = open_threshold
        self.reads = 0
        self.memory: MeshMemory | None = None  # the live loop's (eyes.mesh_every)

    @property
    def mesh_reads(self) -> int:
        """Faces the mesh has read (the mesh reader counts them, with their cost)."""
        return self.mesh.reads

    def read_frame(
        self,
        frame_bgr: np.ndarray,
        gray: np.ndarray,
        face: Face,
        detail: Detail | None = None,
        fresh: bool = True,
    ) -> EyeReading | None:
        """(eyes_open, P(open) of each eye, the mesh when it was read); None without eye
        points. `fresh` False (the live loop outside a hold): a mesh reading the memory
        keeps for the face may stand in for a new one."""
        probabilities = self.cnn.read(gray, face, detail)
        if probabilities is None:
            return None
        self.reads += 1
        cnn_count = count_open(probabilities, self.open_threshold)
        sure = max(probabilities) >= self.sure_open
        if sure and cnn_count == 2:
            return cnn_count, probabilities, None
        if self.memory is not None and not fresh:
            kept = self.memory.recall(face.box, cnn_count)
            if kept is not None:
                return kept
        read = self.mesh.read_frame(frame_bgr, face, detail)
        if read is not None and read[0] == 0 and sure:
            # An eye the CNN is sure is open: not a blink, whatever the mesh says (on real
            # group photos the mesh reads some blurred or downcast open eyes shut).
            read = cnn_count, probabilities, read[2]
        if read is not None and self.memory is not None:
            self.memory.remember(face.box, cnn_count, read)
        return read
