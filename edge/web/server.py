"""The page's HTTP side (Starlette, served by uvicorn): routes only, no decisions of its own.

Everything it shows comes from the gallery and the photo scorer; everything it changes goes
through the same checks as elsewhere. Errors are JSON `{"error": "..."}` with a status that
says what kind: 401 no or wrong token, 403 actions off, 404 no such photo, 413 too large,
415 not an image.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    Response,
)
from starlette.routing import Route

from edge.config.web import WebConfig
from edge.decide.control import Controls
from edge.io.mqtt import commands
from edge.io.printer import PrintRefusedError, PrintService
from edge.web.auth import COOKIE, HEADER, Guard
from edge.web.booth import GuestRefusalError, booth_routes, link_base, mjpeg
from edge.web.gallery import Gallery, NoSuchPhotoError
from edge.web.now import NowBoard
from edge.web.photo_scorer import NotAnImageError, PhotoScorer
from edge.web.qr import qr_data_url
from edge.web.responses import (
    BodyError,
    QuietIdleCuts,
    ViewerStreamingResponse,
    open_file_response,
    read_body,
)
from edge.web.share import ShareLinks

log = logging.getLogger(__name__)
BOUNDARY = "smilebooth-frame"
STREAM_POLL_S = 0.5  # how often a waiting stream checks for a hang-up or a stop
NOW_INTERVAL_S = 0.25  # the now panel's update period (it sends only when a frame came)
MAX_CONTROL_BODY = 64 * 1024  # a control command is a few bytes of JSON
UPLOADS_AT_ONCE = 2  # "Score a photo" bodies held in memory at once (each <= max_upload_mb)


@dataclass(frozen=True)
class LoopLink:
    """What the page shares with a running loop: its frames and decisions, its controls."""

    now: NowBoard
    controls: Controls
    printer: PrintService | None = None  # printing.enabled: the print queue


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def build_app(
    config: WebConfig,
    gallery: Gallery,
    scorer: PhotoScorer,
    guard: Guard,
    link: LoopLink | None = None,
) -> Starlette:
    """The page's routes; `link` joins them to a running loop (live view, now, controls)."""
    live = link.now.live if link is not None else None
    stopping = threading.Event()  # set by WebServer.stop(): streams end at once
    page = resources.files("edge.web").joinpath("page.html").read_text(encoding="utf-8")
    max_upload = int(config.max_upload_mb * 1024 * 1024)
    shares = ShareLinks(gallery)
    uploads = asyncio.Semaphore(UPLOADS_AT_ONCE)

    def need_view(request: Request) -> None:
        if not guard.may_view(request.headers.get(HEADER), request.cookies.get(COOKIE)):
            raise HttpError(401, "viewing needs the token: enter it on the page")

    def need_action(request: Request) -> None:
        if not guard.actions_enabled:
            raise HttpError(403, "actions are off: no web token is configured on the device")
        if not guard.token_ok(request.headers.get(HEADER)):
            raise HttpError(401, f"this action needs the token (header {HEADER})")

    def photo_name(request: Request) -> str:
        return str(request.path_params["name"])

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={"cache-control": "no-store"})

    async def info(request: Request) -> Response:
        return JSONResponse(
            {
                "actions": guard.actions_enabled,
                "protect_viewing": guard.protect_viewing,
                "may_view": guard.may_view(
                    request.headers.get(HEADER), request.cookies.get(COOKIE)
                ),
                "max_upload_mb": config.max_upload_mb,
                "live": link is not None,
                "printing": link is not None and link.printer is not None,
                # The slider's floor: the threshold may not go under the re-arm threshold,
                # the one rule of the file, the CLI, MQTT and Home Assistant.
                "threshold_min": link.controls.rearm_threshold if link is not None else 0.0,
            }
        )

    async def session(request: Request) -> Response:
        """The token, shown once, buys a viewing cookie (for <img> tags, which send no header)."""
        if not guard.token_ok(request.headers.get(HEADER)):
            raise HttpError(401, "wrong token")
        response = JSONResponse({"ok": True})
        if guard.protect_viewing:
            response.set_cookie(COOKIE, guard.view_cookie(), httponly=True, samesite="strict")
        return response

    async def photos(request: Request) -> Response:
        need_view(request)
        return JSONResponse({"photos": [entry.as_dict() for entry in gallery.photos()]})

    async def photo(request: Request) -> Response:
        need_view(request)
        name = photo_name(request)
        handle, size = gallery.open_photo(name)
        return open_file_response(handle, size, name, request.query_params.get("download") == "1")

    async def thumbnail(request: Request) -> Response:
        need_view(request)
        data = await asyncio.to_thread(gallery.thumbnail, photo_name(request))
        return Response(data, media_type="image/jpeg", headers={"cache-control": "max-age=60"})

    async def sidecar(request: Request) -> Response:
        need_view(request)
        return JSONResponse(gallery.sidecar(photo_name(request)))

    async def delete(request: Request) -> Response:
        need_action(request)
        name = photo_name(request)
        gallery.delete(name)
        log.info("web: deleted %s", name)
        return JSONResponse({"deleted": name})

    async def share(request: Request) -> Response:
        """The photo's share link and its QR code (for a guest who missed the screen's)."""
        need_action(request)
        if not config.guests:
            raise HttpError(403, "share links are off (web.guests: false)")
        token = await asyncio.to_thread(shares.token, photo_name(request))
        link = f"{link_base(config, request)}/s/{token}"
        return JSONResponse({"link": link, "qr": qr_data_url(link)})

    async def score(request: Request) -> Response:
        need_view(request)
        async with uploads:  # the others wait unread: their bodies stay in their sockets
            body = await read_body(request, max_upload)
            if not body:
                raise HttpError(415, "no photo in the request body")
            try:
                result = await asyncio.to_thread(scorer.score, body)
            except NotAnImageError as exc:
                raise HttpError(415, f"not a photo: {exc}") from exc
        return JSONResponse(result)

    async def stream(request: Request) -> Response:
        """MJPEG: each part is the newest drawn frame; a slow viewer skips, never queues."""
        need_view(request)
        if live is None:
            raise HttpError(404, "no live view: it runs with `smilebooth run` (web.enabled)")
        return mjpeg(live, request, stopping, {"cache-control": "no-store"})

    async def now(request: Request) -> Response:
        need_view(request)
        if link is None:
            raise HttpError(404, "no loop: the booth's state shows with `smilebooth run`")
        return JSONResponse(link.now.snapshot() or {"waiting": "no frame yet"})

    async def now_stream(request: Request) -> Response:
        """Server-sent events: the panel's figures a few times a second, when they change."""
        need_view(request)
        if link is None:
            raise HttpError(404, "no loop: the booth's state shows with `smilebooth run`")
        board = link.now

        async def updates() -> AsyncIterator[str]:
            sent = -1
            while not stopping.is_set() and not await request.is_disconnected():
                if board.version != sent:
                    sent = board.version
                    snapshot = board.snapshot()
                    if snapshot is not None:
                        yield f"data: {json.dumps(snapshot)}\n\n"
                await asyncio.sleep(NOW_INTERVAL_S)

        return ViewerStreamingResponse(  # a client that stops reading is cut, as above
            updates(), media_type="text/event-stream", headers={"cache-control": "no-store"}
        )

    async def control(request: Request) -> Response:
        """The MQTT `set` commands (armed, threshold, trigger), parsed and applied by the
        same code: one JSON object, all of it applied or none."""
        need_action(request)
        if link is None:
            raise HttpError(404, "no loop to control: controls work with `smilebooth run`")
        body = await read_body(request, MAX_CONTROL_BODY)
        try:
            applied = commands.handle_message("", body, link.controls)
        except commands.CommandError as exc:
            raise HttpError(400, str(exc)) from exc
        state = link.controls.peek()
        log.info("web: %s", ", ".join(c.name for c in applied))
        return JSONResponse(
            {
                "armed": state.armed,
                "threshold": state.threshold,
                "trigger_requested": state.trigger_requested,
            }
        )

    def printer() -> PrintService:
        if link is None or link.printer is None:
            raise HttpError(404, "printing is off (printing.enabled in config.yaml)")
        return link.printer

    async def print_status(request: Request) -> Response:
        need_view(request)
        return JSONResponse(printer().status())

    async def print_photo(request: Request) -> Response:
        """Queue a print (the operator: no copy limit); answers at once, 202."""
        need_action(request)
        service = printer()
        body = await read_body(request, MAX_CONTROL_BODY)
        copies = 1
        if body.strip():
            try:
                copies = json.loads(body).get("copies", 1)
            except (ValueError, AttributeError) as exc:
                raise HttpError(400, 'expected JSON like {"copies": 2}') from exc
            if not isinstance(copies, int) or isinstance(copies, bool):
                raise HttpError(400, f"copies: expected a whole number, got {copies!r}")
        try:
            job = service.request(photo_name(request), by="operator", copies=copies)
        except PrintRefusedError as exc:
            raise HttpError(exc.status, str(exc)) from exc
        return JSONResponse(job.as_dict(), status_code=202)

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, (HttpError, GuestRefusalError, BodyError)):
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        status, message = 404, "no such photo"
        return JSONResponse({"error": message}, status_code=status)

    async def starlette_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status == 404:
            photos = request.url.path.startswith(("/photos/", "/api/photos/"))
            message = "no such photo" if photos else "no such page"
        else:
            message = str(getattr(exc, "detail", "")) or "request refused"
        return JSONResponse({"error": message}, status_code=status)

    routes = [
        Route("/", index),
        Route("/api/info", info),
        Route("/api/session", session, methods=["POST"]),
        Route("/api/photos", photos),
        Route("/api/photos/{name}/delete", delete, methods=["POST"]),
        Route("/api/photos/{name}/share", share, methods=["POST"]),
        Route("/api/score", score, methods=["POST"]),
        Route("/stream.mjpg", stream),
        Route("/api/now", now),
        Route("/api/now/stream", now_stream),
        Route("/api/control", control, methods=["POST"]),
        Route("/api/print", print_status),
        Route("/api/photos/{name}/print", print_photo, methods=["POST"]),
        Route("/photos/{name}", photo),
        Route("/photos/{name}/thumb", thumbnail),
        Route("/photos/{name}/meta", sidecar),
    ]
    if config.guests:  # the guest screen and share links: open, read-only (edge.web.booth)
        routes += booth_routes(
            config,
            gallery,
            shares,
            link.now if link else None,
            stopping,
            link.printer if link else None,
        )
    app = Starlette(
        routes=routes,
        exception_handlers={
            HttpError: http_error,
            GuestRefusalError: http_error,
            BodyError: http_error,
            NoSuchPhotoError: http_error,
            404: starlette_error,
            405: starlette_error,
        },
    )
    app.state.stopping = stopping
    return app


class WebServer:
    """uvicorn on a thread of its own, so the frame loop never waits on a browser."""

    def __init__(self, app: Starlette, config: WebConfig) -> None:
        import uvicorn

        self._app = app
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=config.host,
                port=config.port,
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=2,  # a viewer that never hangs up cannot hold a stop
            )
        )
        quiet = logging.getLogger("uvicorn.error")  # configured by uvicorn.Config just now
        if not any(isinstance(f, QuietIdleCuts) for f in quiet.filters):
            quiet.addFilter(QuietIdleCuts())
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self._thread.start()

    def wait_started(self, timeout: float = 10.0) -> int:
        """Block until listening; the port bound (the real one when config.port is 0)."""
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or (self._thread and not self._thread.is_alive()):
                raise RuntimeError("the web server did not start (is the port in use?)")
            time.sleep(0.02)
        sockets = [s for server in self._server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1])

    def stop(self, timeout: float = 5.0) -> None:
        self._app.state.stopping.set()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
