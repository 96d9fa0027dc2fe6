"""When to fire the shutter: a pure state machine, time passed in by the caller.

ready --(the rule's verdict may hold: edge.decide.rule)--> holding --(for hold_s)--> FIRE
FIRE starts a burst of burst_s (burst_open() says while it lasts; the loop keeps its best
frame), then cooldown_s; after that the policy re-arms only once the score has dropped
below rearm_threshold (hysteresis), so one long smile gives one photo, not one every
cooldown. Disarmed, it never fires by itself; a manual trigger fires at once unless a
burst is running. A frame whose verdict is not ready only because a face's eyes read
closed (block_on_closed_eyes) keeps the hold but never fires: the smoothed score forgives
a blink, the shutter must not catch one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from edge.config.decide import TriggerConfig
from edge.decide.control import ControlState
from edge.decide.rule import Verdict

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
    verdict: Verdict,
    controls: ControlState,
    config: TriggerConfig,
) -> Decision:
    """One frame of the policy; armed comes from the operator's controls, the verdict
    (edge.decide.rule.judge, on the controls' threshold) says whether the frame is good;
    the score only re-arms."""
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
    good = verdict.hold
    if phase == "rearm":
        low = score is None or score < rearm
        return Decision(False, "", TriggerState("ready", now) if low else state)
    if not controls.armed or not good:
        return Decision(False, "", TriggerState("ready", now) if phase == "holding" else state)
    if phase == "ready":
        state = TriggerState("holding", now)
    if _elapsed(state, now, config.hold_s) and verdict.ready:  # held: fires on the next open frame
        return Decision(True, "score", TriggerState("burst", now))
    return Decision(False, "", replace(state))


def burst_open(state: TriggerState, now: float, config: TriggerConfig) -> bool:
    """The burst started by the last fire still collects frames at `now` (the one place
    the burst window is timed: step() leaves the burst phase on the same test)."""
    return state.phase == "burst" and not _elapsed(state, now, config.burst_s)


def _elapsed(state: TriggerState, now: float, seconds: float) -> bool:
    """`seconds` have passed in this phase; frame clocks are sums of floats, so allow 1 us."""
    return now - state.since >= seconds - 1e-6
