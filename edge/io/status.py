"""The periodic one-line status: fps, faces, score, drops, bad frames, captures."""

from __future__ import annotations

import logging

from edge.config.output import StatusConfig

log = logging.getLogger(__name__)


class StatusReporter:
    """Counts frames between reports and logs one line per interval."""

    def __init__(self, config: StatusConfig, start: float) -> None:
        self.config = config
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
        """One status line now (also the last one, when the loop ends)."""
        elapsed = now - self._last
        if elapsed > 0 and self._frames:
            self.fps = self._frames / elapsed
        self._frames, self._last = 0, now
        payload = {"fps": round(self.fps, 1), **figures}
        log.info("status %s", " ".join(f"{k}={v}" for k, v in payload.items()))
