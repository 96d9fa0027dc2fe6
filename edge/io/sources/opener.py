"""A source opened on a thread of its own, so the frame loop's thread never blocks on it.

Why: opening a network camera that accepts the connection and never answers blocks inside
FFmpeg (30 s by default, `source.open_timeout_s` here), and V4L2/libcamera opens can hang
on a sick device. The loop waits for the opener in short steps instead, pinging systemd
and watching its stop event: SIGTERM ends the wait at once. An open abandoned by a
stopping loop closes the source itself when it finally returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from edge.io.sources.base import FrameSource

POLL_S = 0.05  # how soon a finished open or a stop is noticed


class BackgroundOpen:
    def __init__(self, source: FrameSource) -> None:
        self._source = source
        self._done = threading.Event()
        self._abandoned = threading.Event()
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="source-open", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._source.open()
        except BaseException as exc:  # re-raised on the loop's thread by result()
            self._error = exc
        with self._lock:
            self._done.set()
            abandoned = self._abandoned.is_set()
        if abandoned and self._error is None:
            self._source.close()

    def wait(self, seconds: float) -> bool:
        """True once the open has returned (opened or failed)."""
        return self._done.wait(seconds)

    def result(self) -> None:
        """The open's outcome on the caller's thread: nothing, or its exception."""
        if self._error is not None:
            raise self._error

    def abandon(self) -> bool:
        """The loop is stopping: the opener closes what it opens. False if already done."""
        with self._lock:
            self._abandoned.set()
            return not self._done.is_set()


def open_watched(
    source: FrameSource,
    stop: threading.Event,
    keepalive: Callable[[float], None],
    step_s: float,
) -> bool:
    """Open `source` on its own thread, `keepalive(seconds so far)` every `step_s` while it
    runs. True when `stop` was set first (the open is left to finish and close itself);
    otherwise the open's own exception, if any, is raised here."""
    opener = BackgroundOpen(source)
    started = time.monotonic()
    last = -float("inf")
    while not opener.wait(POLL_S):
        if stop.is_set():
            if opener.abandon():
                return True
            break
        now = time.monotonic()
        if now - last >= step_s:
            keepalive(now - started)
            last = now
    opener.result()
    return False
