"""The guest routes: the guest screen (/booth) and the photos' share links (/s/<token>).

These need no token, so they give away nothing else: every one is a GET, the screen's
state hands out only the newest photo's link while that photo is on the screen, the
slideshow serves pictures by position (no names), and a share link serves its one photo.
Operator actions stay on the operator routes, behind the token (edge.web.server).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import AsyncIterator
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from edge.config.web import WebConfig
from edge.io.printer import PrintRefusedError, PrintService
from edge.web.address import base_url, is_loopback
from edge.web.gallery import Gallery, NoSuchPhotoError
from edge.web.guest import GuestScreen
from edge.web.live import LiveView, TooManyViewersError
from edge.web.now import NowBoard
from edge.web.responses import ViewerStreamingResponse
from edge.web.share import ShareLinks

log = logging.getLogger(__name__)
BOUNDARY = "smilebooth-mirror"
STATE_INTERVAL_S = 0.2  # the screen's state is checked 5 times a second (the countdown)
STREAM_POLL_S = 0.5
MAX_SCREENS = 8  # guest screens' event streams at once (each is polled 5 times a second)
PRIVATE = {  # guests' pictures: never cached, never indexed, never sent on as a referrer
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
    "referrer-policy": "no-referrer",
}


class GuestRefusalError(Exception):
    """A guest route that cannot answer (no live view); the server maps it to its status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def link_base(config: WebConfig, request: Request) -> str:
    """How a phone reaches this booth, for links made on this request (edge.web.address)."""
    port = request.url.port or config.port
    return base_url(config.public_url, request.url.scheme, request.headers.get("host"), port)


def booth_routes(
    config: WebConfig,
    gallery: Gallery,
    shares: ShareLinks,
    board: NowBoard | None,
    stopping: threading.Event,
    printer: PrintService | None = None,
) -> list[Route]:
    if is_loopback(config.host) and not config.public_url:
        _warn_unreachable(config.host)
    screen = GuestScreen(config, gallery, shares, board)
    page = resources.files("edge.web").joinpath("booth.html").read_text(encoding="utf-8")
    mirror = board.mirror if board is not None else None

    def address(request: Request) -> str:
        return link_base(config, request)

    async def booth(request: Request) -> Response:
        return HTMLResponse(page, headers=PRIVATE)

    def screen_state(base: str) -> dict:
        """What the screen shows, and whether its review offers a Print button."""
        return {**screen.state(base), "printing": printer is not None}

    async def state(request: Request) -> Response:
        return JSONResponse(
            await asyncio.to_thread(screen_state, address(request)), headers=PRIVATE
        )

    screens = [0]  # event streams open now (counted on the server's one event loop)

    async def events(request: Request) -> Response:
        """Server-sent events: the screen's state whenever it changes."""
        if screens[0] >= MAX_SCREENS:  # anyone on the network may open one: cap the cost
            raise GuestRefusalError(503, f"{MAX_SCREENS} guest screens are open already")
        base = address(request)

        async def updates() -> AsyncIterator[str]:
            screens[0] += 1
            try:
                sent = ""
                while not stopping.is_set() and not await request.is_disconnected():
                    text = json.dumps(await asyncio.to_thread(screen_state, base))
                    if text != sent:
                        sent = text
                        yield f"data: {text}\n\n"
                    await asyncio.sleep(STATE_INTERVAL_S)
            finally:
                screens[0] -= 1

        return ViewerStreamingResponse(  # a screen that stops reading is cut, its place freed
            updates(), media_type="text/event-stream", headers=PRIVATE
        )

    async def slide(request: Request) -> Response:
        index = request.path_params["index"]
        data = await asyncio.to_thread(screen.slide, index)
        return Response(data, media_type="image/jpeg", headers=PRIVATE)

    async def shared(request: Request) -> Response:
        """The one photo this link opens (the token is all it takes: keep it to yourself)."""
        path = shares.photo(str(request.path_params["token"]))
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:  # deleted since the lookup: revoked
            raise NoSuchPhotoError("no such link") from exc
        headers = dict(PRIVATE)
        if request.query_params.get("download") == "1":
            headers["content-disposition"] = 'attachment; filename="smilebooth.jpg"'
        return Response(data, media_type="image/jpeg", headers=headers)

    async def print_reviewed(request: Request) -> Response:
        """The guest's Print button: the photo on the review screen now, nothing else (no
        name is taken from the request), within the per-photo copy limit."""
        if printer is None:
            raise GuestRefusalError(404, "printing is off")
        name = screen.reviewing()
        if name is None:
            raise GuestRefusalError(409, "no photo on the screen to print")
        try:
            job = await asyncio.to_thread(printer.request, name, "guest")
        except PrintRefusedError as exc:
            raise GuestRefusalError(exc.status, str(exc)) from exc
        return JSONResponse({"queued": job.number}, status_code=202, headers=PRIVATE)

    async def stream(request: Request) -> Response:
        if mirror is None:
            raise GuestRefusalError(404, "no camera: the mirror runs with `smilebooth run`")
        return mjpeg(mirror, request, stopping)

    return [
        Route("/booth", booth),
        Route("/booth/state", state),
        Route("/booth/events", events),
        Route("/booth/stream.mjpg", stream),
        Route("/booth/slide/{index:int}", slide),
        Route("/booth/print", print_reviewed, methods=["POST"]),
        Route("/s/{token}", shared),
    ]


@functools.cache
def _warn_unreachable(host: str) -> None:
    """Once per process: a booth serving only itself cannot hand links to phones."""
    log.warning("web.host %s: guests' phones cannot open share links; set web.host: 0.0.0.0", host)


def mjpeg(
    live: LiveView,
    request: Request,
    stopping: threading.Event,
    headers: dict[str, str] | None = None,
) -> Response:
    """The view's newest frame as MJPEG parts (the operator's live view and the guests'
    mirror alike); a slow screen skips frames, never queues; one that stops reading is cut.
    Too many viewers: GuestRefusalError 503."""
    try:
        live.join()
    except TooManyViewersError as exc:
        raise GuestRefusalError(503, str(exc)) from exc

    async def parts() -> AsyncIterator[bytes]:
        last = 0
        try:
            while not stopping.is_set():
                frame = await asyncio.to_thread(live.next_frame, last, STREAM_POLL_S)
                if frame is None:
                    if await request.is_disconnected():
                        return
                    continue
                last = frame.number
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                head += f"Content-Length: {len(frame.jpeg)}\r\n\r\n"
                yield head.encode() + frame.jpeg + b"\r\n"
        finally:
            live.leave()

    return ViewerStreamingResponse(
        parts(),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers=PRIVATE if headers is None else headers,
    )
