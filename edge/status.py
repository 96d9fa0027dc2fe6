"""The periodic one-line status: fps, faces, score, drops, bad frames, captures."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from edge.events import STATUS, EventBus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatusConfig:
    """The status line in the log (and the status event)."""

    interval_s: float = field(
        default=10.0, metadata={"doc": "seconds between status lines", "min": 0.1}
    )
    state_interval_s: float = field(
        default=60.0,
        metadata={"doc": "seconds between STATE events when nothing changed", "min": 1},
    )
    state_min_interval_s: float = field(
        default=1.0,
        metadata={
            "doc": "shortest gap between STATE events for a face-count change (armed, "
            "threshold and phase changes are sent at once)",
            "min": 0,
        },
    )


class StatusReporter:
    """Counts frames between reports and emits one line + one STATUS event per interval."""

    def __init__(self, config: StatusConfig, bus: EventBus, start: float) -> None:
        self.config = config
        self.bus = bus
        self._last = start
        self._frames = 0
        self.fps = 0.0

    def frame(self, now: float, figures: dict[str, object]) -> bool:
        """Count one frame; report when the interval has passed. True when it reported."""
        self._frames += 1
        if now - self._last < self.config.interval_s:
            return False
        self.report(now, figures)
        return True

    def report(self, now: float, figures: dict[str, object]) -> None:
        """One status line and STATUS event now (also the last one, when the loop ends)."""
        elapsed = now - self._last
        if elapsed > 0 and self._frames:
            self.fps = self._frames / elapsed
        self._frames, self._last = 0, now
        payload = {"fps": round(self.fps, 1), **figures}
        log.info("status %s", " ".join(f"{k}={v}" for k, v in payload.items()))
        self.bus.publish(STATUS, payload)
