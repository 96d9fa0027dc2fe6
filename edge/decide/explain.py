"""Why the shutter has not fired yet, in words a guest understands (for the web page).

A pure reading of what the trigger sees this frame: the phase, the operator's controls, and
the smoothed per-face values the group score is made of. It names the one face that holds
the score down the most (not smiling, or eyes closed), so the page can mark it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from edge.config.decide import ScoringConfig, TriggerConfig
from edge.decide.control import ControlState
from edge.decide.trigger import TriggerState
from edge.types import SmoothedFace

SMILING_WEIGHT = 0.6  # a smoothed smile weight under this reads "not smiling" (mild is 0.5)
EYES_OPEN = 1.5  # a smoothed open-eye count under this reads "eyes closed" on that face


@dataclass(frozen=True)
class Explanation:
    text: str
    track_id: int | None = None  # the face that holds the score down, when one does


def explain(
    state: TriggerState,
    now: float,
    score: float | None,
    faces: Sequence[SmoothedFace],
    controls: ControlState,
    trigger: TriggerConfig,
    scoring: ScoringConfig,
    eyes_closed: bool = False,
) -> Explanation:
    """The one sentence that says what the booth waits for, and the face it waits on."""
    phase = state.phase
    if phase == "burst":
        return Explanation("Taking the photo…")
    if phase == "cooldown":
        left = max(0.0, trigger.cooldown_s - (now - state.since))
        return Explanation(f"Resting after the last photo: ready again in {left:.0f} s.")
    if phase == "rearm":
        return Explanation("Photo taken. Relax for a moment: the next one comes after a new smile.")
    if not controls.armed:
        return Explanation("Paused: the booth takes photos only with “Take photo now”.")
    if not faces:
        return Explanation("Nobody in view yet.")
    if len(faces) < trigger.min_faces:
        return Explanation(f"Waiting for {trigger.min_faces} people (sees {len(faces)}).")
    weakest = min(faces, key=lambda face: _contribution(face, scoring))
    if score is not None and score >= controls.threshold:
        if eyes_closed and trigger.block_on_closed_eyes:
            return Explanation("Someone blinked: waiting for open eyes.", _closed(faces))
        if phase == "holding":
            return Explanation("Hold that smile…")
        return Explanation("Looking good!")
    if weakest.eyes_open < EYES_OPEN and weakest.smile_weight >= SMILING_WEIGHT:
        return Explanation("Someone's eyes are closed.", weakest.track_id)
    if len(faces) == 1:
        return Explanation("Smile!", weakest.track_id)
    return Explanation("Not everyone is smiling yet.", weakest.track_id)


def _closed(faces: Sequence[SmoothedFace]) -> int | None:
    return min(faces, key=lambda face: face.eyes_open).track_id


def _contribution(face: SmoothedFace, scoring: ScoringConfig) -> float:
    """What this face adds to the group score (the formula's two terms, for one face)."""
    eyes = min(1.0, scoring.eyes_per_face * face.eyes_open)
    return scoring.smile_weight * face.smile_weight + scoring.eyes_weight * eyes


# -- The guest screen's words (edge/web/guest.py) and the operator page's phase names --------
# One short line at a time, read from 3 m by the people posing. Which face holds the shutter
# back is explain()'s decision; these only choose the words for it.

PHASE_WORDS = {
    "ready": "ready",
    "holding": "holding the smile",
    "burst": "taking the photo",
    "cooldown": "resting after a photo",
    "rearm": "waiting for a fresh smile",
}
COUNTDOWN_FROM = 3  # the hold is shown as 3, 2, 1 whatever its length
EVERYONE_IN = "Everyone in the picture"  # also the line before the camera's first frame


@dataclass(frozen=True)
class GuestLine:
    text: str
    countdown: int | None = None  # 3, 2, 1 while the hold runs


def guest_line(
    state: TriggerState,
    now: float,
    score: float | None,
    faces: Sequence[SmoothedFace],
    controls: ControlState,
    trigger: TriggerConfig,
    scoring: ScoringConfig,
    eyes_closed: bool = False,
) -> GuestLine:
    """The guest screen's line for this frame: what the people in front of it should do."""
    phase = state.phase
    if phase == "burst":
        return GuestLine("Smile!")
    if phase == "cooldown":
        return GuestLine("Got it!")
    if phase == "rearm":
        return GuestLine("Relax… then smile again")
    if not controls.armed:
        return GuestLine("Get ready")
    if len(faces) < max(1, trigger.min_faces):
        return GuestLine(EVERYONE_IN)
    if phase == "holding":
        left = max(0.0, trigger.hold_s - (now - state.since))
        share = left / trigger.hold_s if trigger.hold_s > 0 else 0.0
        return GuestLine("Hold it…", max(1, math.ceil(COUNTDOWN_FROM * share)))
    why = explain(state, now, score, faces, controls, trigger, scoring, eyes_closed)
    waiting_on = next((face for face in faces if face.track_id == why.track_id), None)
    if waiting_on is None:
        return GuestLine("Hold it…", COUNTDOWN_FROM)
    smiling = waiting_on.smile_weight >= SMILING_WEIGHT
    if smiling and (waiting_on.eyes_open < EYES_OPEN or eyes_closed):  # a smile, eyes shut
        return GuestLine("Eyes open!")
    return GuestLine("Big smiles!")


def face_ready(face: SmoothedFace) -> tuple[bool, bool]:
    """(smiling, eyes open) as the guest screen marks one face."""
    return face.smile_weight >= SMILING_WEIGHT, face.eyes_open >= EYES_OPEN
