"""Decode a video file's next frame on a thread while the loop works on the current one.

A file, unlike a live camera (latest.py), never drops a frame: the reader decodes one
frame ahead and waits for the loop. It decodes (OpenCV's grab(): FFmpeg's H.264 decode,
7 of 11.6 ms CPU a 1080p frame here) and converts to BGR (retrieve(), 1.7 ms) into the
other of two full-size buffers, while the loop downscales (2.7 ms) and steps on the frame
in the first: that splits a frame's work most evenly between the two threads. A buffer
goes back to the reader only when the loop asks for the next frame, since until then the
loop may still read the frame in it (its photo; a frame the loop keeps is copied out by
`Frame.keep()`). Measured on crowd_1080p (1 thread, alternated runs, medians of 7): the
whole loop at 65 fps against 55 reading on the loop's thread (with FFmpeg's own two
decoding threads) and 57 with one buffer (converting when the loop asks, 5 MB less);
slower with the downscale on the reader too (the reader is then the slower side).

Decodes run in order on one worker thread; each frame, the end and any error come back
through a future in the order asked for, so a replay decides the same however the two
threads interleave.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from edge.io.sources.base import PhotoError


class DecodeBuffer:
    """A full-size buffer frames are decoded into (None until the first decode allocates
    it), and how many times it was handed back to the reader, so a photo still pointing at
    it can tell it now holds a later frame."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None
        self.returns = 0

    def check(self, returns: int) -> None:
        """PhotoError unless the buffer still holds the frame it held at `returns`."""
        if self.returns != returns:
            raise PhotoError("the frame's decode buffer holds a later frame now (keep() it)")


@dataclass(frozen=True)
class Decoded:
    """One decoded frame: its image (in the buffer's array; None for a bad frame) and its
    time on the file's own clock."""

    image: np.ndarray | None
    timestamp: float
    buffer: DecodeBuffer


# Decodes the next frame into the buffer (or allocates): the frame, or None at the end.
Decode = Callable[[DecodeBuffer], Decoded | None]


class ReadAhead:
    def __init__(self, decode: Decode, name: str) -> None:
        """Starts decoding the first frame now."""
        self._decode = decode
        self._buffers = (DecodeBuffer(), DecodeBuffer())
        self._turn = 0  # the buffer the frame being decoded goes into
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"reader-{name}")
        self._stopping = False
        self._next: Future[Decoded | None] = self._worker.submit(decode, self._buffers[0])

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def ahead(self) -> bool:
        """The next frame is decoded (or the end found) and waits to be taken."""
        return self._next.done()

    def take(self) -> Decoded | None:
        """The next frame in order (None at the end; the decode's error, raised, again at
        every call), with the reader set on the frame after it. That one goes into the
        other buffer, the previous frame's: the caller is done with it now."""
        decoded = self._next.result()
        if decoded is not None:
            self._turn ^= 1
            other = self._buffers[self._turn]
            other.returns += 1
            self._next = self._worker.submit(self._decode, other)
        return decoded

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop after the decode in progress; False if it is still running after `timeout`
        (the thread then ends when it returns)."""
        self._stopping = True
        self._worker.shutdown(wait=False, cancel_futures=True)
        if wait([self._next], timeout).not_done:
            return False
        self._worker.shutdown(wait=True)  # the decode is done: the thread is leaving
        return True
