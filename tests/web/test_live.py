"""The live view on real frames through the real models, read as a browser reads MJPEG."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from edge.config import default_config
from edge.io.image_io import decode_image
from edge.perception.pipeline import build_pipeline
from edge.web.live import MAX_VIEWERS, LiveView
from tests.paths import MEDIA, require
from tests.web.conftest import TOKEN, Site, web_config

BLINK = MEDIA / "video" / "blink_portrait.mp4"


def video_frames(count: int) -> list:
    capture = cv2.VideoCapture(str(require(BLINK)))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


@pytest.fixture(scope="module")
def scored() -> list:
    pipeline = build_pipeline(default_config(), live=True)
    return [(frame, pipeline.process(frame)) for frame in video_frames(30)]


def test_nobody_watching_costs_the_loop_nothing(scored: list) -> None:
    view = LiveView(fps=30)
    for frame, result in scored:
        view.offer(frame, result)
    time.sleep(0.2)
    assert view.encoded == 0 and view.viewers == 0


@pytest.fixture
def live_site(tmp_path: Path, scored: list) -> Iterator[tuple[Site, LiveView]]:
    """A real server with a live view fed at 30 frames/s, as the loop would feed it."""
    from edge.web.cli import build_web_app
    from edge.web.server import WebServer

    view = LiveView(fps=5)
    config = web_config(tmp_path / "captures")
    server = WebServer(build_web_app(config, {"SMILEBOOTH_WEB_TOKEN": TOKEN}, view), config.web)
    stop = threading.Event()

    def feed() -> None:
        while not stop.is_set():
            for frame, result in scored:
                view.offer(frame, result)
                if stop.wait(1 / 30):
                    return

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    server.start()
    try:
        yield Site(server.wait_started(), tmp_path / "captures"), view
    finally:
        stop.set()
        server.stop()
        view.close()
        feeder.join(2)


def read_parts(site: Site, count: int) -> list[bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=20)
    connection.request("GET", "/stream.mjpg")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("content-type").startswith("multipart/x-mixed-replace")
    parts = []
    while len(parts) < count:
        line = response.readline()
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
            response.readline()  # the blank line before the body
            parts.append(response.read(length))
    connection.close()
    return parts


def test_a_viewer_gets_drawn_frames_at_the_view_rate(live_site: tuple[Site, LiveView]) -> None:
    site, view = live_site
    started = time.monotonic()
    parts = read_parts(site, 6)
    elapsed = time.monotonic() - started
    images = [decode_image(part).image for part in parts]
    assert all(image is not None and image.shape[1] <= 640 for image in images)
    assert elapsed >= 5 / view.fps * 0.8, "frames came faster than the view's rate"
    deadline = time.monotonic() + 10
    while view.viewers and time.monotonic() < deadline:
        time.sleep(0.1)
    assert view.viewers == 0, "a viewer that hung up still counts"
    encoded = view.encoded
    time.sleep(1.0)
    assert view.encoded == encoded, "the view still encodes with nobody watching"


def test_viewers_beyond_the_limit_are_told_to_come_back(
    live_site: tuple[Site, LiveView],
) -> None:
    site, view = live_site
    for _ in range(MAX_VIEWERS):
        view.join()
    try:
        reply = site.request("GET", "/stream.mjpg")
        assert reply.status == 503 and "viewers" in reply.json()["error"]
    finally:
        for _ in range(MAX_VIEWERS):
            view.leave()


def test_without_a_loop_there_is_no_live_view(tmp_path: Path) -> None:
    from tests.web.conftest import serve

    for site in serve(web_config(tmp_path / "captures"), TOKEN):
        reply = site.request("GET", "/stream.mjpg")
        assert reply.status == 404 and "smilebooth run" in reply.json()["error"]
        assert site.request("GET", "/api/info").json()["live"] is False
