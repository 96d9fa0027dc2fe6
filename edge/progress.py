"""A one-line progress bar on stderr, for long work a person waits for at a terminal.

Only when the stream is a terminal: in a pipe, a log file or under systemd it prints
nothing, so scripts and journald never see carriage returns. Redrawn at most every 0.1 s.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.label, self.done = total, label, 0
        self._drawn_at = 0.0
        self._shown = False

    def step(self, note: str = "") -> None:
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self._drawn_at >= 0.1 or self.done == self.total):
            self._drawn_at = now
            self._draw(note)

    def _draw(self, note: str) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        fraction = self.done / self.total if self.total else 1.0
        width = max(10, min(30, columns - 40))
        filled = round(width * fraction)
        text = (
            f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {note}"
        )
        self.stream.write("\r" + text[: columns - 1].ljust(columns - 1))
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Wipe the bar (before printing a message, and at the end)."""
        if self._shown:
            columns = shutil.get_terminal_size((80, 24)).columns
            self.stream.write("\r" + " " * (columns - 1) + "\r")
            self.stream.flush()
            self._shown = False

    def close(self) -> None:
        self.clear()
