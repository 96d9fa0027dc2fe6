"""The frame loop: read -> pipeline -> track -> rate -> trigger -> burst -> capture, + events.

All decisions are pure (tracking, the group rating, trigger policy); this module only
moves data between them and the I/O at the edges (source, photo store, event bus). Its
parts are built by edge.compose.build_loop and frozen: nothing is swapped in a built loop.
A bad frame or a failed capture is counted and reported; only the stop event or the end
of a file ends the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edge import exit_codes
from edge.config.decide import ScoringConfig, TriggerConfig
from edge.decide.burst import Burst, ScoredFrame, capture_sidecar
from edge.decide.control import Controls, ControlState
from edge.decide.explain import explain
from edge.decide.rule import Verdict, is_closed, judge, live_views
from edge.decide.scoring import smoothed_group
from edge.decide.tracking import Tracker
from edge.decide.trigger import TriggerState, burst_open, step
from edge.io import events
from edge.io.capture import CaptureError, PhotoStore
from edge.io.notify import Notifier
from edge.io.sources.base import Frame, FrameSource, PhotoError, SourceError, SourceLostError
from edge.io.sources.opener import open_watched
from edge.io.status import StatusReporter
from edge.types import Detail, FrameResult

log = logging.getLogger(__name__)
OPEN_DEADLINE_S = 120.0  # a camera open this long is hung, not slow (streams time out at 10 s)


class FrameProcessor(Protocol):
    def process(self, frame_bgr: np.ndarray, detail: Detail | None = None) -> FrameResult: ...


@dataclass(frozen=True)
class LoopView:
    """One frame as the loop decided it, for watchers (the web page): references only, so
    handing it over costs the loop nothing; a watcher does its own work on its own thread."""

    scored: ScoredFrame
    controls: ControlState
    trigger: TriggerState
    now: float  # the frame's clock (trigger times are on it)
    eyes_closed: bool  # some face's eyes read closed this frame (what blocks a fire)
    fps: float
    verdict: Verdict  # the rule on this frame: ready, or why not and the face it waits on


@dataclass(frozen=True)
class LoopParts:
    source: FrameSource
    pipeline: FrameProcessor
    tracker: Tracker
    scoring: ScoringConfig
    trigger: TriggerConfig
    store: PhotoStore
    bus: events.EventBus
    controls: Controls
    status: StatusReporter
    # systemd: tick() per frame (READY, watchdog); waiting() at least every keepalive_s
    # while the camera is away: waiting for a camera is not a hang, a stuck read still is.
    notifier: Notifier
    sidecar_extra: dict[str, Any] = field(default_factory=dict)  # config digest, model hashes
    on_frame: Callable[[], None] | None = None  # an extra per-frame hook (tests, tools)
    # Sees every decided frame (the web page's live view and "now" panel); must not block.
    observer: Callable[[LoopView], None] | None = None
    reopen: tuple[float, float] = (0.5, 30.0)  # first and longest wait before reopening
    smiling_threshold: float = 0.5  # smile.smiling_threshold: trigger.rule everyone reads it
    # Waits before a reopen; returns True when stopping. None: the stop event's wait.
    wait: Callable[[float], bool] | None = None


@dataclass
class Counters:
    frames: int = 0
    bad_frames: int = 0
    captures: int = 0
    capture_failures: int = 0
    reopens: int = 0
    best_score: float | None = None  # the highest smoothed group score seen (what fires)
    longest_hold_s: float | None = None  # the longest the trigger held it (None: never)
    # Frames whose score was at the threshold but the rule said not yet, by its reason
    # ("not_smiling", "eyes_closed", "few_faces"): why a replay took no photo.
    held_back: dict[str, int] = field(default_factory=dict)


class FrameLoop:
    def __init__(
        self, parts: LoopParts, stop: threading.Event, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.parts = parts
        self.stop = stop
        self.clock = clock
        self.counters = Counters()
        self.state = TriggerState()
        self.burst: Burst | None = None
        self._last_faces = -1
        self._last_state_key: tuple[object, ...] | None = None
        self._last_why: tuple[object, ...] = ()
        self._last_state_at = float("-inf")
        self._figures_now: dict[str, object] = {}
        self._reopen_delay: float | None = None  # None: the first wait of parts.reopen
        self._closed_since: dict[int, float] = {}  # track id -> read closed since (frame clock)
        self._patience_spent: set[int] = set()  # tracks already told to stop holding

    def run(self) -> int:
        """Until stopped or the input ends; 0 normally, 4 if a file or folder cannot be opened.

        A camera missing at start is waited for with the same backoff as one lost later
        (a booth switched on before its USB camera is plugged in is not broken).
        """
        if hasattr(self.parts.source, "should_stop"):  # checked while a read waits
            self.parts.source.should_stop = self._waiting_on_source
        try:
            if self._open_source():
                return 0
        except SourceError as exc:
            log.error("%s", exc)
            self.parts.bus.publish(events.error_event(str(exc), "camera"))
            if not self.parts.source.live:
                return exit_codes.SOURCE
            if not self._reopen("camera not found"):
                return 0
        try:
            self.parts.store.open()
        except CaptureError as exc:  # a disk state that may pass: score on, retry per photo
            self._report_error(str(exc), "capture")
        try:
            while not self.stop.is_set():
                frame = self._next_frame()
                if frame is None:
                    break
                self.step(frame)
        finally:
            self.finish()
            self.parts.source.close()
            final = {
                "frames": self.counters.frames,
                "captures": self.counters.captures,  # the burst finish() saved included
                "failed": self.counters.capture_failures,
            }
            self.parts.status.report(self.clock(), {**self._figures_now, **final})
        log.info("loop ended: %s", self.counters)
        return 0

    def _next_frame(self) -> Frame | None:
        """The next frame; a lost camera is reopened (with backoff) until it works or we stop."""
        while not self.stop.is_set():
            try:
                frame = self.parts.source.read()
                # Backoff resets on a delivered frame, not on a successful open: a stream
                # that opens but sends nothing must not be reopened twice a second.
                self._reopen_delay = None
                return frame
            except SourceLostError as exc:
                self._report_error(f"camera lost: {exc}", "camera")
            if not self._reopen("camera lost"):
                return None
        return None

    def _reopen(self, why: str) -> bool:
        """Close, wait, open; the wait doubles up to the longest, and keeps growing across
        reopens until a frame arrives. False when stopping."""
        first, longest = self.parts.reopen
        delay = first if self._reopen_delay is None else self._reopen_delay
        while True:
            self.parts.source.close()
            if self._wait(delay, why):
                return False
            try:
                if self._open_source():
                    return False
            except (SourceError, SourceLostError) as exc:
                delay = min(delay * 2, longest)
                self._report_error(f"reopen failed: {exc}; next try in {delay:.1f} s", "camera")
                continue
            self._reopen_delay = min(delay * 2, longest)  # if it fails again before a frame
            self.counters.reopens += 1
            log.info("camera reopened")
            return True

    def _waiting_on_source(self) -> bool:
        """Called by a source while a read waits (between a replay's files, while a stream
        stalls): the watchdog is pinged when due, and True means stop now."""
        self.parts.notifier.keepalive()
        return self.stop.is_set()

    def _open_source(self) -> bool:
        """Open the source; True when stopped first. A camera opens on a thread of its own
        while this one pings systemd and watches the stop event (a stream that accepts and
        never answers must not silence the watchdog or hold a SIGTERM); an open stuck past
        OPEN_DEADLINE_S gets no more pings, so systemd restarts a truly hung service."""
        source = self.parts.source
        if not source.live:
            source.open()
            return False
        notifier = self.parts.notifier

        def keepalive(elapsed: float) -> None:
            if elapsed <= OPEN_DEADLINE_S:
                notifier.waiting(f"opening the camera ({elapsed:.0f} s)")
            elif elapsed - OPEN_DEADLINE_S < notifier.keepalive_s / 2:
                log.error("camera open stuck for %.0f s: no more watchdog pings", elapsed)

        return open_watched(source, self.stop, keepalive, notifier.keepalive_s / 2)

    def _wait(self, seconds: float, why: str) -> bool:
        """Wait `seconds` (True when stopping), calling keepalive at least every keepalive_s."""
        wait = self.parts.wait or self.stop.wait
        notifier = self.parts.notifier
        remaining = seconds
        while True:
            notifier.waiting(f"{why}, retry in {max(remaining, 0.0):.0f} s")
            chunk = min(remaining, notifier.keepalive_s)
            if wait(chunk):
                return True
            remaining -= chunk
            if remaining <= 1e-6:
                return False

    def step(self, frame: Frame) -> None:
        """One frame through the pipeline, tracking, trigger and (maybe) capture.

        Decisions run on the frame's own clock (a replayed video decides as it would live);
        the status line runs on the wall clock.
        """
        now, wall = frame.timestamp, self.clock()
        eye_schedule = getattr(self.parts.pipeline, "eye_schedule", None)
        if eye_schedule is not None:  # every face's eyes on every frame of a hold or burst
            eye_schedule.urgent = self.state.phase in ("holding", "burst")
        try:
            result = self.parts.pipeline.process(frame.image, frame.detail)
        except Exception as exc:  # a frame the models choke on must not end the loop
            self.counters.bad_frames += 1
            log.warning("frame %d skipped: %s", frame.index, exc)
            return
        self.counters.frames += 1
        tracked = self.parts.tracker.update(result)
        scored = ScoredFrame(frame, tracked, smoothed_group(tracked.counted, self.parts.scoring))
        if scored.group.score is not None:
            best = self.counters.best_score
            self.counters.best_score = max(scored.group.score, best or 0.0)
        controls = self.parts.controls.take()
        trigger = self.parts.trigger
        # Each face's last reading: one missed for a frame still holds the shutter with it.
        tracks = self.parts.tracker.tracks
        closed = self._closed_patiently(
            {t.track_id for t in tracks if t.last is not None and is_closed(t.last)}, now
        )
        views = live_views(tracked.counted, closed, self.parts.scoring)
        verdict = judge(
            scored.group.score, views, controls.threshold, trigger, self.parts.smiling_threshold
        )
        score = scored.group.score
        if score is not None and score >= controls.threshold and verdict.reason != "ready":
            held_back = self.counters.held_back
            held_back[verdict.reason] = held_back.get(verdict.reason, 0) + 1
        decision = step(self.state, now, scored.group.score, verdict, controls, trigger)
        self.state = decision.state
        if self.state.phase == "holding":
            held = now - self.state.since
            self.counters.longest_hold_s = max(held, self.counters.longest_hold_s or 0.0)
        self._publish(scored, controls, verdict, now, wall)
        if decision.fire:
            # A manual fire is named by who asked (the page/MQTT, or the GPIO button).
            reason = controls.trigger_by if decision.reason == "manual" else decision.reason
            log.info("shutter: %s (score %s)", reason, _fmt(scored.group.score))
            self.finish()  # a burst the trigger ended on this very frame is saved first
            self.burst = Burst(reason, avoid_closed_eyes=trigger.block_on_closed_eyes)
        if self.burst is not None:
            self.burst.offer(scored, verdict.ready)
            if not burst_open(self.state, now, trigger):  # the trigger times the window
                self.finish()
        self._figures_now = self._figures(scored)
        self.parts.status.frame(wall, self._figures_now)
        self.parts.notifier.tick()
        if self.parts.observer is not None:
            fps = self.parts.status.fps
            view = LoopView(scored, controls, self.state, now, bool(closed), fps, verdict)
            self.parts.observer(view)
        if self.parts.on_frame is not None:
            self.parts.on_frame()

    def _closed_patiently(self, closed: set[int], now: float) -> set[int]:
        """The faces read closed that still hold the shutter: not those read closed for
        `trigger.closed_eyes_patience_s` without a break (sunglasses, not a blink)."""
        since = self._closed_since
        for track_id in list(since):
            if track_id not in closed:
                del since[track_id]
        patience = self.parts.trigger.closed_eyes_patience_s
        holding = set()
        for track_id in closed:
            started = since.setdefault(track_id, now)
            if patience <= 0 or now - started < patience:
                holding.add(track_id)
            elif track_id not in self._patience_spent:
                self._patience_spent.add(track_id)
                log.info(
                    "face %d: eyes read closed for %.0f s: no longer holding the shutter "
                    "(trigger.closed_eyes_patience_s)",
                    track_id,
                    now - started,
                )
        self._patience_spent &= set(since)
        return holding

    def finish(self) -> None:
        """Save the best frame of the burst, if one is open (its window ended, the input
        ended, or the loop is stopping)."""
        burst, self.burst = self.burst, None
        if burst is not None and burst.best is not None:
            self._save(burst.best, burst.reason)

    def _save(self, scored: ScoredFrame, reason: str) -> None:
        when = time.time()
        try:
            image = scored.frame.capture_image  # first: a still mode's photo knows its size after
            sidecar = capture_sidecar(scored, reason, when, self.parts.sidecar_extra)
            camera = getattr(self.parts.source, "camera", None)  # make/model, when known
            saved = self.parts.store.save(image, sidecar, when, camera)
        except (CaptureError, PhotoError) as exc:
            self.counters.capture_failures += 1
            self._report_error(str(exc), "capture")
            return
        self.counters.captures += 1
        log.info("saved %s", saved.photo)
        counters = self.parts.store.counters.snapshot()
        self.parts.bus.publish(events.capture_event(sidecar, saved, counters))
        # The event's own count: it survives a restart (Home Assistant's photo counter).
        self.parts.bus.publish(events.count_event("photos", int(counters["photos"])))

    def _publish(
        self, scored: ScoredFrame, controls: ControlState, verdict: Verdict, now: float, wall: float
    ) -> None:
        bus, group = self.parts.bus, scored.group
        bus.publish(events.score_event(scored, verdict.ready))
        # The retained state topic: armed, threshold or phase changes go out at once; a face
        # count or a reason that flickers every frame at most once per state_min_interval_s.
        key = (controls.armed, controls.threshold, self.state.phase)
        why = explain(self.state, now, verdict, group.face_count, controls, self.parts.trigger)
        changed = (group.face_count, why.code, why.track_id) != (self._last_faces, *self._last_why)
        since = wall - self._last_state_at
        config = self.parts.status.config
        if (
            key != self._last_state_key
            or (changed and since >= config.state_min_interval_s)
            or since >= config.state_interval_s
        ):
            fps = self.parts.status.fps
            state = events.state_event(
                controls, self.state.phase, fps, group.face_count, why, verdict.ready
            )
            bus.publish(state)
            self._last_state_at = wall
            self._last_state_key, self._last_faces = key, group.face_count
            self._last_why = (why.code, why.track_id)

    def _figures(self, scored: ScoredFrame) -> dict[str, object]:
        source = self.parts.source
        return {
            "faces": scored.group.face_count,
            "score": _fmt(scored.group.score),
            "phase": self.state.phase,
            "dropped": source.dropped_frames,
            "bad": source.bad_frames + self.counters.bad_frames,
            "captures": self.counters.captures if self.parts.store.ready else "off",
            "reopens": self.counters.reopens,
        }

    def _report_error(self, message: str, where: str) -> None:
        log.warning("%s", message)
        self.parts.bus.publish(events.error_event(message, where))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
