"""Printing through a real CUPS server (private cupsd, cups-pdf virtual printer).

A photo the loop saved comes out of CUPS as a PDF page, rendered back to pixels with
pdftoppm and checked: the photo fitted on the printer's paper, the overlay, the caption.
A stopped or missing printer is reported on the page, on MQTT and in the log, the photo
untouched. The scores are scripted; the frames, the files, CUPS and the broker are real.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.compose import build_loop
from edge.config import AppConfig
from edge.config.booth import PrintingConfig
from edge.config.decide import TriggerConfig
from edge.config.mqtt import MqttConfig
from edge.config.output import CaptureConfig
from edge.config.source import SourceConfig
from edge.config.web import WebConfig
from edge.decide.control import Controls
from edge.io import events
from edge.io.counters import EventCounters
from edge.io.cups import Cups
from edge.io.print_layout import Page, lay_out, page_pdf, paper_points
from edge.io.printer import PrintRefusedError, PrintService
from edge.io.sources.opencv_source import OpenCVSource
from tests._loop_helpers import STAGE, ScriptedProcessor, smiling_between, video
from tests.cups_server import QUEUE, CupsServer, pdf_of
from tests.paths import ROOT

TRIGGER = TriggerConfig(
    threshold=0.7, rearm_threshold=0.5, hold_s=0.5, min_faces=2, burst_s=0.3, cooldown_s=2.0
)
RENDER_DPI = 50
GREEN = (0, 200, 0)


@pytest.fixture
def cups() -> Iterator[CupsServer]:
    server = CupsServer().start()
    yield server
    server.stop()


def overlay_png(path: Path) -> Path:
    """Branding: an opaque green bar across the top-left of the page, clear elsewhere."""
    overlay = np.zeros((283, 200, 4), np.uint8)
    overlay[0:20, 0:80] = (*GREEN, 255)
    cv2.imwrite(str(path), overlay)
    return path


def wait_for_job(service: PrintService, state: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = service.status()["jobs"]
        if jobs and jobs[0]["state"] == state:
            return jobs[0]
        if jobs and jobs[0]["state"] in ("done", "failed"):
            raise AssertionError(f"job ended {jobs[0]}, wanted {state}")
        time.sleep(0.1)
    raise AssertionError(f"no print job became {state}: {service.status()}")


def render(pdf: Path, folder: Path) -> np.ndarray:
    subprocess.run(
        ["pdftoppm", "-r", str(RENDER_DPI), "-png", "-singlefile", str(pdf), str(folder / "page")],
        check=True,
        timeout=60,
    )
    image = cv2.imread(str(folder / "page.png"))
    assert image is not None
    return image


def take_one_photo(config: AppConfig) -> tuple[object, Path]:
    """A real loop over a real video: one photo by score; the loop (for its bus) and it."""
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    loop = build_loop(config, source=source, pipeline=ScriptedProcessor(smiling_between(5, 60)))
    return loop, Path(config.capture.event_folder)


def test_a_captured_photo_prints_with_its_layout_overlay_and_caption(
    cups: CupsServer, tmp_path: Path
) -> None:
    printing = PrintingConfig(
        enabled=True,
        printer=QUEUE,
        server=cups.server,
        auto=True,
        dpi=100,
        margin_mm=10.0,
        overlay=str(overlay_png(tmp_path / "brand.png")),
        caption="{event}  {date}",
    )
    config = AppConfig(
        trigger=TRIGGER,
        capture=CaptureConfig(folder=str(tmp_path / "captures"), event="smith-wedding"),
        printing=printing,
    )
    loop, folder = take_one_photo(config)
    service = PrintService(printing, folder, loop.parts.store.counters, loop.parts.bus)
    service.start()  # printing.auto: it follows the loop's capture events
    try:
        assert loop.run() == 0
        (photo,) = sorted(folder.glob("*.jpg"))
        before = photo.read_bytes()
        job = wait_for_job(service, "done")
    finally:
        service.stop()
    assert job["photo"] == photo.name and job["by"] == "auto" and job["cups_job"]
    pdf = pdf_of(photo.stem)
    try:
        page = render(pdf, tmp_path)
    finally:
        pdf.unlink()
    # The printer's paper: cups-pdf's driver says A4 (210 x 297 mm).
    width_pt, height_pt = paper_points("A4") or (0, 0)
    size = (round(width_pt / 72 * RENDER_DPI), round(height_pt / 72 * RENDER_DPI))
    assert abs(page.shape[1] - size[0]) <= 1 and abs(page.shape[0] - size[1]) <= 1
    page = page[: size[1], : size[0]]  # pdftoppm rounds up
    # The whole page is the photo laid out as designed (the same layout, drawn at 50 dpi).
    photo_image = cv2.imread(str(photo))
    expected = lay_out(
        photo_image,
        Page(width_pt, height_pt, RENDER_DPI, 10.0),
        service._caption(),
        cv2.imread(str(tmp_path / "brand.png"), cv2.IMREAD_UNCHANGED),
    )
    difference = np.abs(page.astype(int) - expected.astype(int))
    assert difference.mean() < 6, difference.mean()
    # And by what a guest sees: the photo fills the width inside the 10 mm margins...
    height, width = page.shape[:2]
    margin = round(10 / 25.4 * RENDER_DPI)
    row = height * 0.465  # the photo is centred above the caption band
    middle = page[int(row) - 5 : int(row) + 5, margin + 5 : width - margin - 5]
    source_row = photo_image[175:185].astype(int)
    scaled = cv2.resize(source_row.astype(np.uint8), (middle.shape[1], middle.shape[0]))
    assert np.abs(middle.astype(int) - scaled.astype(int)).mean() < 25
    assert page[height // 2, 2].min() > 235  # white margin left of it
    # ...the overlay's green bar over the top-left corner...
    corner = page[2:8, 2:50].reshape(-1, 3).mean(axis=0)
    assert corner[1] > 150 and corner[0] < 60 and corner[2] < 60
    # ...and the caption: dark strokes in the band under the photo, nowhere near the top.
    band = page[int(height * 0.9) : height - margin]
    assert (band.min(axis=2) < 100).sum() > 200
    assert (page[margin : int(height * 0.25), width // 2 :].min(axis=2) < 100).sum() == 0
    assert photo.read_bytes() == before  # printing only reads the photo
    counters = loop.parts.store.counters.snapshot()
    assert counters["prints"] == 1 and counters["photos"] == 1
    assert loop.parts.store.counters.copies(photo.name) == 1


def saved_photo(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    image = cv2.imread(str(ROOT / "samples" / "astronaut.jpg"))
    assert image is not None
    cv2.imwrite(str(folder / "20250101-120000-000.jpg"), image)
    return "20250101-120000-000.jpg"


@pytest.mark.broker
def test_a_stopped_printer_is_reported_on_the_page_and_mqtt_and_the_photo_stays(
    cups: CupsServer, tmp_path: Path
) -> None:
    from edge.io.mqtt.publisher import MqttPublisher
    from edge.web.auth import Guard
    from edge.web.gallery import Gallery
    from edge.web.now import NowBoard
    from edge.web.server import LoopLink, WebServer, build_app
    from tests.mosquitto import Broker
    from tests.test_mqtt import Listener
    from tests.web.conftest import Site

    broker = Broker(tmp_path).start()
    listener = Listener(broker.port)
    folder = tmp_path / "captures"
    name = saved_photo(folder)
    before = (folder / name).read_bytes()
    bus, controls = events.EventBus(), Controls(True, 0.7)
    mqtt = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, device_id="booth1")
    publisher = MqttPublisher(mqtt, bus, controls, reconnect_delay=(1, 1))
    publisher.start()
    cups.run("cupsdisable", "-r", "out of paper", QUEUE)
    printing = PrintingConfig(enabled=True, printer=QUEUE, server=cups.server, dpi=50)
    counters = EventCounters(folder, "")
    service = PrintService(printing, folder, counters, bus, poll_s=0.1)
    service.start()
    board = NowBoard(TRIGGER)
    link = LoopLink(board, controls, printer=service)
    app = build_app(WebConfig(), Gallery(folder), None, Guard("s3cret", False), link)  # type: ignore[arg-type]
    web = WebServer(app, WebConfig(port=0))
    web.start()
    site = Site(web.wait_started(), folder)
    try:
        refused = site.request("POST", f"/api/photos/{name}/print")
        assert refused.status == 401  # printing is an operator action: the token
        token = {"X-Smilebooth-Token": "s3cret"}
        queued = site.request("POST", f"/api/photos/{name}/print", headers=token)
        assert queued.status == 202, queued.body
        job = wait_for_job(service, "failed")
        assert "stopped" in job["message"] and "out of paper" in job["message"]
        page = site.request("GET", "/api/print").json()
        assert "out of paper" in page["last_error"] and "photo is kept" in page["last_error"]
        assert page["counters"]["print_failures"] == 1 and page["counters"]["prints"] == 0
        said = json.loads(
            listener.wait_for("smilebooth/booth1/error", where=lambda m: m["source"] == "print")
        )
        assert "out of paper" in said["message"]
        # The printer comes back: the same photo prints (the failure used no copy).
        cups.run("cupsenable", QUEUE)
        again = service.request(name, by="guest")
        assert again.copies == 1
        done = wait_for_job(service, "done")
        pdf_of(Path(name).stem).unlink()
        assert done["photo"] == name
        with pytest.raises(PrintRefusedError) as limit:  # max_copies 1 for guests
            service.request(name, by="guest")
        assert limit.value.status == 409 and "1 of 1 copies" in str(limit.value)
        assert service.request(name, by="operator").state == "queued"  # the operator may
        wait_for_job(service, "done")
        pdf_of(Path(name).stem).unlink()
    finally:
        web.stop()
        service.stop()
        publisher.stop()
        listener.close()
        broker.stop()
    assert (folder / name).read_bytes() == before
    assert counters.snapshot()["prints"] == 2


def test_a_missing_printer_or_cups_is_an_error_not_a_crash(
    cups: CupsServer, tmp_path: Path
) -> None:
    folder = tmp_path / "captures"
    name = saved_photo(folder)
    bus = events.EventBus()
    errors = bus.subscribe({events.ERROR})
    for printing, said in (
        (
            PrintingConfig(enabled=True, printer="nope", server=cups.server),
            "no printer 'nope' in CUPS (it has: booth)",
        ),
        (
            PrintingConfig(enabled=True, printer=QUEUE, server="127.0.0.1:9"),
            "CUPS is not running on 127.0.0.1:9",
        ),
    ):
        service = PrintService(printing, folder, EventCounters(folder, ""), bus, poll_s=0.1)
        service.start()
        try:
            service.request(name)
            job = wait_for_job(service, "failed")
        finally:
            service.stop()
        assert said in job["message"], job
        reported = []
        while (event := errors.get(timeout=0)) is not None:
            reported.append(event.payload.as_json())
        assert {e["source"] for e in reported} == {"print"}
        # Said at start (before anyone prints), then for the job, the photo kept.
        assert reported[0]["message"].startswith("printer not ready: ")
        assert said in reported[0]["message"]
        assert said in reported[1]["message"] and "photo is kept" in reported[1]["message"]
    assert (folder / name).exists()


def test_printers_and_the_paper_come_from_cups(cups: CupsServer) -> None:
    client = Cups(cups.server)
    assert QUEUE in client.printers()
    assert client.default_paper(QUEUE) == "A4"
    assert client.state(QUEUE).enabled


@pytest.mark.parametrize(
    ("name", "mm"),
    [
        ("A4", (210, 297)),
        ("a6", (105, 148)),
        ("Letter", (215.9, 279.4)),
        ("4x6", (101.6, 152.4)),
        ("w288h432", (101.6, 152.4)),
        ("100x148mm", (100, 148)),
        ("Custom.4x6in", (101.6, 152.4)),
        ("iso_a5_148x210mm", (148, 210)),
        ("na_index-4x6_4x6in", (101.6, 152.4)),
    ],
)
def test_paper_names(name: str, mm: tuple[float, float]) -> None:
    points = paper_points(name)
    assert points is not None
    assert points == pytest.approx((mm[0] / 25.4 * 72, mm[1] / 25.4 * 72), abs=0.1)


def test_an_unknown_paper_name_is_none() -> None:
    assert paper_points("Tabloid-ish") is None


def test_a_missing_overlay_is_named_at_start(tmp_path: Path) -> None:
    printing = PrintingConfig(enabled=True, overlay=str(tmp_path / "brand.png"))
    with pytest.raises(ValueError, match=r"printing.overlay .*brand.png.*no such file"):
        PrintService(printing, tmp_path, EventCounters(tmp_path, ""), events.EventBus())


def test_a_cancelled_job_is_told_from_a_printed_one(cups: CupsServer, tmp_path: Path) -> None:
    """lpstat lists both as completed; the job's IPP state says which one printed."""
    client = Cups(cups.server)
    pdf_path = tmp_path / "page.pdf"
    page = Page(*(paper_points("A6") or (0, 0)), dpi=50)
    pdf_path.write_bytes(page_pdf(lay_out(np.zeros((90, 160, 3), np.uint8), page), page))
    held = cups.run("lp", "-d", QUEUE, "-H", "indefinite", "-t", "held-job", str(pdf_path))
    held_job = held.split()[3]
    assert client.job_result(QUEUE, held_job) is None  # held: not finished
    cups.run("cancel", held_job)
    printed = client.submit(QUEUE, pdf_path.read_bytes(), "smilebooth ipp-check", 1, "A6")
    deadline = time.monotonic() + 60
    while client.job_result(QUEUE, printed) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.job_result(QUEUE, printed) == "completed"
    assert client.job_result(QUEUE, held_job) == "canceled"
    assert {held_job, printed} <= client.completed(QUEUE)  # what lpstat alone would say
    pdf_of("ipp-check").unlink()


