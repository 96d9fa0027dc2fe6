"""Operator controls shared between the frame loop and remote command handlers (MQTT).

Commands arrive on other threads; the loop reads one consistent snapshot per frame, so a
command can never change state half-way through a decision.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from edge.config.decide import threshold_problem


@dataclass(frozen=True)
class ControlState:
    armed: bool
    threshold: float
    trigger_requested: bool
    trigger_by: str = "manual"  # who asked: "manual" (page, MQTT) or "button" (GPIO)


class Controls:
    """Thread-safe armed flag, threshold, and a one-shot 'trigger now' request.

    rearm_threshold is the floor of the threshold (trigger.rearm_threshold): every live
    change (MQTT, Home Assistant, the web page) is held to the rule the config file obeys.
    """

    def __init__(self, armed: bool, threshold: float, rearm_threshold: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._armed = armed
        self._threshold = threshold
        self.rearm_threshold = rearm_threshold
        self._trigger_requested = False
        self._trigger_by = "manual"

    def arm(self) -> None:
        with self._lock:
            self._armed = True

    def disarm(self) -> None:
        with self._lock:
            self._armed = False

    def threshold_problem(self, threshold: float) -> str | None:
        """Why `threshold` cannot be set (the config file's rule), or None."""
        return threshold_problem(threshold, self.rearm_threshold)

    def set_threshold(self, threshold: float) -> None:
        problem = self.threshold_problem(threshold)
        if problem:
            raise ValueError(problem)
        with self._lock:
            self._threshold = threshold

    def request_trigger(self, by: str = "manual") -> None:
        """One photo now; `by` names who asked (the photo's reason and its event counter)."""
        with self._lock:
            self._trigger_requested = True
            self._trigger_by = by

    def toggle_armed(self) -> bool:
        """Arm if disarmed, disarm if armed (the button's long press); the new state."""
        with self._lock:
            self._armed = not self._armed
            return self._armed

    def peek(self) -> ControlState:
        """Current state without consuming a trigger request (for state reports)."""
        with self._lock:
            return ControlState(
                self._armed, self._threshold, self._trigger_requested, self._trigger_by
            )

    def take(self) -> ControlState:
        """Current state for one frame; consumes a pending trigger request."""
        with self._lock:
            state = ControlState(
                self._armed, self._threshold, self._trigger_requested, self._trigger_by
            )
            self._trigger_requested = False
            self._trigger_by = "manual"
            return state
