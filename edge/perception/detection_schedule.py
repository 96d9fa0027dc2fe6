"""Which detection pass the live loop runs on each frame.

A thorough pass (both models, tiles, confirmation) every `thorough_every` frames finds
every face, near or far; in between, faces already found are looked for again only around
where they were (`FaceDetector.redetect`), which costs a fraction. A face that walks in is
found at the next thorough pass (a third of a second at 30 fps with the default of 10); a
frame with no face known gets both models on the whole frame, so someone stepping up to an
empty booth is seen at once.
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
    """The live loop's detector: thorough now and then, cheap in between."""

    def __init__(self, detector: FaceDetector, thorough_every: int) -> None:
        self.detector = detector
        self.thorough_every = thorough_every
        self._frame = 0
        # Where each face of the last thorough pass was last seen: a face the cheap pass
        # misses once is looked for again on the next frame, not only at the next thorough one.
        self._known: list[Box] = []
        self.passes = {"thorough": 0, "whole": 0, "regions": 0}

    @property
    def card(self) -> dict:
        return self.detector.card

    def detect(self, frame_bgr: np.ndarray) -> tuple[Face, ...]:
        thorough = self._frame % self.thorough_every == 0
        self._frame += 1
        if thorough or not self._known:
            self.passes["thorough" if thorough else "whole"] += 1
            faces = (
                self.detector.detect(frame_bgr)
                if thorough
                else self.detector.detect_whole(frame_bgr)
            )
            self._known = [face.box for face in faces]
            return faces
        self.passes["regions"] += 1
        faces = self.detector.redetect(frame_bgr, self._known)
        self._known = [_latest(box, faces) for box in self._known]
        return faces
