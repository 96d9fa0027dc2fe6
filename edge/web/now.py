"""The page's "now" panel: what the booth sees and decides, and why it has not fired yet.

The loop hands every decided frame to `observe` (one assignment; the live view gets it
too). Everything else happens when a page asks, on the web server's side: the snapshot,
the explanation (`edge.decide.explain`), the newest photo from the loop's capture events.
"""

from __future__ import annotations

import threading
from typing import Any

from edge.config.decide import ScoringConfig, TriggerConfig
from edge.decide.explain import Explanation, explain
from edge.io import events
from edge.loop import LoopView
from edge.web.live import LiveView


class NowBoard:
    def __init__(
        self, trigger: TriggerConfig, scoring: ScoringConfig, live: LiveView | None = None
    ) -> None:
        self.trigger = trigger
        self.scoring = scoring
        self.live = live
        self.version = 0  # grows with every frame: a page sends only what changed
        self._view: LoopView | None = None
        self._captures: events.Subscription | None = None
        self._last_photo: str | None = None
        self._lock = threading.Lock()

    # -- the frame loop's side -----------------------------------------------------------

    def observe(self, view: LoopView) -> None:
        self._view = view
        self.version += 1
        if self.live is not None:
            self.live.offer(view, self.explanation)

    def attach(self, bus: events.EventBus) -> None:
        """Follow the loop's capture events (for "last photo")."""
        self._captures = bus.subscribe({events.CAPTURE}, maxsize=8)

    # -- the page's side -----------------------------------------------------------------

    def explanation(self, view: LoopView) -> Explanation:
        faces = view.scored.group.face_count
        return explain(view.trigger, view.now, view.verdict, faces, view.controls, self.trigger)

    def snapshot(self) -> dict[str, Any] | None:
        """The panel's figures for the newest frame; None before the first frame."""
        view = self._view
        if view is None:
            return None
        self._drain_captures()
        why = self.explanation(view)
        group = view.scored.group
        tracks = view.scored.tracked.tracks
        return {
            "version": self.version,
            "score": _round(group.score),
            "threshold": view.controls.threshold,
            "armed": view.controls.armed,
            "phase": view.trigger.phase,
            "faces": group.face_count,
            "fps": round(view.fps, 1),
            "message": why.text,
            "reason": why.code,
            "ready": view.verdict.ready,
            "holding_back": why.track_id,
            "per_face": [
                {
                    "track_id": f.track_id,
                    "smile_weight": round(f.smile_weight, 3),
                    "eyes_open": round(f.eyes_open, 2),
                    "in_frame": any(t.track_id == f.track_id for t in tracks),
                }
                for f in view.scored.tracked.counted
            ],
            "last_photo": self._last_photo,
        }

    def _drain_captures(self) -> None:
        if self._captures is None:
            return
        with self._lock:
            while (event := self._captures.get(timeout=0)) is not None:
                payload = event.payload
                if isinstance(payload, events.CaptureEvent):
                    self._last_photo = payload.file


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
