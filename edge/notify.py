"""systemd notifications over $NOTIFY_SOCKET, without a dependency.

READY=1 once the camera delivers frames, WATCHDOG=1 from the frame loop (at most every
half WatchdogSec, so a stalled camera or a hung inference stops the pings and systemd
restarts the service), STOPPING=1 on shutdown. Outside systemd every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self, environ: dict[str, str] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        environ = dict(os.environ) if environ is None else environ
        address = environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self.address = address
        usec = environ.get("WATCHDOG_USEC", "")
        self.interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None
        self.clock = clock
        self.ready_sent = False
        self._last_ping = -float("inf")
        self._socket: socket.socket | None = None
        if address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def send(self, message: str) -> None:
        if self._socket is None:
            return
        try:
            self._socket.sendto(message.encode(), self.address)
        except OSError as exc:  # systemd gone: nothing useful to do but say so once
            log.debug("sd_notify %s failed: %s", message, exc)

    def tick(self) -> None:
        """Once per frame: READY=1 the first time, then WATCHDOG=1 at the watchdog's rate."""
        if not self.ready_sent:
            self.send("READY=1\nSTATUS=running")
            self.ready_sent = True
        now = self.clock()
        if self.interval is not None and now - self._last_ping >= self.interval:
            self.send("WATCHDOG=1")
            self._last_ping = now

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
