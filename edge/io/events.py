"""The in-process event stream: the frame loop publishes, publishers (MQTT, logs) subscribe.

Events are small frozen dataclasses, each made by one builder here; a subscriber only
serialises what it is given (as_json), it never reads files or the loop's state.

Publishing never blocks: each subscriber has its own bounded queue, and when a slow
subscriber's queue is full its oldest event is dropped and counted, so a dead broker or a
stuck consumer can never stall the frame loop or grow memory without bound.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from edge.io.serialize import face_to_dict, group_to_dict

if TYPE_CHECKING:
    from edge.decide.burst import ScoredFrame
    from edge.decide.control import ControlState
    from edge.decide.explain import Explanation
    from edge.io.capture import Saved

# Event kinds published by the loop.
SCORE = "score"  # every scored frame: group score, faces
CAPTURE = "capture"  # a photo was saved: file name, time, scores
STATE = "state"  # armed/threshold/phase/fps/faces changed, or periodically
ERROR = "error"  # something went wrong that a remote operator should see
COUNT = "count"  # a running count changed (photos taken, ...)
# Where errors come from; Home Assistant's error event types (any other source: "other").
ERROR_SOURCES = ("camera", "capture", "command", "disk", "printer")


class Payload(Protocol):
    """What the bus carries: a frozen event that knows its kind and its JSON form."""

    kind: ClassVar[str]

    def as_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ScoreEvent:
    """One scored frame: the smoothed group rating, the raw score, every face."""

    kind: ClassVar[str] = SCORE
    score: float | None
    faces: int
    average_smile: float | None
    open_eye_ratio: float | None
    raw_score: float | None = None
    per_face: tuple[dict[str, Any], ...] = ()
    ready: bool = False  # the trigger rule says this frame is good to fire on

    def as_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "per_face": list(self.per_face)}


@dataclass(frozen=True)
class CaptureEvent:
    """A photo was saved: what its sidecar says, and the JPEG itself (for include_image)."""

    kind: ClassVar[str] = CAPTURE
    file: str
    time: str
    reason: str = ""
    score: float | None = None
    smoothed: dict[str, Any] = field(default_factory=dict)
    faces: tuple[dict[str, Any], ...] = ()
    photo: bytes = field(default=b"", repr=False)
    event: dict[str, Any] = field(default_factory=dict)  # the event's name and counters

    def as_json(self) -> dict[str, Any]:
        """The capture message: everything but the photo's bytes."""
        return {
            "file": self.file,
            "time": self.time,
            "reason": self.reason,
            "score": self.score,
            "smoothed": self.smoothed,
            "faces": list(self.faces),
            "event": self.event,
        }


@dataclass(frozen=True)
class StateEvent:
    """The booth's state as the loop sees it on one frame."""

    kind: ClassVar[str] = STATE
    armed: bool
    threshold: float
    phase: str
    fps: float
    faces: int
    ready: bool = False  # the trigger rule is satisfied on this frame
    reason: str = ""  # why not (edge.decide.explain codes: "not_smiling", "eyes_closed", ...)
    held_by: int | None = None  # the track id of the face that holds the shutter back
    message: str = ""  # the page's sentence for it

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ErrorEvent:
    """Something a remote operator should see (a lost camera, a full disk)."""

    kind: ClassVar[str] = ERROR
    message: str
    source: str  # "camera", "capture"

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CountEvent:
    """A running count since start-up (photos taken, ...): any part may publish one."""

    kind: ClassVar[str] = COUNT
    name: str
    value: int

    def as_json(self) -> dict[str, Any]:
        return {self.name: self.value}


def score_event(scored: ScoredFrame, ready: bool = False) -> ScoreEvent:
    """The SCORE event of a frame after tracking and the live rating."""
    group, tracked = scored.group, scored.tracked
    per_face = tuple(
        {"track_id": t.track_id, **face_to_dict(f)}
        for t, f in zip(tracked.tracks, tracked.result.faces, strict=True)
    )
    return ScoreEvent(
        raw_score=_round(tracked.result.group.score),
        per_face=per_face,
        ready=ready,
        **group_to_dict(group),
    )


