"""Operator controls shared between the frame loop and remote command handlers (MQTT).

Commands arrive on other threads; the loop reads one consistent snapshot per frame, so a
command can never change state half-way through a decision.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ControlState:
    armed: bool
    threshold: float
    trigger_requested: bool
    trigger_by: str = "manual"  # who asked: "manual" (page, MQTT) or "button" (GPIO)


class Controls:
    """Thread-safe armed flag, threshold, and a one-shot 'trigger now' request."""

    def __init__(self, armed: bool, threshold: float) -> None:
        self._lock = threading.Lock()
        self._armed = armed
        self._threshold = threshold
        self._trigger_requested = False
        self._trigger_by = "manual"

    def arm(self) -> None:
        with self._lock:
            self._armed = True

    def disarm(self) -> None:
        with self._lock:
            self._armed = False

    def set_threshold(self, threshold: float) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within 0..1, got {threshold}")
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
