"""Which detection pass the live loop runs on each frame.

Faces already found are looked for again only around where they were
(`FaceDetector.look_again`, a fraction of a whole-frame pass), each every `track_every`
frames (`detector.track_every`, 2), faces taking turns; in between a face keeps the box
and keypoints of its last look. Every `thorough_every` frames a search for new faces
follows (`FaceDetector.discover`): both models on the whole frame and the full-range
model on square tiles, confirming only what is not tracked already. A face that walks
in is found at the next search (a third of a second at 30 fps with the default of 10). A
frame with no face known gets both models on the whole frame, and the photo's thorough
pass on a search frame, so someone stepping up to an empty booth is seen at once.
"""

from __future__ import annotations

import numpy as np

from edge.perception.face_detector import FaceDetector
from edge.types import Box, Face

# A face is looked for in the same square while it stays within this share of its size of
# the square's centre and this factor of its size (group photos held still: eyes read as
# the photo pass reads them for 81 % of faces at 0.15, 78 % at 0.10, 79 % at 0.25).
ANCHOR_SHIFT = 0.15
ANCHOR_SCALE = 1.2


def _anchor(anchor: Box, found: Box) -> Box:
    """Where to look for a face next: the same square as last time while the face found
    stays near its centre and size, else around the face found.

    Re-centring on every look lets the box drift: the short-range model's box, fed back
    as the next region, settles where its keypoints differ from the thorough pass's; on
    group photos held still the eyes then read as the photo pass reads them for 65 % of
    faces after a few frames, 81 % with the square held (at a 0.4 look threshold)."""
    (ax, ay), (fx, fy) = anchor.center, found.center
    size = max(anchor.width, anchor.height, 1.0)
    ratio = max(found.width, found.height) / size
    moved = max(abs(fx - ax), abs(fy - ay)) / size
    if moved <= ANCHOR_SHIFT and 1 / ANCHOR_SCALE <= ratio <= ANCHOR_SCALE:
        return anchor
    return found


class ScheduledDetector:
    """The live loop's detector: tracked faces looked at in turns, a search now and then."""

    def __init__(self, detector: FaceDetector, thorough_every: int, track_every: int = 1) -> None:
        self.detector = detector
        self.thorough_every = thorough_every
        self.track_every = track_every
        self._frame = 0
        # Per tracked face: the face as last found, or None when its last look missed it
        # (looked for again at its turns until the next search).
        self._tracked: list[Face | None] = []
        self._known: list[Box] = []  # where each is looked for
        self.passes = {"thorough": 0, "whole": 0, "regions": 0, "search": 0}
        self.looks = 0  # faces looked at again by the cheap pass, for the bench

    @property
    def card(self) -> dict:
        return self.detector.card

    def detect(self, frame_bgr: np.ndarray) -> tuple[Face, ...]:
        search = self._frame % self.thorough_every == 0
        frame = self._frame
        self._frame += 1
        if not self._known:
            self.passes["thorough" if search else "whole"] += 1
            faces = (
                self.detector.detect(frame_bgr) if search else self.detector.detect_whole(frame_bgr)
            )
            self._track(faces)
            return faces
        self.passes["regions"] += 1
        # A face missed at its last look is looked for again at its next turn, not at
        # once: on the panned WIDER groups that gives 12.6 false detections per 100 frames
        # instead of 14.8 (89.1 / 87.8 % found against 89.3 / 87.9), at 0.24 fewer
        # short-range invokes a frame on crowd_1080p.
        due = [
            i for i in range(len(self._tracked)) if search or (frame + i) % self.track_every == 0
        ]
        looked = self.detector.look_again(frame_bgr, [self._known[i] for i in due])
        self.looks += len(due)
        for i, face in zip(due, looked, strict=True):
            if face is not None:
                self._known[i] = _anchor(self._known[i], face.box)
            self._tracked[i] = face
        faces = self.detector.merged([f for f in self._tracked if f is not None], frame_bgr.shape)
        if search:
            self.passes["search"] += 1
            faces = self.detector.discover(frame_bgr, faces)
            # A new face is tracked from here; a tracked one the search did not keep is not.
            self._track(faces)
        return faces

    def _track(self, faces: tuple[Face, ...]) -> None:
        """Track `faces` from here; a face found where one was keeps that one's anchor."""
        anchors = []
        for face in faces:
            old = max(self._known, key=lambda box: box.iou(face.box), default=None)
            anchors.append(_anchor(old, face.box) if old is not None else face.box)
        self._tracked = list(faces)
        self._known = anchors