def capture_event(
    sidecar: dict[str, Any], saved: Saved, counters: dict[str, Any] | None = None
) -> CaptureEvent:
    """The CAPTURE event of a saved photo, from its sidecar and the bytes written; with the
    event's counters after it (`EventCounters.snapshot()`)."""
    return CaptureEvent(
        file=saved.photo.name,
        time=sidecar["time"],
        reason=sidecar["reason"],
        score=sidecar["score"],
        smoothed=sidecar["smoothed"],
        faces=tuple(sidecar["faces"]),
        photo=saved.jpeg,
        event=dict(counters or {}),
    )


def last_capture(folder: Path) -> CaptureEvent | None:
    """The newest photo of `folder` as a CAPTURE event (from its sidecar; no bytes), for a
    feed that starts again after the broker lost its retained messages. None when the
    folder holds no photo with a readable sidecar."""
    try:
        sidecars = sorted(folder.glob("*.json"), reverse=True)
    except OSError:
        return None
    for path in sidecars[:20]:  # the newest few: a torn or foreign file is skipped
        photo = path.with_suffix(".jpg")
        try:
            sidecar = json.loads(path.read_text(encoding="utf-8"))
            if not photo.is_file():
                continue
            return CaptureEvent(
                file=photo.name,
                time=sidecar["time"],
                reason=sidecar["reason"],
                score=sidecar["score"],
                smoothed=sidecar["smoothed"],
                faces=tuple(sidecar["faces"]),
                photo=b"",
                event={},
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def state_event(
    controls: ControlState,
    phase: str,
    fps: float,
    faces: int,
    why: Explanation | None = None,
    ready: bool = False,
) -> StateEvent:
    """The STATE event: the operator's controls and the loop's phase, fps and faces, and
    why the shutter waits (which face holds it back)."""
    if why is None:
        return StateEvent(controls.armed, controls.threshold, phase, round(fps, 1), faces)
    return StateEvent(
        controls.armed,
        controls.threshold,
        phase,
        round(fps, 1),
        faces,
        ready=ready,
        reason=why.code,
        held_by=why.track_id,
        message=why.text,
    )


def error_event(message: str, source: str) -> ErrorEvent:
    return ErrorEvent(message, source)


def count_event(name: str, value: int) -> CountEvent:
    return CountEvent(name, value)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class Event:
    kind: str
    payload: Payload
    time: float = field(default_factory=time.time)


class Subscription:
    """A bounded queue of events for one consumer; oldest dropped when full."""

    def __init__(self, kinds: frozenset[str] | None, maxsize: int) -> None:
        self.kinds = kinds
        self.dropped = 0
        self._items: collections.deque[Event] = collections.deque()
        self._maxsize = maxsize
        self._ready = threading.Condition()
        self.closed = False

    def offer(self, event: Event) -> None:
        if self.kinds is not None and event.kind not in self.kinds:
            return
        with self._ready:
            if len(self._items) >= self._maxsize:
                self._items.popleft()
                self.dropped += 1
            self._items.append(event)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after timeout (or once closed and drained)."""
        with self._ready:
            if not self._items and not self.closed:
                self._ready.wait(timeout)
            return self._items.popleft() if self._items else None

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify_all()

    def __len__(self) -> int:
        return len(self._items)


class EventBus:
    """Fan-out of events to subscribers; publish() is O(subscribers) and never waits."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, kinds: set[str] | None = None, maxsize: int = 256) -> Subscription:
        subscription = Subscription(frozenset(kinds) if kinds else None, maxsize)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
        subscription.close()

    def publish(self, payload: Payload, when: float | None = None) -> None:
        event = Event(payload.kind, payload, time.time() if when is None else when)
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer(event)
