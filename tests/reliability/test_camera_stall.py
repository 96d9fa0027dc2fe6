"""Issue 30, item 3 continued: a network camera that streams a few frames, then stalls
(the connection stays open, nothing more comes). `smilebooth run` against a real local
MJPEG-over-HTTP server doing that, with systemd's variables set: the watchdog keeps its
pings (each read waits with a bound) and a SIGTERM during a stall ends it in under 2 s
(the old read waited out its 5 s timeout first)."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import cv2
import numpy as np

from tests.paths import FACE_MODEL, SMILE_MODEL, require
from tests.reliability.helpers import FakeCameraServer, run_watched

WATCHDOG_S = 4.0


def stalling_camera(frames: int = 5) -> FakeCameraServer:
    """Each connection: an MJPEG header and `frames` JPEGs, then silence, held open."""
    ok, data = cv2.imencode(".jpg", np.full((240, 320, 3), 128, np.uint8))
    assert ok
    jpeg = data.tobytes()

    def serve(client: socket.socket) -> None:
        client.recv(4096)
        client.sendall(
            b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=frame\r\n\r\n"
        )
        head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
        for _ in range(frames):
            client.sendall(head % len(jpeg) + jpeg + b"\r\n")

    return FakeCameraServer(serve)


def test_a_stalling_stream_keeps_the_watchdog_and_stops_fast(tmp_path: Path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    camera = stalling_camera()
    source = (
        f"source: {{type: opencv, device: 'http://127.0.0.1:{camera.port}/x.mjpg', "
        "open_timeout_s: 30, reopen_initial_s: 0.5, reopen_max_s: 1.0}"
    )
    child, notify = run_watched(tmp_path, source, WATCHDOG_S)
    pings: list[float] = []
    ready = None
    try:
        notify.settimeout(60)
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            try:
                message = notify.recv(4096).decode()
            except TimeoutError:
                break
            if message.startswith("READY=1"):
                ready = time.monotonic()
                deadline = ready + 9.0  # the frames, a 5 s stall, a reopen, its frames...
            if "WATCHDOG=1" in message:
                pings.append(time.monotonic())
            if deadline is not None:
                notify.settimeout(max(0.01, deadline - time.monotonic()))
        end = time.monotonic()
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=30)
        stopped_s = time.monotonic() - end
    finally:
        child.kill()
        camera.close()
        notify.close()
    assert ready is not None, stderr[-2000:]
    assert child.returncode == 0 and "Traceback" not in stderr, stderr[-2000:]
    assert len(camera.connections) >= 2, "it never stalled long enough to reconnect"
    watched = [t for t in pings if t >= ready]
    gaps = [b - a for a, b in zip([ready, *watched], [*watched, end], strict=True)]
    print(f"longest gap {max(gaps):.2f} s, stop {stopped_s:.2f} s, {len(watched)} pings")
    assert max(gaps) < WATCHDOG_S / 2, f"longest gap {max(gaps):.2f} s: {gaps}"
    assert stopped_s < 2.0, f"stop took {stopped_s:.2f} s"
