"""The frame loop: read -> score -> track -> decide -> capture, plus events and status.

All decisions are pure (tracking, trigger policy); this module only moves data between
them and the I/O at the edges (source, photo store, event bus). A bad frame or a failed
capture is counted and reported; only the stop event or the end of a file ends the loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edge import events, exit_codes
from edge.capture import CaptureError, PhotoStore
from edge.control import Controls, ControlState
from edge.serialize import face_to_dict, group_to_dict
from edge.sources.base import Frame, FrameSource, PhotoError, SourceError, SourceLostError
from edge.status import StatusReporter
from edge.tracking import TrackedFrame, Tracker
from edge.trigger import TriggerConfig, TriggerState, step
from edge.types import FrameResult

log = logging.getLogger(__name__)


class FrameProcessor(Protocol):
    def process(self, frame_bgr: np.ndarray) -> FrameResult: ...


@dataclass
class Burst:
    """After a fire: the best-scoring frame seen until `until`."""

    until: float
    reason: str
    best: tuple[tuple[bool, float], Frame, TrackedFrame] | None = None
    avoid_closed_eyes: bool = True  # rank any frame without closed eyes above those with

    def offer(self, frame: Frame, tracked: TrackedFrame) -> None:
        score = tracked.result.group.score if tracked.result.group.score is not None else -1.0
        rank = (not (self.avoid_closed_eyes and eyes_closed(tracked.result)), score)
        if self.best is None or rank > self.best[0]:
            # keep(): a camera frame's photo is copied out of its buffer only here.
            self.best = (rank, frame.keep(), tracked)


@dataclass
class LoopParts:
    source: FrameSource
    pipeline: FrameProcessor
    tracker: Tracker
    trigger: TriggerConfig
    store: PhotoStore
    bus: events.EventBus
    controls: Controls
    status: StatusReporter
    sidecar_extra: dict[str, Any] = field(default_factory=dict)  # config digest, model hashes
    on_frame: Callable[[], None] | None = None  # e.g. the systemd watchdog ping
    reopen: tuple[float, float] = (0.5, 30.0)  # first and longest wait before reopening
    # Waits before a reopen; returns True when stopping. None: the stop event's wait.
    wait: Callable[[float], bool] | None = None
    # Called with a status line at least every `keepalive_s` while the camera is away (the
    # systemd watchdog ping): waiting for a camera is not a hang, a stuck read still is.
    keepalive: Callable[[str], None] | None = None
    keepalive_s: float = 1.0


@dataclass
class Counters:
    frames: int = 0
    bad_frames: int = 0
    captures: int = 0
    capture_failures: int = 0
    reopens: int = 0


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
        self._last_controls: ControlState | None = None
        self._last_faces = -1
        self._last_state_key: tuple[object, ...] | None = None
        self._last_state_at = float("-inf")
        self._figures_now: dict[str, object] = {}
        self._reopen_delay: float | None = None  # None: the first wait of parts.reopen

    def run(self) -> int:
        """Until stopped or the input ends; 0 normally, 4 if a file or folder cannot be opened.

        A camera missing at start is waited for with the same backoff as one lost later
        (a booth switched on before its USB camera is plugged in is not broken).
        """
        if hasattr(self.parts.source, "should_stop"):  # a replay checks it between files
            self.parts.source.should_stop = self.stop.is_set
        try:
            self.parts.source.open()
        except SourceError as exc:
            log.error("%s", exc)
            self.parts.bus.publish(events.ERROR, {"message": str(exc), "source": "camera"})
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
                self.parts.source.open()
            except (SourceError, SourceLostError) as exc:
                delay = min(delay * 2, longest)
                self._report_error(f"reopen failed: {exc}; next try in {delay:.1f} s", "camera")
                continue
            self._reopen_delay = min(delay * 2, longest)  # if it fails again before a frame
            self.counters.reopens += 1
            log.info("camera reopened")
            return True

    def _wait(self, seconds: float, why: str) -> bool:
        """Wait `seconds` (True when stopping), calling keepalive at least every keepalive_s."""
        wait = self.parts.wait or self.stop.wait
        keepalive = self.parts.keepalive
        if keepalive is None:
            return wait(seconds)
        remaining = seconds
        while True:
            keepalive(f"{why}, retry in {max(remaining, 0.0):.0f} s")
            chunk = min(remaining, self.parts.keepalive_s)
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
        try:
            result = self.parts.pipeline.process(frame.image)
        except Exception as exc:  # a frame the models choke on must not end the loop
            self.counters.bad_frames += 1
            log.warning("frame %d skipped: %s", frame.index, exc)
            return
        self.counters.frames += 1
        tracked = self.parts.tracker.update(result)
        controls = self.parts.controls.take()
        decision = step(
            self.state,
            now,
            tracked.group.score,
            tracked.group.face_count,
            controls,
            self.parts.trigger,
            eyes_closed(result),
        )
        self.state = decision.state
        self._publish(tracked, controls, wall)
        if decision.fire:
            log.info("shutter: %s (score %s)", decision.reason, _fmt(tracked.group.score))
            self.burst = Burst(
                now + self.parts.trigger.burst_s,
                decision.reason,
                avoid_closed_eyes=self.parts.trigger.block_on_closed_eyes,
            )
        if self.burst is not None:
            self.burst.offer(frame, tracked)
            self._finish_burst(force=False, now=now)
        self._figures_now = self._figures(tracked)
        self.parts.status.frame(wall, self._figures_now)
        if self.parts.on_frame is not None:
            self.parts.on_frame()

    def finish(self) -> None:
        """Save the best frame of a burst still open (end of input, or stopping)."""
        self._finish_burst(force=True)

    def _finish_burst(self, force: bool, now: float | None = None) -> None:
        burst = self.burst
        if burst is None or burst.best is None:
            return
        if not force and now is not None and now < burst.until:
            return
        self.burst = None
        _, frame, tracked = burst.best
        self._save(frame, tracked, burst.reason)

    def _save(self, frame: Frame, tracked: TrackedFrame, reason: str) -> None:
        when = time.time()
        try:
            image = frame.capture_image  # first: a still mode's photo knows its size after
            sidecar = capture_sidecar(frame, tracked, reason, when, self.parts.sidecar_extra)
            saved = self.parts.store.save(image, sidecar, when)
        except (CaptureError, PhotoError) as exc:
            self.counters.capture_failures += 1
            self._report_error(str(exc), "capture")
            return
        self.counters.captures += 1
        log.info("saved %s", saved.photo)
        self.parts.bus.publish(events.CAPTURE, {**sidecar, "file": saved.photo.name})

    def _publish(self, tracked: TrackedFrame, controls: ControlState, wall: float) -> None:
        bus = self.parts.bus
        bus.publish(
            events.SCORE,
            {
                **group_to_dict(tracked.group),
                "raw_score": _round(tracked.result.group.score),
                "per_face": [
                    {"track_id": t.track_id, **face_to_dict(f)}
                    for t, f in zip(tracked.tracks, tracked.result.faces, strict=True)
                ],
            },
        )
        # The retained state topic: armed, threshold or phase changes go out at once; a face
        # count that flickers every frame at most once per state_min_interval_s.
        key = (controls.armed, controls.threshold, self.state.phase)
        since = wall - self._last_state_at
        config = self.parts.status.config
        if (
            key != self._last_state_key
            or (
                tracked.group.face_count != self._last_faces
                and since >= config.state_min_interval_s
            )
            or since >= config.state_interval_s
        ):
            bus.publish(events.STATE, self.state_payload(controls, tracked.group.face_count))
            self._last_state_at = wall
            self._last_state_key, self._last_faces = key, tracked.group.face_count
        self._last_controls = controls

    def state_payload(self, controls: ControlState, faces: int) -> dict[str, Any]:
        return {
            "armed": controls.armed,
            "threshold": controls.threshold,
            "phase": self.state.phase,
            "fps": round(self.parts.status.fps, 1),
            "faces": faces,
        }

    def _figures(self, tracked: TrackedFrame) -> dict[str, object]:
        source = self.parts.source
        return {
            "faces": tracked.group.face_count,
            "score": _fmt(tracked.group.score),
            "phase": self.state.phase,
            "dropped": source.dropped_frames,
            "bad": source.bad_frames + self.counters.bad_frames,
            "captures": self.counters.captures if self.parts.store.ready else "off",
            "reopens": self.counters.reopens,
        }

    def _report_error(self, message: str, where: str) -> None:
        log.warning("%s", message)
        self.parts.bus.publish(events.ERROR, {"message": message, "source": where})


def eyes_closed(result: FrameResult) -> bool:
    """Some face of the frame had its eyes read, and both read closed."""
    return any(f.eye_open_probability is not None and f.eyes_open == 0 for f in result.faces)


def capture_sidecar(
    frame: Frame, tracked: TrackedFrame, reason: str, when: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """What a photo's JSON sidecar says; boxes in the saved (full-resolution) photo's pixels."""
    sx, sy = frame.scale
    faces = []
    for track, face in zip(tracked.tracks, tracked.result.faces, strict=True):
        entry = face_to_dict(face)
        entry["box"] = face.face.box.scale(sx, sy).as_list()
        entry.pop("keypoints", None)
        faces.append({"track_id": track.track_id, **entry})
    return {
        "time": dt.datetime.fromtimestamp(when, dt.timezone.utc).isoformat(),
        "reason": reason,
        "frame_index": frame.index,
        "score": _round(tracked.result.group.score),
        "smoothed": group_to_dict(tracked.group),
        "group": group_to_dict(tracked.result.group),
        "faces": faces,
        **extra,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
