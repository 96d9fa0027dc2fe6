"""`smilebooth web` as a user runs it: serves the page, stops cleanly, refuses a bad config."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from edge.cli.bench import WEB_ROUNDS
from tests.paths import ROOT, sample_replay_config
from tests.web.conftest import save_photos


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "edge", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def poll_photos(process: subprocess.Popen[str], port: int, seconds: float) -> list[dict]:
    """The page's photo list once it answers and lists something (or [] at the deadline)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/photos", timeout=2) as r:
                photos = json.load(r)["photos"]
            if photos:
                return list(photos)
        except OSError:
            pass
        time.sleep(0.2)
    return []


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as systemd stops it; stderr, after checking it exited 0 without a traceback."""
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    return stderr


def test_web_command_serves_the_photos_and_stops_on_sigterm(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    names = save_photos(folder, 2)
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"capture: {{folder: {folder}}}\nweb: {{port: {port}}}\n")
    process = start("web", "--config", str(config))
    try:
        photos = poll_photos(process, port, 30)
        assert sorted(p["name"] for p in photos) == sorted(names)
    finally:
        stderr = stop(process)
    assert f"http://127.0.0.1:{port}/" in stderr


def test_web_command_refuses_a_bad_config_before_serving(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("web:\n  port: 70000\n")
    result = subprocess.run(
        [sys.executable, "-m", "edge", "web", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "web.port" in result.stderr and "65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_serves_the_page_and_its_new_photos(tmp_path: Path) -> None:
    port = free_port()
    config = sample_replay_config(
        tmp_path, fps=10, repeat=300, extra=f"web: {{enabled: true, port: {port}}}\n"
    )
    process = start("run", "--config", str(config))
    try:
        photos = poll_photos(process, port, 60)
        assert photos, "no photo listed while the loop ran"
        assert (tmp_path / "photos" / photos[0]["name"]).is_file()
    finally:
        stop(process)


def test_run_stops_before_the_camera_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = sample_replay_config(
            tmp_path, fps=10, repeat=5, extra=f"web: {{enabled: true, port: {port}}}\n"
        )
        result = subprocess.run(
            [sys.executable, "-m", "edge", "run", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stderr
    assert "web:" in result.stderr and "port" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "photos").exists()


def test_bench_with_the_page_open_and_one_viewer(tmp_path: Path) -> None:
    from tests.paths import MEDIA, require

    video = require(MEDIA / "video" / "stage_360p.mp4")
    command = ["bench", "--source", str(video), "--width", "640", "--frames", "270", "--web"]
    result = subprocess.run(
        [sys.executable, "-m", "edge", *command, "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's code, from any folder
    )
    assert result.returncode == 0, result.stderr
    web = json.loads(result.stdout.strip().splitlines()[-1])["web"]
    assert web["guest_mirror_frames"] >= 3 and web["guest_updates"] >= 3
    assert web["guest_encode_ms"] > 0 and "guest screen:" in result.stderr
    assert len(web["processing_fps_pairs"]) == WEB_ROUNDS
    assert web["viewer_frames"] >= 3 and web["viewer_updates"] >= 3
    assert web["viewer_errors"] == [] and web["live_encode_ms"] > 0
    assert "web page + 1 viewer" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_run_stops_at_once_with_viewers_connected(tmp_path: Path) -> None:
    """A phone left on the live view must not hold up a stop (systemd's stop timeout)."""
    import threading

    port = free_port()
    web = f"web: {{enabled: true, port: {port}}}\n"
    process = start("run", "--config", str(sample_replay_config(tmp_path, 10, 600, web)))
    streams: list[str] = []
    viewers: list[threading.Thread] = []
    try:
        assert poll_photos(process, port, 60), "the loop never took its photo"

        def watch(path: str) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                streams.append(path)
                with contextlib.suppress(http.client.HTTPException, OSError):
                    while response.read(1024):
                        pass
            finally:
                connection.close()

        viewers += [
            threading.Thread(target=watch, args=(path,), daemon=True)
            for path in ("/stream.mjpg", "/api/now/stream")
        ]
        for viewer in viewers:
            viewer.start()
        deadline = time.monotonic() + 10
        while len(streams) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(streams) == 2
    finally:
        started = time.monotonic()
        stop(process)
        stopped = time.monotonic() - started
        for viewer in viewers:
            viewer.join(5)
    assert stopped < 5, f"stopping took {stopped:.1f} s with two viewers connected"
