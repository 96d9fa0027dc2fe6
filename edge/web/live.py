"""The live view: the loop's newest frame, drawn and JPEG-encoded a few times a second.

The frame loop only hands over references (`offer`: a lock and two assignments, nothing at
all while nobody watches). Drawing and encoding run on the view's own thread, at most
`fps` times a second, always on the newest frame: a slow phone gets fewer frames, never a
queue, and the loop never waits for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2

from edge.annotate import draw_mesh
from edge.decide.explain import Explanation
from edge.io import image_io
from edge.loop import LoopView
from edge.web.markers import draw_markers, face_numbers

MAX_VIEWERS = 4  # each viewer holds a worker thread while it waits for the next frame


@dataclass(frozen=True)
class LiveFrame:
    number: int  # increases with every encoded frame
    jpeg: bytes


class TooManyViewersError(RuntimeError):
    """Every viewer slot is taken."""


class LiveView:
    def __init__(self, fps: float = 5.0, width: int = 640, quality: int = 70) -> None:
        self.fps = fps
        self.width = width
        self.quality = quality
        self.encoded = 0  # frames drawn and encoded (none while nobody watches)
        self.encode_s = 0.0  # the time that took, on the view's thread
        self._viewers = 0
        self._newest: tuple[LoopView, Callable[[LoopView], Explanation]] | None = None
        self._fresh = False
        self._frame: LiveFrame | None = None
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the frame loop's side -----------------------------------------------------------

    def offer(self, view: LoopView, why: Callable[[LoopView], Explanation]) -> None:
        """The loop's newest decided frame (references only: never copied here); `why` is
        run on the view's thread to mark the face the booth waits on."""
        if not self._viewers:
            return
        with self._lock:
            self._newest = (view, why)
            self._fresh = True
            self._lock.notify_all()

    # -- the viewers' side ---------------------------------------------------------------

    def join(self) -> None:
        with self._lock:
            if self._viewers >= MAX_VIEWERS:
                raise TooManyViewersError(f"the live view has {MAX_VIEWERS} viewers already")
            self._viewers += 1
            if self._thread is None:  # started by the first viewer, idle while none watch
                self._thread = threading.Thread(target=self._encode_loop, name="live", daemon=True)
                self._thread.start()

    def leave(self) -> None:
        with self._lock:
            self._viewers = max(0, self._viewers - 1)
            if not self._viewers:
                self._newest, self._fresh = None, False  # hold no frame while nobody watches

    @property
    def viewers(self) -> int:
        return self._viewers

    def next_frame(self, after: int, timeout: float) -> LiveFrame | None:
        """The first encoded frame numbered above `after`, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._frame is None or self._frame.number <= after:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set() or not self._viewers:
                    return None
                self._lock.wait(remaining)
            return self._frame

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(2.0)

    # -- the view's own thread -----------------------------------------------------------

    def _encode_loop(self) -> None:
        interval = 1.0 / self.fps
        while not self._stop.is_set():
            with self._lock:
                while (not self._fresh or self._newest is None) and not self._stop.is_set():
                    self._lock.wait(0.5)
                if self._stop.is_set() or self._newest is None:
                    return
                view, why = self._newest
                self._fresh = False
            started = time.monotonic()
            jpeg = self._draw(view, why(view))
            with self._lock:
                number = 1 if self._frame is None else self._frame.number + 1
                self._frame = LiveFrame(number, jpeg)
                self.encoded += 1
                self.encode_s += time.monotonic() - started
                self._lock.notify_all()
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def _draw(self, view: LoopView, why: Explanation) -> bytes:
        """Numbered markers (edge.web.markers): the details are in the page's list; the
        face mesh's eyes, brows, nose and lips on each face whose eyes it read."""
        tracked = view.scored.tracked
        drawn = view.scored.frame.image.copy()
        if drawn.ndim == 2:
            drawn = cv2.cvtColor(drawn, cv2.COLOR_GRAY2BGR)
        numbers = face_numbers(tracked.counted)
        smoothed = {face.track_id: face for face in tracked.counted}
        holding_back = numbers.get(why.track_id) if why.track_id is not None else None
        for face in tracked.result.faces:  # faces whose eyes the mesh read (eyes.reader)
            if face.mesh is not None:
                draw_mesh(drawn, face.mesh, 1)
        draw_markers(
            drawn,
            [face.face.box for face in tracked.result.faces],
            [smoothed.get(track.track_id) for track in tracked.tracks],
            [numbers.get(track.track_id, 0) for track in tracked.tracks],
            holding_back,
        )
        height, width = drawn.shape[:2]
        if width > self.width:
            size = (self.width, max(1, round(height * self.width / width)))
            drawn = cv2.resize(drawn, size, interpolation=cv2.INTER_AREA)
        return image_io.encode_jpeg(drawn, quality=self.quality)
