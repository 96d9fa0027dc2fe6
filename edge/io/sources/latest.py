"""Keep only the newest frame of a live camera, so the loop never falls behind.

A reader thread pulls frames as fast as the camera gives them and overwrites one slot;
the loop takes whatever is newest. Frames overwritten before the loop saw them are
counted as dropped, so memory stays flat however slow the processing is. A frame that
holds a camera buffer is handed to `discard` when it is overwritten or left at stop, so
the buffer goes back to the camera at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from edge.io.sources.base import Frame, SourceLostError

STOP_POLL_S = 0.1


class LatestFrame:
    def __init__(
        self,
        grab: Callable[[], Frame | None],
        name: str,
        discard: Callable[[Frame], None] | None = None,
    ) -> None:
        self._grab = grab
        self._discard = discard
        self._slot: Frame | None = None
        self._error: BaseException | None = None
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"reader-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._grab()
            except BaseException as exc:  # handed to the loop, which decides
                with self._ready:
                    self._error = exc
                    self._ready.notify_all()
                return
            if frame is None:
                continue
            with self._ready:
                dropped, self._slot = self._slot, frame
                if dropped is not None:
                    self.dropped += 1
                self._ready.notify_all()
            if dropped is not None and self._discard is not None:
                self._discard(dropped)

    def take(self, timeout: float, stopping: Callable[[], bool] = lambda: False) -> Frame | None:
        """The newest frame; SourceLostError if the reader failed or nothing came in time;
        None as soon as `stopping()` (checked every STOP_POLL_S: a stalled stream must not
        hold a SIGTERM for the whole timeout)."""
        deadline = time.monotonic() + timeout
        with self._ready:
            while self._slot is None and self._error is None:
                if stopping():
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._ready.wait(min(remaining, STOP_POLL_S))
            if self._slot is not None:
                frame, self._slot = self._slot, None
                return frame
            if self._error is not None:
                raise SourceLostError(str(self._error)) from self._error
            raise SourceLostError(f"no frame for {timeout:.0f} s")

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the reader to end; False if it is still blocked in a read after `timeout`."""
        self._stop.set()
        self._thread.join(timeout=timeout)
        with self._ready:
            left, self._slot = self._slot, None
        if left is not None and self._discard is not None:
            self._discard(left)
        return not self._thread.is_alive()
