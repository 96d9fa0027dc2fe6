"""Which detection pass the live loop runs on each frame.

Faces already found are looked for again only around where they were
(`FaceDetector.look_again`, a fraction of a whole-frame pass), each every `track_every`
frames (`detector.track_every`, 2), faces taking turns; in between a face keeps the box
and keypoints of its last look. Every `thorough_every` frames a search for new faces
follows (`FaceDetector.discover`): the whole frame, adding only what is not tracked
already. A face that walks in is found at the next search (a third of a second at 30 fps
with the default of 10). A frame with no face known gets the whole-frame pass, so someone
stepping up to an empty booth is seen at once.

What has not changed since its last look is not looked at again (`stillness`): a tracked
face whose square holds the same pixels keeps its last look, and with no face known a
frame the same as at the last pass gets none, each for at most MAX_STILL_FRAMES frames
in a row. An empty booth or a group holding still then costs a fraction of a pass.
"""

from __future__ import annotations

import numpy as np

from edge.perception.face_detector import FaceDetector, look_square
from edge.perception.stillness import thumbnail, unchanged
from edge.types import Box, Face

# A face is looked for in the same square while it stays within this share of its size of
# the square's centre and this factor of its size (group photos held still: eyes read as
# the photo pass reads them for 81 % of faces at 0.15, 78 % at 0.10, 79 % at 0.25).
ANCHOR_SHIFT = 0.15
ANCHOR_SCALE = 1.2
# A look skipped because nothing changed is made anyway after this many frames in a row
# (a second at 30 fps): noise under the change threshold cannot hold a stale look forever.
MAX_STILL_FRAMES = 30


def _frame_thumbnail(frame_bgr: np.ndarray) -> np.ndarray | None:
    if frame_bgr.ndim < 2 or min(frame_bgr.shape[:2]) < 8:
        return None
    return thumbnail(frame_bgr)


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

    def __init__(
        self,
        detector: FaceDetector,
        thorough_every: int,
        track_every: int = 1,
        skip_still: bool = True,
    ) -> None:
        """`skip_still`: skip looks at what has not changed (False: the schedule alone,
        which the measurements compare with)."""
        self.detector = detector
        self.thorough_every = thorough_every
        self.track_every = track_every
        self.skip_still = skip_still
        self._frame = 0
        # Per tracked face: the face as last found, or None when its last look missed it
        # (looked for again at its turns until the next search).
        self._tracked: list[Face | None] = []
        self._known: list[Box] = []  # where each is looked for
        # Per tracked face, its square's thumbnail at its last look and the turns skipped;
        # for the whole frame the same at the last pass that found no face, and whether
        # that pass was a search.
        self._seen: list[tuple[np.ndarray | None, int]] = []
        self._empty_seen: tuple[np.ndarray | None, int, bool] = (None, 0, False)
        self.passes = {"thorough": 0, "whole": 0, "regions": 0, "search": 0, "still": 0}
        self.looks = 0  # faces looked at again by the cheap pass, for the bench
        self.still_looks = 0  # looks skipped: the face's square had not changed

    @property
    def card(self) -> dict:
        return self.detector.card

    def detect(self, frame_bgr: np.ndarray) -> tuple[Face, ...]:
        search = self._frame % self.thorough_every == 0
        frame = self._frame
        self._frame += 1
        if not self._known:
            now = _frame_thumbnail(frame_bgr) if self.skip_still else None
            if self._still_empty(now, search):
                self.passes["still"] += 1
                return ()
            self.passes["thorough" if search else "whole"] += 1
            faces = self.detector.detect(frame_bgr, zoomed_out=search)
            self._found_none(now if not faces else None, search)
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
        due = self._changed(frame_bgr, due)
        looked = self.detector.look_again(frame_bgr, [self._known[i] for i in due])
        self.looks += len(due)
        for i, face in zip(due, looked, strict=True):
            if face is not None:
                anchor = _anchor(self._known[i], face.box)
                if anchor != self._known[i]:  # a new square: its thumbnail is not taken yet
                    self._known[i], self._seen[i] = anchor, (None, 0)
            self._tracked[i] = face
        faces = self.detector.merged([f for f in self._tracked if f is not None], frame_bgr.shape)
        if search:
            self.passes["search"] += 1
            faces = self.detector.discover(frame_bgr, faces)
            # A new face is tracked from here; a tracked one the search did not keep is not.
            self._track(faces)
            if not faces and self.skip_still:  # everyone gone: this frame, seen empty
                self._found_none(_frame_thumbnail(frame_bgr), searched=True)
        return faces

    def _changed(self, frame_bgr: np.ndarray, due: list[int]) -> list[int]:
        """The faces of `due` to look at: those whose square changed since their last look
        (a face missed at its last look is always looked for); the thumbnails updated."""
        if not self.skip_still:
            return due
        changed = []
        for i in due:
            before, still_for = self._seen[i]
            square = look_square(frame_bgr, self._known[i])
            now = None if square is None else thumbnail(square)
            if (
                now is not None
                and self._tracked[i] is not None
                and (still_for + 1) * self.track_every <= MAX_STILL_FRAMES
                and unchanged(before, now)
            ):
                self._seen[i] = (before, still_for + 1)
                self.still_looks += 1
                continue
            self._seen[i] = (now, 0)
            changed.append(i)
        return changed

    def _still_empty(self, now: np.ndarray | None, search: bool) -> bool:
        """No face known and the frame as it was at the last pass that found none. A
        search frame skips only after a search found none (the whole-frame pass misses
        small faces that a search has not looked for yet)."""
        before, still_for, searched = self._empty_seen
        if (
            now is None
            or still_for >= MAX_STILL_FRAMES
            or (search and not searched)
            or not unchanged(before, now)
        ):
            return False
        self._empty_seen = (before, still_for + 1, searched)
        return True

    def _found_none(self, thumbnail_now: np.ndarray | None, searched: bool) -> None:
        """A pass found no face in the frame of `thumbnail_now` (None: it found faces, so
        no frame is known to be empty)."""
        self._empty_seen = (thumbnail_now, 0, searched and thumbnail_now is not None)

    def _track(self, faces: tuple[Face, ...]) -> None:
        """Track `faces` from here; a face found where one was keeps that one's anchor (and
        its last look's thumbnail while it keeps the square)."""
        anchors, seen = [], []
        for face in faces:
            old = max(
                range(len(self._known)), key=lambda i: self._known[i].iou(face.box), default=None
            )
            anchor = _anchor(self._known[old], face.box) if old is not None else face.box
            anchors.append(anchor)
            kept = old is not None and anchor == self._known[old]
            seen.append(self._seen[old] if kept and old is not None else (None, 0))
        self._tracked = list(faces)
        self._known = anchors
        self._seen = seen
