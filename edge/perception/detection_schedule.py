"""Which detection pass the live loop runs on each frame.

Faces already found are looked for again on every frame only around where they were
(`FaceDetector.redetect`, a fraction of a whole-frame pass). Every `thorough_every` frames
a search for new faces follows it (`FaceDetector.discover`): both models on the whole
frame and the full-range model on square tiles, confirming only what is not tracked
already. A face that walks in is found at the next search (a third of a second at 30 fps
with the default of 10). A frame with no face known gets both models on the whole frame,
and the photo's thorough pass on a search frame, so someone stepping up to an empty booth
is seen at once.
"""

from __future__ import annotations

import numpy as np

from edge.perception.face_detector import FaceDetector
from edge.types import Box, Face


def _latest(box: Box, faces: tuple[Face, ...]) -> Box:
    """The box of the face found again where `box` was, or `box` itself."""
    best = max(faces, key=lambda f: f.box.iou(box), default=None)
    return best.box if best is not None and best.box.iou(box) > 0.3 else box


class ScheduledDetector:
    """The live loop's detector: tracked faces every frame, a search for new ones now and then."""

    def __init__(self, detector: FaceDetector, thorough_every: int) -> None:
        self.detector = detector
        self.thorough_every = thorough_every
        self._frame = 0
        # Where each face of the last search was last seen: a face the cheap pass misses
        # once is looked for again on the next frame, not only at the next search.
        self._known: list[Box] = []
        self.passes = {"thorough": 0, "whole": 0, "regions": 0, "search": 0}

    @property
    def card(self) -> dict:
        return self.detector.card

    def detect(self, frame_bgr: np.ndarray) -> tuple[Face, ...]:
        search = self._frame % self.thorough_every == 0
        self._frame += 1
        if not self._known:
            self.passes["thorough" if search else "whole"] += 1
            faces = (
                self.detector.detect(frame_bgr) if search else self.detector.detect_whole(frame_bgr)
            )
            self._known = [face.box for face in faces]
            return faces
        self.passes["regions"] += 1
        faces = self.detector.redetect(frame_bgr, self._known)
        if search:
            self.passes["search"] += 1
            faces = self.detector.discover(frame_bgr, faces)
            # A new face is tracked from here; a tracked one the search did not keep is not.
            self._known = [face.box for face in faces]
        else:
            self._known = [_latest(box, faces) for box in self._known]
        return faces
