"""The page joined to a real loop (real models on the replayed portrait): the live view as a
browser reads MJPEG, the now panel's events, and the controls through the MQTT command code."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.io.image_io import decode_image
from edge.web.live import MAX_VIEWERS
from tests.web.conftest import TOKEN, LoopSite, Site, replay_config, serve, serve_loop, web_config

AUTH = {"X-Smilebooth-Token": TOKEN, "Content-Type": "application/json"}


@pytest.fixture
def booth(tmp_path: Path) -> Iterator[LoopSite]:
    yield from serve_loop(replay_config(tmp_path, armed=False), TOKEN)


def read_parts(site: Site, path: str, count: int, marker: bytes) -> list[bytes]:
    """The first `count` parts of a streamed response: JPEGs (MJPEG) or `data:` lines (SSE)."""
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=20)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 200
    parts = []
    while len(parts) < count:
        line = response.readline()
        if marker == b"content-length:" and line.lower().startswith(marker):
            length = int(line.split(b":")[1])
            response.readline()
            parts.append(response.read(length))
        elif marker == b"data:" and line.startswith(marker):
            parts.append(line[len(marker) :].strip())
    connection.close()
    return parts


def wait_for(predicate, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_nobody_watching_the_live_view_encodes_nothing(booth: LoopSite) -> None:
    assert wait_for(lambda: booth.loop.counters.frames >= 10)
    live = booth.board.live
    assert live.encoded == 0 and live.viewers == 0


def test_a_viewer_gets_drawn_frames_at_the_view_rate(booth: LoopSite) -> None:
    live = booth.board.live
    started = time.monotonic()
    parts = read_parts(booth, "/stream.mjpg", 6, b"content-length:")
    elapsed = time.monotonic() - started
    images = [decode_image(part).image for part in parts]
    assert all(image is not None and image.shape[:2] == (512, 512) for image in images)
    assert elapsed >= 5 / live.fps * 0.8, "frames came faster than the view's rate"
    assert wait_for(lambda: live.viewers == 0), "a viewer that hung up still counts"
    encoded = live.encoded
    time.sleep(1.0)
    assert live.encoded == encoded, "the view still encodes with nobody watching"


def test_viewers_beyond_the_limit_are_told_to_come_back(booth: LoopSite) -> None:
    live = booth.board.live
    for _ in range(MAX_VIEWERS):
        live.join()
    try:
        reply = booth.request("GET", "/stream.mjpg")
        assert reply.status == 503 and "viewers" in reply.json()["error"]
    finally:
        for _ in range(MAX_VIEWERS):
            live.leave()


def test_the_now_panel_streams_the_loops_state_and_why(booth: LoopSite) -> None:
    events = [json.loads(part) for part in read_parts(booth, "/api/now/stream", 3, b"data:")]
    versions = [event["version"] for event in events]
    assert versions == sorted(versions) and len(set(versions)) == 3
    now = events[-1]
    assert now["faces"] == 1 and now["score"] > 0.9 and now["armed"] is False
    assert now["message"].startswith("Paused")
    assert now["per_face"][0]["in_frame"] is True
    # The astronaut smiles with open eyes: marker 1, and the phase in words.
    assert {k: now["per_face"][0][k] for k in ("number", "smiling", "eyes_ok")} == {
        "number": 1,
        "smiling": True,
        "eyes_ok": True,
    }
    assert now["phase"] == "ready" and now["phase_words"] == "ready"


def test_controls_need_the_token_and_go_through_the_command_code(booth: LoopSite) -> None:
    controls = booth.loop.parts.controls
    before = controls.peek()
    body = json.dumps({"armed": True, "threshold": 0.8}).encode()
    refused = booth.request("POST", "/api/control", body=body, headers={"X-Smilebooth-Token": "x"})
    assert refused.status == 401 and controls.peek() == before
    bad = json.dumps({"armed": True, "threshold": 2}).encode()
    reply = booth.request("POST", "/api/control", body=bad, headers=AUTH)
    assert reply.status == 400 and "threshold" in reply.json()["error"]
    assert controls.peek() == before, "one bad field must leave every control unchanged"
    reply = booth.request("POST", "/api/control", body=b'{"threshold": 0.8}', headers=AUTH)
    assert reply.status == 200 and reply.json()["threshold"] == 0.8
    assert wait_for(lambda: booth.request("GET", "/api/now").json().get("threshold") == 0.8)


def test_take_photo_now_saves_a_photo_the_gallery_lists(booth: LoopSite) -> None:
    assert booth.request("GET", "/api/photos").json()["photos"] == []
    reply = booth.request("POST", "/api/control", body=b'{"trigger": true}', headers=AUTH)
    assert reply.status == 200
    assert wait_for(lambda: booth.request("GET", "/api/photos").json()["photos"] != [])
    name = booth.request("GET", "/api/photos").json()["photos"][0]["name"]
    meta = f"/photos/{name}/meta"  # the sidecar is written just after its photo
    assert wait_for(lambda: booth.request("GET", meta).json().get("reason") == "manual")
    assert wait_for(lambda: booth.request("GET", "/api/now").json().get("last_photo") == name)


def test_without_a_loop_there_is_no_live_view_or_controls(tmp_path: Path) -> None:
    for site in serve(web_config(tmp_path / "captures"), TOKEN):
        for path in ("/stream.mjpg", "/api/now", "/api/now/stream"):
            reply = site.request("GET", path)
            assert reply.status == 404 and "smilebooth run" in reply.json()["error"]
        reply = site.request("POST", "/api/control", body=b'{"trigger": true}', headers=AUTH)
        assert reply.status == 404
        assert site.request("GET", "/api/info").json()["live"] is False


@pytest.fixture
def crowd(tmp_path: Path) -> Iterator[LoopSite]:
    """Armed, on frames of the stage video: a real crowd, not everyone smiling."""
    from tests._loop_helpers import STAGE, video
    from tests.web.conftest import video_replay_config

    yield from serve_loop(video_replay_config(tmp_path, video(STAGE), 10, armed=True), TOKEN)


def test_the_now_panel_names_the_face_that_holds_the_shutter_back(crowd: LoopSite) -> None:
    """Real models on a real crowd: the panel says not everyone smiles, and which face."""
    assert wait_for(lambda: crowd.request("GET", "/api/now").json().get("faces", 0) >= 2)
    now = crowd.request("GET", "/api/now").json()
    assert now["ready"] is False and now["reason"] == "not_smiling"
    assert now["message"] == "Not everyone is smiling yet."
    assert now["holding_back"] in {face["track_id"] for face in now["per_face"]}
