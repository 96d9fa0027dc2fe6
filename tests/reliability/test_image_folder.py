"""Item 3: an image folder that vanishes mid-replay (log flood, SIGTERM ignored)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.paths import FACE_MODEL, ROOT, SMILE_MODEL, require


def start_replay(tmp_path: Path, copies: int = 20) -> tuple[subprocess.Popen[bytes], Path, Path]:
    require(SMILE_MODEL), require(FACE_MODEL)
    frames = tmp_path / "frames"
    frames.mkdir()
    for n in range(copies):
        shutil.copy(ROOT / "samples" / "astronaut.jpg", frames / f"{n:04d}.jpg")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"source: {{type: images, folder: {frames}, fps: 20, repeat: 100000}}\n"
        f"capture: {{folder: {tmp_path / 'photos'}}}\nstatus: {{interval_s: 1}}\n"
    )
    log = tmp_path / "stderr.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "edge", "run", "--config", str(config)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )
    return process, frames, log


def wait_for(log: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)


def test_vanished_folder_ends_the_replay_with_one_line(tmp_path: Path) -> None:
    process, frames, log = start_replay(tmp_path)
    try:
        wait_for(log, "status ")
        shutil.rmtree(frames)
        process.wait(timeout=20)  # old: spins through 2 million missing files
    finally:
        process.kill()
        process.wait()
    text = log.read_text()
    assert process.returncode == 0, text[-2000:]
    assert f"image folder {frames} vanished" in text
    assert log.stat().st_size < 50_000  # old: 1 GB in 80 s
    assert "Traceback" not in text


def test_sigterm_stops_a_replay_promptly(tmp_path: Path) -> None:
    process, _frames, log = start_replay(tmp_path)
    try:
        wait_for(log, "status ")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        assert time.monotonic() - started < 5
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert "SIGTERM: stopping" in log.read_text()


def test_a_pass_of_unreadable_files_stops_when_asked(tmp_path: Path, monkeypatch) -> None:
    import threading

    from edge.config.source import SourceConfig
    from edge.io.sources.images_source import ImageFolderSource

    for n in range(2000):
        (tmp_path / f"{n:05d}.jpg").write_bytes(b"")
    source = ImageFolderSource(SourceConfig(type="images", folder=str(tmp_path), repeat=10))
    stop = threading.Event()
    source.should_stop = stop.is_set
    source.open()
    calls = {"n": 0}
    real_is_dir = Path.is_dir

    def stop_midway(self: Path) -> bool:  # a SIGTERM arriving after 100 bad files
        calls["n"] += 1
        if calls["n"] == 100:
            stop.set()
        return real_is_dir(self)

    monkeypatch.setattr(Path, "is_dir", stop_midway)  # the folder check runs per bad file
    assert source.read() is None
    monkeypatch.undo()
    assert source.bad_frames == 100  # not the whole pass of 2,000
