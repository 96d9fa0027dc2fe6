"""Why the shutter has not fired yet, in words a guest understands (the page, MQTT, a guest
screen, `smilebooth score`).

A pure reading of what the trigger sees this frame: the phase, the operator's controls and
the rule's verdict (edge.decide.rule), which names the one face that holds the shutter
back. An Explanation is three things a view can reuse: a short code (stable, for machines
and styling), the face it waits on, and the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.config.decide import TriggerConfig
from edge.decide.control import ControlState
from edge.decide.rule import Verdict
from edge.decide.trigger import TriggerState

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
