"""sd_notify datagrams read from a real AF_UNIX socket, as systemd would."""

from __future__ import annotations

import os
import socket
import time

import pytest

from edge.notify import Notifier, watchdog_interval


@pytest.fixture
def systemd_socket(tmp_path):
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(1.0)
    yield server, str(path)
    server.close()


def received(server: socket.socket) -> list[str]:
    messages = []
    server.settimeout(0.2)
    try:
        while True:
            messages.append(server.recv(4096).decode())
    except TimeoutError:
        return messages


def test_ready_once_watchdog_at_half_the_interval_then_stopping(systemd_socket) -> None:
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
    assert len(pings) == 4  # every 1.0 s (half of WatchdogSec=2 s) over 4 s
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
    assert watchdog_interval({**environ, "WATCHDOG_PID": "4242"}, pid=4242) == 1.0
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
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}  # ping every 0.5 s
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
    # 0.5 s while frames flow: at least 5, never more than the whole run allows.
    assert 5 <= pings <= elapsed / 0.5 + 1
