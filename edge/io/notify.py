"""systemd notifications over $NOTIFY_SOCKET, without a dependency.

READY=1 once the camera delivers frames, WATCHDOG=1 from the frame loop (every third of
WatchdogSec, so a stalled camera read or a hung inference stops the pings and systemd
restarts the service), STOPPING=1 on shutdown. While the loop waits for a missing camera
it pings from the wait (waiting() with a STATUS line): a restart would find no camera
either, and would only defeat the loop's own backoff. Outside systemd every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

log = logging.getLogger(__name__)


def watchdog_interval(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds between pings: a third of $WATCHDOG_USEC (so that a ping late by a slow
    frame still comes within half of it); None without a watchdog for us
    ($WATCHDOG_PID names another process: the variables were inherited, not meant for us)."""
    usec = environ.get("WATCHDOG_USEC", "")
    owner = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (owner.isdigit() and int(owner) != pid):
        return None
    return int(usec) / 3e6


class Notifier:
    """sd_notify for one service process; tick() from the frame loop, once per frame."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        pid: int | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        address = environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self.address = address
        self.interval = watchdog_interval(environ, os.getpid() if pid is None else pid)
        self.clock = clock
        self.ready_sent = False
        self._last_ping = -float("inf")
        self._socket: socket.socket | None = None
        self._failed = False
        self._status_changed = False
        if address:  # socket only then: outside systemd it would be 0.5 MB resident for nothing
            import socket

            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def send(self, message: str) -> None:
        if self._socket is None:
            return
        try:
            self._socket.sendto(message.encode(), self.address)
        except OSError as exc:  # systemd gone: nothing useful to do but say so once
            level = logging.DEBUG if self._failed else logging.WARNING
            log.log(level, "sd_notify %r to %s failed: %s", message, self.address, exc)
            self._failed = True

    def ready(self, status: str = "running") -> None:
        """Start-up is over (systemd holds `Type=notify` units in 'activating' until this)."""
        self.send(f"READY=1\nSTATUS={status}")
        self.ready_sent = True

    def watchdog(self) -> None:
        """One keep-alive now, whatever the rate (tick() is the rate-limited one)."""
        self.send("WATCHDOG=1")
        self._last_ping = self.clock()

    def keepalive(self) -> None:
        """WATCHDOG=1 if one is due: the loop is waiting on its source, with a bound, and
        so alive (a stalled stream's read times out; a hung inference never gets here).
        Nothing before READY=1: start-up has its own timeout (waiting() extends it)."""
        if not self.ready_sent:
            return
        if self.interval is not None and self.clock() - self._last_ping >= self.interval:
            self.watchdog()

    def status(self, text: str) -> None:
        """A one-line status shown by `systemctl status`."""
        self.send("STATUS=" + text.replace("\n", " "))

    @property
    def keepalive_s(self) -> float:
        """How often waiting() must be called: the watchdog's rate, or every 5 s without one."""
        return self.interval if self.interval is not None else 5.0

    def waiting(self, text: str) -> None:
        """Alive but without frames (a camera being waited for): STATUS and WATCHDOG=1 now.

        Before READY=1 it also extends systemd's start timeout (EXTEND_TIMEOUT_USEC), so a
        camera plugged in late is waited for instead of the start being timed out.
        """
        message = "STATUS=" + text.replace("\n", " ")
        if self.interval is not None:
            message += "\nWATCHDOG=1"
            self._last_ping = self.clock()
        if not self.ready_sent:
            message += f"\nEXTEND_TIMEOUT_USEC={int(self.keepalive_s * 3e6)}"
        self.send(message)
        self._status_changed = True

    def tick(self) -> None:
        """Once per frame: READY=1 the first time, then WATCHDOG=1 at the watchdog's rate."""
        if not self.ready_sent:
            self.ready()
            self._status_changed = False
        elif self._status_changed:  # frames again after a wait
            self.status("running")
            self._status_changed = False
        if self.interval is not None and self.clock() - self._last_ping >= self.interval:
            self.watchdog()

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
