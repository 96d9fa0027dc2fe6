"""A real web server (uvicorn on a free port) over a real capture folder, for every web test."""

from __future__ import annotations

import dataclasses
import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.config import AppConfig, default_config
from edge.io.capture import PhotoStore
from edge.io.image_io import read_image
from tests.paths import ROOT

pytest.importorskip("starlette", reason="the web extra is not installed")
TOKEN = "correct-horse-battery"
ASTRONAUT = ROOT / "samples" / "astronaut.jpg"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Site:
    port: int
    folder: Path

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(
                response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            )
        finally:
            connection.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def save_photos(folder: Path, count: int) -> list[str]:
    """Real photos through the real store (atomic writes, sidecars), oldest first."""
    config = dataclasses.replace(default_config().capture, folder=str(folder))
    store = PhotoStore(config)
    store.open()
    image = read_image(ASTRONAUT).image
    assert image is not None
    names = []
    for index in range(count):
        sidecar = {
            "score": 0.5 + index / 10,
            "reason": "score",
            "smoothed": {"faces": 1},
            "faces": [{"smiling": True, "intensity": "huge", "eyes_open": 2}],
        }
        names.append(store.save(image, sidecar, when=1_800_000_000 + index * 60).photo.name)
    return names


def web_config(folder: Path, **web: Any) -> AppConfig:
    config = default_config()
    return dataclasses.replace(
        config,
        capture=dataclasses.replace(config.capture, folder=str(folder)),
        web=dataclasses.replace(config.web, port=0, **web),
    )


def serve(config: AppConfig, token: str | None) -> Iterator[Site]:
    from edge.web.cli import build_web_app
    from edge.web.server import WebServer

    environ = {"SMILEBOOTH_WEB_TOKEN": token} if token else {}
    server = WebServer(build_web_app(config, environ), config.web)
    server.start()
    try:
        yield Site(server.wait_started(), Path(config.capture.folder))
    finally:
        server.stop()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    folder = tmp_path / "captures"
    save_photos(folder, 3)
    yield from serve(web_config(folder), TOKEN)


@dataclass
class LoopSite(Site):
    loop: Any
    board: Any


def replay_config(folder: Path, armed: bool, **web: Any) -> AppConfig:
    """The bundled portrait replayed at 10 frames/s for a minute, photos under folder."""
    from edge.config import load_config
    from tests.paths import sample_replay_config

    path = sample_replay_config(folder, fps=10, repeat=600, extra=f"trigger: {{armed: {armed}}}\n")
    config = load_config(path)
    return dataclasses.replace(config, web=dataclasses.replace(config.web, port=0, **web))


def video_replay_config(folder: Path, video: Path, frames: int, armed: bool) -> AppConfig:
    """The first `frames` frames of a real video, replayed at 10 frames/s for a minute."""
    from edge.config import load_config
    from tests._loop_helpers import write_frames

    still = folder / "frames"
    assert len(write_frames(video, still, frames)) == frames, f"{video}: too few frames"
    config = folder / "config.yaml"
    config.write_text(
        f"source: {{type: images, folder: {still}, fps: 10, repeat: {600 // frames + 1}}}\n"
        f"capture: {{folder: {folder / 'photos'}}}\ntrigger: {{armed: {armed}}}\n"
    )
    loaded = load_config(config)
    return dataclasses.replace(loaded, web=dataclasses.replace(loaded.web, port=0))


def serve_loop(config: AppConfig, token: str | None) -> Iterator[LoopSite]:
    """A real loop (real models, the replayed portrait) with the page joined to it."""
    import threading

    from edge.cli.run import now_board
    from edge.compose import build_loop
    from edge.web.cli import build_web_app
    from edge.web.server import LoopLink, WebServer

    config = dataclasses.replace(config, web=dataclasses.replace(config.web, enabled=True))
    board = now_board(config)
    stop = threading.Event()
    loop = build_loop(config, stop=stop, observer=board.observe)
    board.attach(loop.parts.bus)
    link = LoopLink(board, loop.parts.controls)
    environ = {"SMILEBOOTH_WEB_TOKEN": token} if token else {}
    server = WebServer(build_web_app(config, environ, link), config.web)
    runner = threading.Thread(target=loop.run, daemon=True)
    runner.start()
    server.start()
    try:
        yield LoopSite(server.wait_started(), Path(config.capture.folder), loop, board)
    finally:
        stop.set()
        runner.join(10)
        server.stop()
        board.close()
