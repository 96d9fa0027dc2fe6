"""The page's "now" panel: what the booth sees and decides, and why it has not fired yet.

The loop hands every decided frame to `observe` (one assignment; the live view gets it
too). Everything else happens when a page asks, on the web server's side: the snapshot,
the explanation (`edge.decide.explain`), the newest photo from the loop's capture events.
"""

from __future__ import annotations

import threading
from typing import Any

from edge.config.decide import TriggerConfig
from edge.decide.explain import PHASE_WORDS, Explanation, explain, face_ready
from edge.io import events
from edge.io.counters import EventCounters
from edge.io.printer import PrintService
from edge.loop import LoopView
from edge.web.live import LiveView
from edge.web.markers import face_numbers
from edge.web.mirror import no_reason


class NowBoard:
    def __init__(
        self,
        trigger: TriggerConfig,
        live: LiveView | None = None,
        mirror: LiveView | None = None,
    ) -> None:
        self.trigger = trigger
        self.live = live
        self.mirror = mirror  # the guest screen's plain picture (edge.web.mirror)
        self.version = 0  # grows with every frame: a page sends only what changed
        self._view: LoopView | None = None
        self._captures: events.Subscription | None = None
        self._last_photo: str | None = None
        self._lock = threading.Lock()
        # Set by `run`: the event's counters and the print queue, shown beside the figures.
        self.counters: EventCounters | None = None
        self.printer: PrintService | None = None

    # -- the frame loop's side -----------------------------------------------------------

    def observe(self, view: LoopView) -> None:
        self._view = view
        self.version += 1
        if self.live is not None:
            self.live.offer(view, self.explanation)
        if self.mirror is not None:
            self.mirror.offer(view, no_reason)

    def close(self) -> None:
        """Stop the views' threads (at the web server's stop)."""
        for view in (self.live, self.mirror):
            if view is not None:
                view.close()

    def attach(self, bus: events.EventBus) -> None:
        """Follow the loop's capture events (for "last photo")."""
        self._captures = bus.subscribe({events.CAPTURE}, maxsize=8)

    # -- the page's side -----------------------------------------------------------------

    @property
    def view(self) -> LoopView | None:
        """The newest decided frame (None before the first)."""
        return self._view

    def last_photo(self) -> str | None:
        """The newest photo's file name from the loop's capture events."""
        self._drain_captures()
        return self._last_photo

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
        return {
            "version": self.version,
            "score": _round(group.score),
            "threshold": view.controls.threshold,
            "armed": view.controls.armed,
            "phase": view.trigger.phase,
            "phase_words": PHASE_WORDS.get(view.trigger.phase, view.trigger.phase),
            "faces": group.face_count,
            "fps": round(view.fps, 1),
            "message": why.text,
            "reason": why.code,
            "ready": view.verdict.ready,
            "holding_back": why.track_id,
            "per_face": _per_face(view),
            "last_photo": self._last_photo,
            "event": self.counters.snapshot() if self.counters is not None else None,
            "printing": self._printing(),
        }

    def _printing(self) -> dict[str, Any] | None:
        if self.printer is None:
            return None
        status = self.printer.status()
        return {"waiting": status["waiting"], "last_error": status["last_error"]}

    def _drain_captures(self) -> None:
        if self._captures is None:
            return
        with self._lock:
            while (event := self._captures.get(timeout=0)) is not None:
                payload = event.payload
                if isinstance(payload, events.CaptureEvent):
                    self._last_photo = payload.file


def _per_face(view: LoopView) -> list[dict[str, Any]]:
    """Each counted face, numbered as the live view's markers (edge.web.markers)."""
    seen = {track.track_id for track in view.scored.tracked.tracks}
    numbers = face_numbers(view.scored.tracked.counted)
    faces = []
    for face in view.scored.tracked.counted:
        smiling, eyes_ok = face_ready(face)
        faces.append(
            {
                "number": numbers[face.track_id],
                "track_id": face.track_id,
                "smile_weight": round(face.smile_weight, 3),
                "eyes_open": round(face.eyes_open, 2),
                "in_frame": face.track_id in seen,
                "smiling": smiling,
                "eyes_ok": eyes_ok,
            }
        )
    return faces


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
