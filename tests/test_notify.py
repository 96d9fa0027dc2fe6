"""sd_notify datagrams read from a real AF_UNIX socket, as systemd would."""

from __future__ import annotations

import os
import socket
import time

import pytest

from edge.io.notify import Notifier, watchdog_interval


@pytest.fixture
def systemd_socket(tmp_path):
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(1.0)
    yield server, str(path)
    server.close()


class Collector:
    """Reads the socket on a thread, as systemd does (a full datagram queue blocks senders)."""

    def __init__(self, server: socket.socket) -> None:
        import threading

        self.server, self.messages = server, []
        server.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.server.recv(4096).decode())
            except TimeoutError:
                continue

    def done(self) -> list[str]:
        self._stop.set()
        self._thread.join()
        return self.messages + received(self.server)


def received(server: socket.socket) -> list[str]:
    messages = []
    server.settimeout(0.2)
    try:
        while True:
            messages.append(server.recv(4096).decode())
    except TimeoutError:
        return messages


def test_ready_once_watchdog_at_a_third_of_the_interval_then_stopping(systemd_socket) -> None:
    server, path = systemd_socket
    now = [0.0]
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}, lambda: now[0])
    for _ in range(100):  # 100 frames at 25 fps: 4 s
        notifier.tick()
        now[0] += 0.04
    notifier.stopping()
    notifier.close()
    messages = received(server)
    assert messages[0] == "READY=1\nSTATUS=running"
    pings = [m for m in messages if m == "WATCHDOG=1"]
    assert len(pings) == 6  # every ~0.68 s (a third of WatchdogSec=2 s, at 25 fps) over 4 s
    assert messages[-1] == "STOPPING=1"
    assert sum(m.startswith("READY") for m in messages) == 1


def test_a_stalled_loop_sends_no_watchdog(systemd_socket) -> None:
    server, path = systemd_socket
    now = [0.0]
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}, lambda: now[0])
    notifier.tick()
    now[0] += 30.0  # no frames for 30 s: no tick, no ping
    notifier.close()
    messages = received(server)
    assert messages == ["READY=1\nSTATUS=running", "WATCHDOG=1"]


def test_status_ready_and_watchdog_can_be_sent_directly(systemd_socket) -> None:
    server, path = systemd_socket
    now = [10.0]
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}, lambda: now[0])
    notifier.status("loading models\nplease wait")
    notifier.ready("camera open")
    notifier.tick()  # READY already sent; the watchdog is due (never pinged yet)
    notifier.tick()  # same instant: rate-limited
    notifier.watchdog()  # explicit: always sent
    notifier.close()
    assert received(server) == [
        "STATUS=loading models please wait",
        "READY=1\nSTATUS=camera open",
        "WATCHDOG=1",
        "WATCHDOG=1",
    ]


def test_watchdog_meant_for_another_process_is_left_alone(systemd_socket) -> None:
    server, path = systemd_socket
    environ = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}
    notifier = Notifier(environ, pid=4242)
    assert notifier.interval is None
    assert watchdog_interval({**environ, "WATCHDOG_PID": "4242"}, pid=4242) == 2 / 3
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, pid=4242) is None
    notifier.tick()
    notifier.close()
    assert received(server) == ["READY=1\nSTATUS=running"]


def test_abstract_namespace_socket() -> None:
    name = f"smilebooth-test-{os.getpid()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        notifier.tick()
        notifier.stopping()
        notifier.close()
        assert received(server) == ["READY=1\nSTATUS=running", "STOPPING=1"]
    finally:
        server.close()


def test_outside_systemd_it_does_nothing() -> None:
    notifier = Notifier({})
    notifier.tick()
    notifier.status("x")
    notifier.stopping()
    assert notifier.ready_sent and not notifier.enabled


def test_the_running_service_notifies_systemd(systemd_socket, tmp_path) -> None:
    """`smilebooth run` itself, with NOTIFY_SOCKET and WATCHDOG_USEC as systemd sets them."""
    import subprocess
    import sys

    from tests.paths import ROOT, sample_replay_config

    server, path = systemd_socket
    config = sample_replay_config(tmp_path, fps=20, repeat=60)
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}  # ping every 1/3 s
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "run", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    messages = received(server)
    assert messages[0].startswith("READY=1")
    assert messages[-1] == "STOPPING=1"
    pings = messages.count("WATCHDOG=1")
    # 60 frames at 20 fps: about 3 s of frame loop (start-up takes the rest), a ping every
    # third of a second while frames flow: at least 5, never more than the run allows.
    assert 5 <= pings <= elapsed * 3 + 1