def test_validate_config_names_a_bad_overlay(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    for overlay, said in (
        (tmp_path / "missing.png", "no such file"),
        (tmp_path / "notes.png", "not an image OpenCV can read"),
    ):
        config = tmp_path / "config.yaml"
        config.write_text(f"printing:\n  enabled: true\n  overlay: {overlay}\n")
        done = subprocess.run(
            [sys.executable, "-m", "edge", "validate-config", str(config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2
        assert f"printing.overlay '{overlay}': {said}" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_guest_prints_the_photo_on_the_review_screen_and_no_other(
    cups: CupsServer, tmp_path: Path
) -> None:
    """The guest screen's Print button: no token, only the photo under review (the request
    names none), within the per-photo copy limit; nothing to print once the review ends."""
    from edge.web.auth import Guard
    from edge.web.gallery import Gallery
    from edge.web.now import NowBoard
    from edge.web.server import LoopLink, WebServer, build_app
    from tests.web.conftest import Site

    folder = tmp_path / "captures"
    name = saved_photo(folder)
    bus, controls = events.EventBus(), Controls(True, 0.7)
    printing = PrintingConfig(enabled=True, printer=QUEUE, server=cups.server, dpi=50)
    service = PrintService(printing, folder, EventCounters(folder, ""), bus, poll_s=0.1)
    service.start()
    board = NowBoard(TRIGGER)
    board.attach(bus)
    web_config = WebConfig(port=0, review_s=30.0)
    app = build_app(
        web_config,
        Gallery(folder),
        None,  # type: ignore[arg-type]
        Guard("s3cret", False),
        LoopLink(board, controls, printer=service),
    )
    web = WebServer(app, web_config)
    web.start()
    site = Site(web.wait_started(), folder)
    try:
        assert site.request("POST", "/booth/print").status == 409  # nothing on review yet
        bus.publish(events.CaptureEvent(name, "2025-01-01T12:00:00+00:00", "score"))
        assert site.request("GET", "/booth/state").json()["printing"] is True
        queued = site.request("POST", "/booth/print")  # no token: the guest screen
        assert queued.status == 202, queued.body
        done = wait_for_job(service, "done")
        pdf_of(Path(name).stem).unlink()
        assert done["photo"] == name and done["by"] == "guest"
        again = site.request("POST", "/booth/print")  # max_copies 1 for guests
        assert again.status == 409 and "1 of 1 copies" in again.json()["error"]
    finally:
        web.stop()
        service.stop()
