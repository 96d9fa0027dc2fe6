"""CUPS through its own command-line clients (`lp`, `lpstat`, `lpoptions`; Debian cups-client).

No IPP library on the Pi: the clients are there wherever CUPS is, and their output is
stable. Every call has a timeout and turns a failure into a PrinterError whose message
says what CUPS said, for the page, MQTT and the log.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from edge.io.ipp import IppError, job_state

CALL_TIMEOUT_S = 20.0
_JOB_ID = re.compile(r"request id is (\S+)")
_DEFAULT = re.compile(r"system default destination:\s*(\S+)")


class PrinterError(RuntimeError):
    """The printer cannot print now (absent, stopped, CUPS down, job refused)."""


@dataclass(frozen=True)
class PrinterState:
    name: str
    enabled: bool
    accepting: bool
    message: str  # what lpstat says (the reason a stopped printer gives)


class Cups:
    """One CUPS server (`server`: host:port or a socket; empty: the system's)."""

    def __init__(self, server: str = "") -> None:
        self.server = server

    def default_printer(self) -> str:
        """CUPS's default destination; PrinterError when there is none."""
        self.check_running()
        out = self._run(["lpstat", "-d"])
        match = _DEFAULT.search(out)
        if not match:
            raise PrinterError("no printer named in printing.printer and CUPS has no default")
        return match[1]

    def printers(self) -> list[str]:
        """The queues CUPS has (`lpstat -e`)."""
        return [line.strip() for line in self._run(["lpstat", "-e"]).splitlines() if line.strip()]

    def state(self, printer: str) -> PrinterState:
        """Enabled (not stopped) and accepting jobs; PrinterError when there is no such printer."""
        try:
            out = self._run(["lpstat", "-p", printer, "-a", printer])
        except PrinterError as exc:  # lpstat says "invalid destination" when CUPS is down too
            self.check_running()
            known = ", ".join(self.printers()) or "none"
            raise PrinterError(f"no printer {printer!r} in CUPS (it has: {known}); {exc}") from exc
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        enabled = not any(f"printer {printer} disabled" in line for line in lines)
        accepting = not any(f"{printer} not accepting" in line for line in lines)
        reasons = [line for line in lines if not line.startswith(("printer ", printer + " "))]
        message = "; ".join(reasons) or (lines[0] if lines else "")
        return PrinterState(printer, enabled, accepting, message)

    def check_running(self) -> None:
        """PrinterError unless the CUPS scheduler answers."""
        if "not running" in self._run(["lpstat", "-r"]):
            where = self.server or "this machine"
            raise PrinterError(f"CUPS is not running on {where} (sudo systemctl start cups)")

    def default_paper(self, printer: str) -> str:
        """The printer's default PageSize (its driver's), e.g. 'A4' or 'w288h432'; '' when
        the driver has no PageSize option."""
        out = self._run(["lpoptions", "-p", printer, "-l"])
        for line in out.splitlines():
            key, _, values = line.partition(":")
            if key.split("/")[0].strip() in ("PageSize", "media"):
                for value in values.split():
                    if value.startswith("*"):
                        return value[1:]
        return ""

    def submit(self, printer: str, pdf: bytes, title: str, copies: int, paper: str) -> str:
        """Queue a PDF (from stdin); the CUPS job id ('booth-12')."""
        command = ["lp", "-d", printer, "-t", title, "-n", str(copies)]
        if paper:
            command += ["-o", f"media={paper}"]
        out = self._run(command, data=pdf)
        match = _JOB_ID.search(out)
        if not match:
            raise PrinterError(f"lp gave no job id: {out.strip()!r}")
        return match[1]

    def job_result(self, printer: str, job: str) -> str | None:
        """'completed' (printed), 'canceled' or 'aborted' once CUPS has finished the job;
        None while it has not. Asked over IPP (lpstat lists all three as completed); where
        IPP cannot be asked, lpstat's list (finished = completed)."""
        try:
            state = job_state(self.server, int(job.rsplit("-", 1)[1]))
        except (IppError, ValueError, IndexError):
            return "completed" if job in self.completed(printer) else None
        return state.state if state.finished else None

    def completed(self, printer: str) -> set[str]:
        """Ids of the printer's completed jobs."""
        out = self._run(["lpstat", "-W", "completed", "-o", printer])
        return {line.split()[0] for line in out.splitlines() if line.strip()}

    def cancel(self, job: str) -> None:
        self._run(["cancel", job])

    def _run(self, command: list[str], data: bytes | None = None) -> str:
        if shutil.which(command[0]) is None:
            raise PrinterError(f"{command[0]} not found: install CUPS (sudo apt install cups)")
        if self.server:
            command = [command[0], "-h", self.server, *command[1:]]
        try:
            done = subprocess.run(
                command, input=data, capture_output=True, timeout=CALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise PrinterError(
                f"{command[0]}: CUPS did not answer in {CALL_TIMEOUT_S:.0f} s"
            ) from exc
        except OSError as exc:
            raise PrinterError(f"{command[0]}: {exc.strerror or exc}") from exc
        out = done.stdout.decode(errors="replace")
        if done.returncode != 0:
            said = (done.stderr.decode(errors="replace").strip() or out.strip()).splitlines()
            raise PrinterError(said[-1] if said else f"{command[0]} failed ({done.returncode})")
        return out
