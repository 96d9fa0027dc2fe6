"""Shared helpers for the reliability suite: real processes, real files, tmpfs mounts."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.paths import ROOT


def smilebooth(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[bytes]:
    """`python -m edge ARGS` as a user would run it; bytes, since names may not be UTF-8."""
    return subprocess.run(
        [sys.executable, "-m", "edge", *args],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def assert_no_traceback(result: subprocess.CompletedProcess[bytes]) -> None:
    stderr = result.stderr.decode(errors="replace")
    assert "Traceback" not in stderr, stderr[-3000:]
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {stderr[-2000:]}"


def jpeg(width: int = 64, height: int = 64, value: int = 128) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), value, np.uint8))
    assert ok
    return data.tobytes()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose SOF header claims width x height (a decompression bomb)."""
    data = bytearray(jpeg(256, 256))
    position = 2
    while True:
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        if marker in (0xC0, 0xC2):
            data[position + 5 : position + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        position += 2 + length


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "2m", read_only: bool = False) -> Iterator[Path]:
    """A real tmpfs mount at `where` (skip, with the reason, when the machine forbids it)."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


class FakeCameraServer:
    """A local TCP server standing in for a network camera; `serve` handles each client
    (it returns when the client should be held open: the server keeps it until close)."""

    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._serve = serve
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
                self._serve(client)
            except OSError:
                return
            self.connections.append(client)

    def close(self) -> None:
        self.server.close()
        for client in self.connections:
            client.close()


def run_watched(
    tmp_path: Path, source_yaml: str, watchdog_s: float
) -> tuple[subprocess.Popen[str], socket.socket]:
    """`smilebooth run` on `source_yaml` (a `source:` line) as systemd would start it:
    a notify socket of our own and WATCHDOG_USEC set. The child and that socket."""
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    config = tmp_path / "config.yaml"
    config.write_text(f"{source_yaml}\ncapture: {{folder: {tmp_path / 'photos'}}}\n")
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(tmp_path / "notify"),
        "WATCHDOG_USEC": str(int(watchdog_s * 1e6)),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    return child, notify
