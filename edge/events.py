"""The in-process event stream: the frame loop publishes, publishers (MQTT, logs) subscribe.

Publishing never blocks: each subscriber has its own bounded queue, and when a slow
subscriber's queue is full its oldest event is dropped and counted, so a dead broker or a
stuck consumer can never stall the frame loop or grow memory without bound.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# Event kinds published by the loop.
SCORE = "score"  # every scored frame: group score, faces
CAPTURE = "capture"  # a photo was saved: file name, time, scores
STATE = "state"  # armed/threshold/fps/faces changed or periodic state
ERROR = "error"  # something went wrong that a remote operator should see
STATUS = "status"  # periodic one-line status figures


@dataclass(frozen=True)
class Event:
    kind: str
    payload: dict[str, Any]
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

    def publish(self, kind: str, payload: dict[str, Any], when: float | None = None) -> None:
        event = Event(kind, payload, time.time() if when is None else when)
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer(event)
