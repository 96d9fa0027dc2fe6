"""Responses and body reads that a stranger on the Wi-Fi cannot turn into a 500 or a leak.

- `open_file_response`: a photo served from a file already open, so a delete between the
  check and the read costs nothing (the old check-then-FileResponse gave a 500).
- `read_body`: a request body read in chunks up to a cap (413 past it), never whole first;
  a client that hangs up mid-body is a 400, not an exception.
- `ViewerStreamingResponse`: a stream whose every write must go out within SEND_TIMEOUT_S;
  a viewer that opened the live view and stopped reading is cut and its slot freed.
  `QuietIdleCuts` keeps uvicorn from logging that cut as an error (it is logged at INFO).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, BinaryIO

from starlette.requests import ClientDisconnect, Request
from starlette.responses import StreamingResponse

log = logging.getLogger(__name__)
CHUNK = 64 * 1024
SEND_TIMEOUT_S = 10.0  # one MJPEG part (~50 kB) to a viewer that still reads takes far less


class BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def read_body(request: Request, limit: int) -> bytes:
    """At most `limit` bytes of body; BodyError(413) beyond, BodyError(400) on a hang-up."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyError(413, f"body of {int(declared):,} bytes: at most {limit:,}")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BodyError(413, f"body over {limit:,} bytes")
    except ClientDisconnect as exc:
        raise BodyError(400, "the client hung up before the body was sent") from exc
    return bytes(body)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def open_file_response(
    handle: BinaryIO, size: int, name: str, download: bool, media_type: str = "image/jpeg"
) -> StreamingResponse:
    disposition = "attachment" if download else "inline"
    headers = {
        "content-length": str(size),
        "content-disposition": f'{disposition}; filename="{name}"',
    }
    return StreamingResponse(_chunks(handle), media_type=media_type, headers=headers)


class _ViewerIdleError(Exception):
    pass


# Set in the request's own context when its viewer is cut: uvicorn then logs, in that same
# context, that the app "returned without completing response" (the last chunk could not be
# sent to a viewer who reads nothing), which is the cut, not a fault.
_idle_cut: contextvars.ContextVar[bool] = contextvars.ContextVar("idle_cut", default=False)
UNFINISHED = "ASGI callable returned without completing response."


class QuietIdleCuts(logging.Filter):
    """On uvicorn's error logger: drops its "without completing response" line for a
    request whose idle viewer this module cut, and only for that one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_idle_cut.get() and record.getMessage() == UNFINISHED)


class ViewerStreamingResponse(StreamingResponse):
    """StreamingResponse whose writes time out: an idle viewer cannot hold a slot."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def timed_send(message: Any) -> None:
            try:
                await asyncio.wait_for(send(message), SEND_TIMEOUT_S)
            except TimeoutError as exc:
                raise _ViewerIdleError from exc

        try:
            await super().__call__(scope, receive, timed_send)
        except Exception as exc:  # the task group may wrap it in an exception group
            if not _only_idle(exc):
                raise
            _idle_cut.set(True)
            log.info("web: a live viewer read nothing for %.0f s: cut", SEND_TIMEOUT_S)
        finally:
            iterator = self.body_iterator
            if isinstance(iterator, AsyncIterator) and hasattr(iterator, "aclose"):
                await iterator.aclose()  # its finally frees the viewer slot now, not at GC


def _only_idle(exc: BaseException) -> bool:
    inner = getattr(exc, "exceptions", None)
    if inner is not None:
        return all(_only_idle(e) for e in inner)
    return isinstance(exc, _ViewerIdleError)
