"""`smilebooth bench --web`: the page served and watched while the loop is measured.

Two viewers on localhost, as at a real booth: the operator's phone reads the live view
(MJPEG) and the now panel (server-sent events), the guest screen reads its mirror (MJPEG)
and its state (server-sent events). The figure includes what watching costs the loop:
drawing and encoding on the views' threads, serving on the server's.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from edge.config import AppConfig
from edge.decide.control import Controls
from edge.loop import LoopView


@dataclass
class Viewer:
    """What the viewer received while the bench ran."""

    frames: int = 0
    updates: int = 0
    encoded: int = 0  # frames the live view drew and encoded
    encode_s: float = 0.0  # ... and the time that took on its thread
    mirror_frames: int = 0  # the guest screen's mirror frames received
    booth_updates: int = 0  # ... and its state updates
    mirror_encoded: int = 0  # frames the mirror encoded
    mirror_encode_s: float = 0.0  # ... and the time that took on its thread
    errors: list[str] = field(default_factory=list)


@contextlib.contextmanager
def page_with_viewer(config: AppConfig) -> Iterator[tuple[Callable[[LoopView], None], Viewer]]:
    """(the loop observer to pass to build_loop, the viewer's counts) while the page runs."""
    from edge.cli.run import now_board
    from edge.web.cli import build_web_app
    from edge.web.server import LoopLink, WebServer

    config = replace(config, web=replace(config.web, enabled=True, host="127.0.0.1", port=0))
    board = now_board(config)
    trigger = config.trigger
    controls = Controls(trigger.armed, trigger.threshold, trigger.rearm_threshold)
    server = WebServer(build_web_app(config, {}, LoopLink(board, controls)), config.web)
    server.start()
    port = server.wait_started()
    viewer, stop = Viewer(), threading.Event()
    readers = [
        threading.Thread(target=_read, args=(port, "/stream.mjpg", b"--", viewer, stop)),
        threading.Thread(target=_read, args=(port, "/api/now/stream", b"data:", viewer, stop)),
        threading.Thread(target=_read, args=(port, "/booth/stream.mjpg", b"--", viewer, stop)),
        threading.Thread(target=_read, args=(port, "/booth/events", b"data:", viewer, stop)),
    ]
    for reader in readers:
        reader.start()
    try:
        yield board.observe, viewer
    finally:
        stop.set()
        server.stop()
        board.close()
        viewer.encoded, viewer.encode_s = board.live.encoded, board.live.encode_s
        if board.mirror is not None:
            viewer.mirror_encoded = board.mirror.encoded
            viewer.mirror_encode_s = board.mirror.encode_s
        for reader in readers:
            reader.join(5)


def _read(port: int, path: str, marker: bytes, viewer: Viewer, stop: threading.Event) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        while not stop.is_set():
            line = response.readline()
            if not line:
                return
            if line.startswith(marker):
                _count(viewer, path, marker)
    except OSError as exc:
        if not stop.is_set():
            viewer.errors.append(f"{path}: {exc}")
    finally:
        connection.close()


def _count(viewer: Viewer, path: str, marker: bytes) -> None:
    guest = path.startswith("/booth/")
    if marker == b"--":
        if guest:
            viewer.mirror_frames += 1
        else:
            viewer.frames += 1
    elif guest:
        viewer.booth_updates += 1
    else:
        viewer.updates += 1
