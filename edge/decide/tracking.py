"""Follow faces across frames and smooth their scores, so one odd frame changes little.

Greedy IoU matching gives each face a stable id; each track keeps an exponential moving
average of its smile weight, of its P(smiling) and of each eye's P(open) (of its open-eye
count when eyes are not read). The tracker only smooths: the live group score is the rating formula
(edge.decide.scoring.smoothed_group) on these smoothed values, a track's open eyes being the sum
of its smoothed P(open), so a blink (eyes closed for 2-3 frames) or a one-frame
misdetection moves it a little, not across the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.config.decide import TrackingConfig
from edge.decide.matching import greedy_matches
from edge.types import Box, FaceScore, FrameResult, SmoothedFace


@dataclass
class Track:
    track_id: int
    box: Box
    smile_weight: float
    eyes_open: float
    smile_probability: float = 0.0
    age: int = 1
    missed: int = 0
    last: FaceScore | None = None
    eye_open: list[float] | None = None  # smoothed P(open), person's right and left eye

    def update_eyes(self, face: FaceScore, alpha: float) -> None:
        """Smooth each eye's P(open) and count open eyes as their sum; without a
        reading (eyes off, no keypoints) smooth the open-eye count itself."""
        reading = face.eye_open_probability
        if reading is None or self.eye_open is None:
            self.eye_open = None if reading is None else list(reading)
            self.eyes_open += alpha * (face.eyes_open - self.eyes_open)
            return
        self.eye_open = [
            old + alpha * (new - old) for old, new in zip(self.eye_open, reading, strict=True)
        ]
        self.eyes_open = sum(self.eye_open)


@dataclass(frozen=True)
class TrackedFrame:
    """A frame's result with stable face ids and the smoothed per-face values."""

    result: FrameResult
    tracks: tuple[Track, ...]  # tracks seen in this frame, in the order of result.faces
    # every face the group counts: those seen, and those missed for a frame or two
    counted: tuple[SmoothedFace, ...]


class Tracker:
    def __init__(self, config: TrackingConfig) -> None:
        self.config = config
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, result: FrameResult) -> TrackedFrame:
        matched = self._match(result.faces)
        seen: list[Track] = []
        alpha = self.config.smoothing
        for face, track in zip(result.faces, matched, strict=True):
            if track is None:
                track = Track(
                    self._next_id,
                    face.face.box,
                    face.smile_weight,
                    float(face.eyes_open),
                    face.smile.smile_probability,
                    eye_open=(
                        None
                        if face.eye_open_probability is None
                        else list(face.eye_open_probability)
                    ),
                )
                if track.eye_open is not None:
                    track.eyes_open = sum(track.eye_open)
                self._next_id += 1
                self.tracks.append(track)
            else:
                track.box = face.face.box
                track.smile_weight += alpha * (face.smile_weight - track.smile_weight)
                probability = face.smile.smile_probability
                track.smile_probability += alpha * (probability - track.smile_probability)
                track.update_eyes(face, alpha)
                track.age += 1
                track.missed = 0
            track.last = face
            seen.append(track)
        for track in self.tracks:
            if all(track is not s for s in seen):
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.config.max_missed]
        # Briefly missed faces still count: a one-frame dropout must not change the group.
        counted = tuple(
            SmoothedFace(t.track_id, t.smile_weight, t.eyes_open, t.smile_probability)
            for t in self.tracks
            if t.missed == 0 or t.age > 2
        )
        return TrackedFrame(result, tuple(seen), counted)

    def _match(self, faces: tuple[FaceScore, ...]) -> list[Track | None]:
        boxes = [track.box for track in self.tracks]
        chosen: list[Track | None] = [None] * len(faces)
        for i, j, _ in greedy_matches([f.face.box for f in faces], boxes, self.config.iou_match):
            chosen[i] = self.tracks[j]
        return chosen
