"""Issue 30, item 3: a network camera that accepts the connection and never answers.

The old loop opened it on its own thread: FFmpeg's ~30 s open blocked the loop, the
watchdog went silent for 30.5 s (WatchdogSec=30: systemd kills the service) and a SIGTERM
took 22.9 s. Here `smilebooth run` meets a real local socket that accepts and never sends
a byte, with systemd's notify socket and watchdog variables set: the longest gap between
pings stays under half of WatchdogSec and a SIGTERM ends it in under 2 s.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.paths import FACE_MODEL, SMILE_MODEL, require
from tests.reliability.helpers import FakeCameraServer, run_watched

WATCHDOG_S = 4.0


def test_black_hole_camera_keeps_the_watchdog_and_stops_fast(tmp_path: Path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    hole = FakeCameraServer(lambda client: None)  # accepts, never answers
    source = (
        f"source: {{type: opencv, device: 'http://127.0.0.1:{hole.port}/video', "
        "open_timeout_s: 5, reopen_initial_s: 0.5, reopen_max_s: 1.0}"
    )
    child, notify = run_watched(tmp_path, source, WATCHDOG_S)
    pings: list[float] = []
    try:
        notify.settimeout(60)  # the models load first
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            try:
                message = notify.recv(4096).decode()
            except TimeoutError:
                break
            if "WATCHDOG=1" in message:
                pings.append(time.monotonic())
                deadline = deadline or pings[0] + 13.0  # two 5 s opens and their retries
                notify.settimeout(max(0.01, deadline - time.monotonic()))
        end = time.monotonic()
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=30)
        stopped_s = time.monotonic() - end
    finally:
        child.kill()
        hole.close()
        notify.close()
    assert child.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]
    assert len(hole.connections) >= 2  # it really connected, twice: opened, timed out, retried
    gaps = [b - a for a, b in zip(pings, [*pings[1:], end], strict=True)]
    print(f"longest gap {max(gaps):.2f} s, stop {stopped_s:.2f} s, {len(pings)} pings")
    assert max(gaps) < WATCHDOG_S / 2, f"longest gap {max(gaps):.2f} s: {gaps}"
    assert stopped_s < 2.0, f"stop took {stopped_s:.2f} s"