def test_a_camera_lost_for_longer_than_the_watchdog_keeps_the_pings(systemd_socket, tmp_path):
    """The loop, a fake Pi camera that dies, a real notify socket: pings and a STATUS line go
    on while the camera is away (WatchdogSec=0.4 s here, the camera away for ~1.5 s)."""
    import shutil
    import threading

    from edge.config.source import SourceConfig
    from edge.io.notify import Notifier
    from edge.io.sources.fake_picamera2 import FakePicamera2
    from edge.io.sources.picamera2_source import Picamera2Source
    from tests._loop_helpers import STAGE, ScriptedProcessor, smiling_between, video
    from tests.test_loop import build

    server, path = systemd_socket
    camera_file = tmp_path / "camera.mp4"
    shutil.copy(video(STAGE), camera_file)
    unplugged = tmp_path / "unplugged.mp4"
    cameras: list[FakePicamera2] = []

    def factory() -> FakePicamera2:
        if not cameras:  # unplugged after 10 frames, plugged back 1.5 s later
            camera_file.rename(unplugged)
            threading.Timer(1.5, unplugged.rename, [camera_file]).start()
            cameras.append(FakePicamera2(unplugged, fail_after=10))
        else:
            cameras.append(FakePicamera2(camera_file))
        return cameras[-1]

    collector = Collector(server)
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
    config = SourceConfig(type="picamera2", main_size=(320, 180), lores_size=(160, 90))
    processor = ScriptedProcessor(smiling_between(0, 0))

    def on_frame() -> None:
        if processor.calls >= 20:
            loop.stop.set()

    loop, _ = build(
        Picamera2Source(config, camera_factory=factory),
        processor,
        tmp_path / "photos",
        source_config=SourceConfig(reopen_initial_s=0.6, reopen_max_s=0.6),
        notifier=notifier,
        on_frame=on_frame,
    )
    assert loop.run() == 0
    notifier.stopping()
    notifier.close()
    messages = collector.done()
    assert messages[0] == "READY=1\nSTATUS=running"
    assert messages[-1] == "STOPPING=1"
    waiting = [m for m in messages if m.startswith("STATUS=camera lost, retry in ")]
    assert len(waiting) >= 4, messages  # ~1.5 s away, a ping every 0.2 s at most
    assert all(m.endswith("\nWATCHDOG=1") for m in waiting)  # no EXTEND: READY was sent
    assert "STATUS=running" in messages[messages.index(waiting[-1]) :]
    assert loop.counters.reopens == 1 and sum(m.startswith("READY") for m in messages) == 1


def test_a_camera_missing_at_start_is_waited_for_with_pings_and_no_ready(systemd_socket, tmp_path):
    """`smilebooth run` with no camera: it retries (not exit 2), pings the watchdog from the
    wait, extends the start timeout, never says READY, and stops cleanly on SIGTERM."""
    import signal
    import subprocess
    import sys

    from tests.paths import ROOT

    server, path = systemd_socket
    config = tmp_path / "config.yaml"
    config.write_text(
        "source: {type: opencv, device: /dev/smilebooth-no-such-camera, "
        "reopen_initial_s: 0.5, reopen_max_s: 1.0}\n"
        f"capture: {{folder: {tmp_path / 'photos'}}}\n"
    )
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
    child = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        server.settimeout(60)
        first = server.recv(4096).decode()  # models loaded, camera not found
        collector = Collector(server)
        time.sleep(3.0)
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 0, stderr[-2000:]
    messages = [first, *collector.done()]
    assert not any(m.startswith("READY") for m in messages)
    waits = [m for m in messages if m.startswith("STATUS=camera not found, retry in ")]
    assert len(waits) >= 5, messages  # 3 s of waiting, a ping every 1/3 s
    assert all("WATCHDOG=1" in m and "EXTEND_TIMEOUT_USEC=1000000" in m for m in waits)
    assert messages[-1] == "STOPPING=1"
    assert "not found: /dev/smilebooth-no-such-camera" in stderr
