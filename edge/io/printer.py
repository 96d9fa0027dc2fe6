"""The print queue: photos to paper through CUPS, on a thread of its own.

Asking for a print (the page, the guest screen, every capture with printing.auto) only
queues a name and returns; the layout, the PDF and CUPS run on the queue's thread, so the
frame loop never waits on a printer. A job that cannot print (no such printer, stopped,
out of paper, CUPS down, not done in time) is reported on the bus (MQTT), in the log and
in `status()` (the page), and counted; the photo itself is only ever read.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.config.booth import PrintingConfig
from edge.io import events
from edge.io.counters import EventCounters
from edge.io.cups import Cups, PrinterError
from edge.io.image_io import read_image
from edge.io.print_layout import Page, lay_out, page_pdf, paper_points

log = logging.getLogger(__name__)
PHOTO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\.jpg$")
LIMITED = ("guest", "auto")  # who the per-photo copy limit applies to (not the operator)
FALLBACK_PAPER = "A4"
KEPT_JOBS = 20  # finished jobs status() lists


class PrintRefusedError(Exception):
    """A print that was not queued; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PrintJob:
    number: int
    photo: str
    copies: int
    by: str  # "operator", "guest" or "auto"
    state: str = "queued"  # queued, printing, done, failed
    message: str = ""
    cups_job: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "photo": self.photo,
            "copies": self.copies,
            "by": self.by,
            "state": self.state,
            "message": self.message,
            "cups_job": self.cups_job,
        }


def load_overlay(path: str) -> np.ndarray | None:
    """The overlay PNG (with its alpha), read once at start; ValueError naming the key."""
    if not path:
        return None
    if not Path(path).is_file():
        why = "no such file" if not Path(path).exists() else "not a file"
        raise ValueError(f"printing.overlay {path!r}: {why} (expected a PNG)")
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"printing.overlay {path!r}: not an image OpenCV can read (a PNG?)")
    return image


