"""Decode a video file's next frame on a thread while the loop works on the current one.

A file, unlike a live camera (latest.py), never drops a frame: the reader decodes one
frame ahead and waits for the loop. Decoding (OpenCV's grab(): FFmpeg's H.264 decode) is
most of what a file frame costs: 7 of 11.6 ms CPU at 1080p here, the BGR conversion into
the frame buffer (retrieve()) 1.7 and the downscale 2.7. The conversion happens when the
loop asks for the frame, since until then the loop may still read the previous frame in
that buffer (its photo; a frame the loop keeps is copied out by `Frame.keep()`): one
full-size buffer serves, as without the thread. The reader does the top strips of each
downscale before it decodes on, which balances the two threads. Measured on crowd_1080p
(1 thread, alternated runs, medians): the whole loop at 56 fps with that help, 52 without
it, 57 with a second full-size buffer to convert ahead into as well (6 MB more); decoding,
converting and downscaling all ahead into two buffers was no faster than without the
help, for 8 MB more.

Everything the reader does runs in order on one worker thread: the help the loop asks
for, then the next decode. Results and errors come back in the order they were asked
for, so a replay decides the same however the two threads interleave.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np

from edge.io.sources.base import PhotoError


class DecodeBuffer:
    """The full-size buffer a file's frames are converted into, in turn (None until the
    first frame allocates it), and how many times it was filled, so a photo still pointing
    at it can tell it now holds a later frame."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None
        self.fills = 0

    def check(self, fill: int) -> None:
        """PhotoError unless the buffer still holds what its `fill`-th fill put there."""
        if self.fills != fill:
            raise PhotoError("the frame's decode buffer holds a later frame now (keep() it)")


class DecodeAhead:
    def __init__(self, decode: Callable[[], bool], name: str) -> None:
        """`decode` decodes the next frame (True) or finds the end (False); it starts now."""
        self._decode = decode
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"reader-{name}")
        self._stopping = False
        self._next: Future[bool] = self._worker.submit(decode)

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def ahead(self) -> bool:
        """The next frame is decoded (or the end found) and waits to be taken."""
        return self._next.done()

    def decoded(self) -> bool:
        """Wait for the frame being decoded: True when there is one to take, False at the
        end; raises the decode's error (again at every call: the input has ended)."""
        return self._next.result()

    def decode_next(self, first: Callable[[], None] | None = None) -> Future[None] | None:
        """Start decoding the next frame, once the decoded one has been taken; `first` runs
        on the reader before it (the caller waits for the future returned)."""
        helped = None if first is None else self._worker.submit(first)
        self._next = self._worker.submit(self._decode)
        return helped

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop after the decode in progress; False if it is still running after `timeout`
        (the thread then ends when it returns)."""
        self._stopping = True
        self._worker.shutdown(wait=False, cancel_futures=True)
        if wait([self._next], timeout).not_done:
            return False
        self._worker.shutdown(wait=True)  # the decode is done: the thread is leaving
        return True
