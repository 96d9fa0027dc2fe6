"""Would the booth take this photo? The group rule, pure, for the live loop and one photo.

Guests expect the shutter to wait for everyone: an average score lets five big smiles
carry one straight face. With `trigger.rule: everyone` (the default) a frame is ready
when the group score is over the threshold, every face is smiling (its smile probability
at least `smile.smiling_threshold`; `trigger.allow_not_smiling` faces may not be) and
no face has both eyes read closed. `trigger.rule: score` is the group score alone (and
the eyes). The verdict names the one face that holds the shutter back, and why, so the
page, MQTT and `smilebooth score` all say the same thing (edge.decide.explain has the
words).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from edge.config.decide import ScoringConfig, TriggerConfig
from edge.types import FaceScore, SmoothedFace

# Why a frame is not ready; "ready" when it is.
Reason = Literal["ready", "no_faces", "few_faces", "not_smiling", "eyes_closed", "low_score"]


@dataclass(frozen=True)
class FaceView:
    """What the rule reads of one face (smoothed in the loop, raw on a photo)."""

    face_id: int  # the track id live, the face's index on a photo
    smile_probability: float
    eyes_closed: bool  # both eyes read closed
    contribution: float  # what this face adds to the group score (names the weakest face)


@dataclass(frozen=True)
class Verdict:
    reason: Reason
    held_by: int | None = None  # the face that holds the shutter back, when one does
    # The hold may run: score, faces and smiles are good; only closed eyes may still stop
    # the fire (a blink must not restart the hold, only delay the photo).
    hold: bool = False

    @property
    def ready(self) -> bool:
        return self.reason == "ready"


def judge(
    score: float | None,
    faces: Sequence[FaceView],
    threshold: float,
    trigger: TriggerConfig,
    smiling_threshold: float,
) -> Verdict:
    """The verdict on one frame; `threshold` is the operator's live one."""
    if not faces or score is None:
        return Verdict("no_faces")
    if len(faces) < trigger.min_faces:
        return Verdict("few_faces")
    if trigger.rule == "everyone":
        straight = [f for f in faces if f.smile_probability < smiling_threshold]
        if len(straight) > trigger.allow_not_smiling:
            least = min(straight, key=lambda f: f.smile_probability)
            return Verdict("not_smiling", least.face_id)
    if score < threshold:
        weakest = min(faces, key=lambda f: f.contribution)
        if weakest.smile_probability < smiling_threshold:
            return Verdict("not_smiling", weakest.face_id)
        if weakest.eyes_closed:
            return Verdict("eyes_closed", weakest.face_id)
        return Verdict("low_score", weakest.face_id)
    closed = [f for f in faces if f.eyes_closed]
    if closed and trigger.block_on_closed_eyes:
        return Verdict("eyes_closed", closed[0].face_id, hold=True)
    return Verdict("ready", hold=True)


def contribution(smile_weight: float, eyes_open: float, scoring: ScoringConfig) -> float:
    """What one face adds to the group score (the formula's two terms, for one face)."""
    eyes = min(1.0, scoring.eyes_per_face * eyes_open)
    return scoring.smile_weight * smile_weight + scoring.eyes_weight * eyes


def live_views(
    counted: Sequence[SmoothedFace], closed_now: set[int], scoring: ScoringConfig
) -> list[FaceView]:
    """The loop's faces: smoothed smiles; eyes closed on this very frame (`closed_now`:
    track ids), as the shutter must not catch a blink the smoothing forgives."""
    return [
        FaceView(
            f.track_id,
            f.smile_weight if f.smile_probability is None else f.smile_probability,
            f.track_id in closed_now,
            contribution(f.smile_weight, f.eyes_open, scoring),
        )
        for f in counted
    ]


def photo_views(faces: Sequence[FaceScore], scoring: ScoringConfig) -> list[FaceView]:
    """One photo's faces, by their index in the result."""
    return [
        FaceView(
            i,
            f.smile.smile_probability,
            is_closed(f),
            contribution(f.smile_weight, f.eyes_open, scoring),
        )
        for i, f in enumerate(faces)
    ]


def is_closed(face: FaceScore) -> bool:
    """The face's eyes were read, and both read closed."""
    return face.eye_open_probability is not None and face.eyes_open == 0
