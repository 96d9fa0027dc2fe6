"""When to fire the shutter: a pure state machine, time passed in by the caller.

ready --(score >= threshold with >= min_faces)--> holding --(for hold_s)--> FIRE
FIRE starts a burst of burst_s (burst_open() says while it lasts; the loop keeps its best
frame), then cooldown_s; after that the policy re-arms only once the score has dropped
below rearm_threshold (hysteresis), so one long smile gives one photo, not one every
cooldown. Disarmed, it never fires by itself; a manual trigger fires at once unless a
burst is running. With block_on_closed_eyes, a frame in which a face's eyes read closed
(both below eyes.open_threshold) never fires by score: the smoothed score forgives a
blink, the shutter must not catch one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from edge.config.decide import TriggerConfig
from edge.decide.control import ControlState

Phase = Literal["ready", "holding", "burst", "cooldown", "rearm"]


@dataclass(frozen=True)
class TriggerState:
    phase: Phase = "ready"
    since: float = 0.0  # when the current phase began


@dataclass(frozen=True)
class Decision:
    fire: bool
    reason: str  # "score", "manual" or "" when not firing
    state: TriggerState


def step(
    state: TriggerState,
    now: float,
    score: float | None,
    faces: int,
    controls: ControlState,
    config: TriggerConfig,
    eyes_closed: bool = False,
) -> Decision:
    """One frame of the policy; threshold and armed come from the operator's controls.

    eyes_closed: some face of this frame has both eyes read closed (the caller decides).
    """
    threshold = controls.threshold
    rearm = min(config.rearm_threshold, threshold)
    phase = state.phase
    if phase == "burst" and _elapsed(state, now, config.burst_s):
        state, phase = TriggerState("cooldown", state.since + config.burst_s), "cooldown"
    if phase == "burst":
        return Decision(False, "", state)
    if controls.trigger_requested:
        return Decision(True, "manual", TriggerState("burst", now))
    if phase == "cooldown":
        if not _elapsed(state, now, config.cooldown_s):
            return Decision(False, "", state)
        state, phase = TriggerState("rearm", now), "rearm"
    good = score is not None and score >= threshold and faces >= config.min_faces
    if phase == "rearm":
        low = score is None or score < rearm
        return Decision(False, "", TriggerState("ready", now) if low else state)
    if not controls.armed or not good:
        return Decision(False, "", TriggerState("ready", now) if phase == "holding" else state)
    if phase == "ready":
        state = TriggerState("holding", now)
    blocked = eyes_closed and config.block_on_closed_eyes
    if _elapsed(state, now, config.hold_s) and not blocked:  # held: fires on the next open frame
        return Decision(True, "score", TriggerState("burst", now))
    return Decision(False, "", replace(state))


def burst_open(state: TriggerState, now: float, config: TriggerConfig) -> bool:
    """The burst started by the last fire still collects frames at `now` (the one place
    the burst window is timed: step() leaves the burst phase on the same test)."""
    return state.phase == "burst" and not _elapsed(state, now, config.burst_s)


def _elapsed(state: TriggerState, now: float, seconds: float) -> bool:
    """`seconds` have passed in this phase; frame clocks are sums of floats, so allow 1 us."""
    return now - state.since >= seconds - 1e-6