class PrintService:
    def __init__(
        self,
        config: PrintingConfig,
        folder: Path,
        counters: EventCounters,
        bus: events.EventBus,
        cups: Cups | None = None,
        poll_s: float = 0.5,
    ) -> None:
        self.config = config
        self.folder = folder
        self.counters = counters
        self.bus = bus
        self.cups = cups if cups is not None else Cups(config.server)
        self.overlay = load_overlay(config.overlay)
        self.poll_s = poll_s
        self.last_error = ""
        self._queue: queue.Queue[PrintJob | None] = queue.Queue(maxsize=config.queue)
        self._jobs: collections.OrderedDict[int, PrintJob] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._number = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._captures: events.Subscription | None = None

    # -- asking ------------------------------------------------------------------------

    def request(self, name: str, by: str = "operator", copies: int = 1) -> PrintJob:
        """Queue a print of the photo `name`; PrintRefusedError (with its HTTP status) when it
        cannot be queued. Never waits for the printer."""
        if not PHOTO_NAME.match(name):
            raise PrintRefusedError(404, "no such photo")
        path = self.folder / name
        if path.is_symlink() or not path.is_file():
            raise PrintRefusedError(404, "no such photo")
        if not 1 <= copies <= 10:
            raise PrintRefusedError(400, f"copies: expected 1 to 10, got {copies}")
        with self._lock:
            if by in LIMITED:
                waiting = ("queued", "printing")
                pending = sum(
                    j.copies for j in self._jobs.values() if j.photo == name and j.state in waiting
                )
                used = self.counters.copies(name) + pending
                if used + copies > self.config.max_copies:
                    raise PrintRefusedError(
                        409,
                        f"{name}: {used} of {self.config.max_copies} copies printed or queued "
                        "already",
                    )
            self._number += 1
            job = PrintJob(self._number, name, copies, by)
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                self._number -= 1
                raise PrintRefusedError(
                    503, f"{self.config.queue} prints waiting: try again"
                ) from None
            self._remember(job)
        log.info("print %d queued: %s x%d (%s)", job.number, name, copies, by)
        return job

    def status(self) -> dict[str, Any]:
        """What the page shows: the printer, the last error, the recent jobs, the counts."""
        with self._lock:
            jobs = [job.as_dict() for job in reversed(self._jobs.values())]
        return {
            "printer": self.config.printer or "(CUPS default)",
            "auto": self.config.auto,
            "max_copies": self.config.max_copies,
            "waiting": self._queue.qsize(),
            "last_error": self.last_error,
            "jobs": jobs,
            "counters": self.counters.snapshot(),
        }

    # -- running -----------------------------------------------------------------------

    def start(self) -> None:
        """The queue's thread; with printing.auto, a second one queues each saved photo."""
        self._threads.append(threading.Thread(target=self._work, name="print", daemon=True))
        if self.config.auto:
            self._captures = self.bus.subscribe({events.CAPTURE}, maxsize=64)
            self._threads.append(
                threading.Thread(target=self._follow_captures, name="print-auto", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._captures is not None:
            self.bus.unsubscribe(self._captures)
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        for thread in self._threads:
            thread.join(timeout)

    def _follow_captures(self) -> None:
        assert self._captures is not None
        while not self._stop.is_set():
            event = self._captures.get(timeout=0.5)
            if event is None or not isinstance(event.payload, events.CaptureEvent):
                continue
            try:
                self.request(event.payload.file, by="auto")
            except PrintRefusedError as exc:
                self._fail_report(f"auto print of {event.payload.file}: {exc}")

    def _work(self) -> None:
        self._probe()
        while not self._stop.is_set():
            job = self._queue.get()
            if job is None:
                return
            self._update(replace(job, state="printing"))
            try:
                cups_job = self._print(job)
            except PrinterError as exc:
                self._update(replace(job, state="failed", message=str(exc)))
                self.counters.print_failed()
                self._fail_report(f"print of {job.photo} failed: {exc} (the photo is kept)")
                continue
            self.counters.printed(job.photo, job.copies)
            self._update(replace(job, state="done", cups_job=cups_job))
            log.info("print %d done: %s (CUPS job %s)", job.number, job.photo, cups_job)

    def _probe(self) -> None:
        """At start: say now (page, MQTT, log) if the printer is not ready, not at the
        first guest's print."""
        try:
            printer = self.config.printer or self.cups.default_printer()
            self._check_printer(printer)
        except PrinterError as exc:
            self._fail_report(f"printer not ready: {exc}")
            return
        log.info("printer %s ready", printer)

    def _print(self, job: PrintJob) -> str:
        """Lay out, submit, wait until CUPS says it printed; PrinterError otherwise."""
        cups = self.cups
        printer = self.config.printer or cups.default_printer()
        self._check_printer(printer)
        read = read_image(self.folder / job.photo)
        if read.image is None:
            raise PrinterError(f"cannot read {job.photo}: {read.problem}")
        paper = self.config.paper or cups.default_paper(printer) or FALLBACK_PAPER
        size = paper_points(paper)
        if size is None:
            log.warning("paper %r of %s unknown: laid out on %s", paper, printer, FALLBACK_PAPER)
            paper, size = FALLBACK_PAPER, paper_points(FALLBACK_PAPER)
        assert size is not None
        page = Page(size[0], size[1], self.config.dpi, self.config.margin_mm)
        pdf = page_pdf(lay_out(read.image, page, self._caption(), self.overlay), page)
        cups_job = cups.submit(printer, pdf, f"smilebooth {job.photo}", job.copies, paper)
        self._update(replace(job, state="printing", cups_job=cups_job))
        deadline = time.monotonic() + self.config.job_timeout_s
        while not self._stop.is_set():
            result = cups.job_result(printer, cups_job)
            if result == "completed":
                return cups_job
            if result is not None:  # cancelled on CUPS's page, or aborted by the driver
                raise PrinterError(f"CUPS job {cups_job} was {result}, not printed")
            self._check_printer(printer, cups_job)
            if time.monotonic() > deadline:
                raise PrinterError(
                    f"CUPS job {cups_job} not printed after {self.config.job_timeout_s:.0f} s"
                )
            self._stop.wait(self.poll_s)
        raise PrinterError(f"smilebooth stopped before CUPS job {cups_job} was printed")

    def _check_printer(self, printer: str, cups_job: str = "") -> None:
        state = self.cups.state(printer)
        if not state.enabled:
            held = f"; CUPS job {cups_job} waits in its queue" if cups_job else ""
            raise PrinterError(f"printer {printer} is stopped ({state.message}){held}")
        if not state.accepting:
            raise PrinterError(f"printer {printer} is not accepting jobs ({state.message})")

    def _caption(self) -> str:
        if not self.config.caption:
            return ""
        date = time.strftime(self.config.date_format)
        return self.config.caption.format(event=self.counters.event, date=date).strip()

    def _update(self, job: PrintJob) -> None:
        with self._lock:
            self._remember(job)

    def _remember(self, job: PrintJob) -> None:
        self._jobs[job.number] = job
        self._jobs.move_to_end(job.number)
        while len(self._jobs) > KEPT_JOBS:
            oldest = next(iter(self._jobs))
            if self._jobs[oldest].state in ("queued", "printing"):
                break
            self._jobs.popitem(last=False)

    def _fail_report(self, message: str) -> None:
        self.last_error = message
        log.warning("%s", message)
        self.bus.publish(events.error_event(message, "print"))
