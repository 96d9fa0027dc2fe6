"""Why the shutter has not fired yet, in words a guest understands (the page, MQTT, a guest
screen, `smilebooth score`).

A pure reading of what the trigger sees this frame: the phase, the operator's controls and
the rule's verdict (edge.decide.rule), which names the one face that holds the shutter
back. An Explanation is three things a view can reuse: a short code (stable, for machines
and styling), the face it waits on, and the sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge.config.decide import TriggerConfig
from edge.decide.control import ControlState
from edge.decide.rule import Verdict
from edge.decide.trigger import TriggerState
from edge.types import SmoothedFace

# Codes beside the rule's reasons (edge.decide.rule.Reason): the trigger's own phases.
PHASE_CODES = ("burst", "cooldown", "rearm", "paused", "holding")


@dataclass(frozen=True)
class Explanation:
    code: str  # a rule reason ("ready", "not_smiling", ...) or one of PHASE_CODES
    text: str
    track_id: int | None = None  # the face that holds the shutter back, when one does


def explain(
    state: TriggerState,
    now: float,
    verdict: Verdict,
    faces: int,
    controls: ControlState,
    trigger: TriggerConfig,
) -> Explanation:
    """The one sentence that says what the booth waits for, and the face it waits on."""
    phase = state.phase
    if phase == "burst":
        return Explanation("burst", "Taking the photo…")
    if phase == "cooldown":
        left = max(0.0, trigger.cooldown_s - (now - state.since))
        return Explanation(
            "cooldown", f"Resting after the last photo: ready again in {left:.0f} s."
        )
    if phase == "rearm":
        return Explanation(
            "rearm", "Photo taken. Relax for a moment: the next one comes after a new smile."
        )
    if not controls.armed:
        return Explanation("paused", "Paused: the booth takes photos only with “Take photo now”.")
    if verdict.ready and phase == "holding":
        return Explanation("holding", "Hold that smile…")
    return Explanation(verdict.reason, words(verdict, faces, trigger), verdict.held_by)


def words(verdict: Verdict, faces: int, trigger: TriggerConfig) -> str:
    """The verdict alone in a sentence (a photo has no phase): what `smilebooth score` says."""
    reason = verdict.reason
    if reason == "ready":
        return "Looking good!"
    if reason == "no_faces":
        return "Nobody in view yet."
    if reason == "few_faces":
        return f"Waiting for {trigger.min_faces} people (sees {faces})."
    if reason == "eyes_closed":
        return (
            "Someone blinked: waiting for open eyes."
            if verdict.hold
            else "Someone's eyes are closed."
        )
    if reason == "not_smiling":
        return "Smile!" if faces == 1 else "Not everyone is smiling yet."
    return "A bigger smile!" if faces == 1 else "Bigger smiles, everyone!"


# -- The guest screen's words (edge/web/guest.py) and the operator page's phase names --------
# One short line at a time, read from 3 m by the people posing. Which face holds the shutter
# back is the rule's decision (the verdict); these only choose the words for it.

PHASE_WORDS = {
    "ready": "ready",
    "holding": "holding the smile",
    "burst": "taking the photo",
    "cooldown": "resting after a photo",
    "rearm": "waiting for a fresh smile",
}
COUNTDOWN_FROM = 3  # the hold is shown as 3, 2, 1 whatever its length
EVERYONE_IN = "Everyone in the picture"  # also the line before the camera's first frame
# A smoothed open-eye count under this marks a face "eyes" on the screens: both eyes read
# closed, as the rule blocks on (one eye read closed does not hold the shutter back, so
# the sign does not ask for it either).
EYES_OPEN = 0.5


@dataclass(frozen=True)
class GuestLine:
    text: str
    countdown: int | None = None  # 3, 2, 1 while the hold runs


def guest_line(
    state: TriggerState,
    now: float,
    verdict: Verdict,
    faces: int,
    controls: ControlState,
    trigger: TriggerConfig,
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
    if faces < max(1, trigger.min_faces) or verdict.reason in ("no_faces", "few_faces"):
        return GuestLine(EVERYONE_IN)
    if phase == "holding" and verdict.hold:
        left = max(0.0, trigger.hold_s - (now - state.since))
        share = left / trigger.hold_s if trigger.hold_s > 0 else 0.0
        if verdict.reason == "eyes_closed":  # the hold runs on; only the blink stops it
            return GuestLine("Eyes open!", max(1, math.ceil(COUNTDOWN_FROM * share)))
        return GuestLine("Hold it…", max(1, math.ceil(COUNTDOWN_FROM * share)))
    if verdict.reason == "eyes_closed":
        return GuestLine("Eyes open!")
    if verdict.ready:
        return GuestLine("Hold it…", COUNTDOWN_FROM)
    return GuestLine("Big smiles!")


def face_ready(face: SmoothedFace, smiling_threshold: float = 0.5) -> tuple[bool, bool]:
    """(smiling, eyes open) as the screens mark one face: smiling as the rule reads it."""
    probability = face.smile_probability
    smiling = (
        (face.smile_weight >= 0.6) if probability is None else probability >= smiling_threshold
    )
    return smiling, face.eyes_open >= EYES_OPEN
