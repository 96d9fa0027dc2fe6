"""The operator page's event figures and Print button, in Debian's Chromium, on a real loop
(real models, a real video's frames) printing through a real CUPS (private cupsd, cups-pdf).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cups_server import QUEUE, CupsServer, pdf_of
from tests.paths import MEDIA, require
from tests.web.conftest import TOKEN, LoopSite, video_replay_config
from tests.web.test_browser import CHROMIUM_ARGS, DESKTOP, browser  # noqa: F401 (fixture)


@pytest.fixture
def printing_booth(tmp_path: Path) -> Iterator[tuple[LoopSite, CupsServer]]:
    from edge.cli.run import now_board, start_printer
    from edge.compose import build_loop
    from edge.config.booth import PrintingConfig
    from edge.web.cli import build_web_app
    from edge.web.server import LoopLink, WebServer

    cups = CupsServer().start()
    video = require(MEDIA / "video" / "blink_portrait.mp4")
    config = video_replay_config(tmp_path, video, 40, armed=False)
    printing = PrintingConfig(enabled=True, printer=QUEUE, server=cups.server, dpi=50)
    capture = dataclasses.replace(config.capture, event="garden-party")
    web = dataclasses.replace(config.web, enabled=True)
    config = dataclasses.replace(config, printing=printing, capture=capture, web=web)
    board = now_board(config)
    stop = threading.Event()
    loop = build_loop(config, stop=stop, observer=board.observe)
    printer = start_printer(config, loop)  # as `smilebooth run` wires them
    board.attach(loop.parts.bus)
    board.counters, board.printer = loop.parts.store.counters, printer
    link = LoopLink(board, loop.parts.controls, printer=printer)
    server = WebServer(build_web_app(config, {"SMILEBOOTH_WEB_TOKEN": TOKEN}, link), config.web)
    runner = threading.Thread(target=loop.run, daemon=True)
    runner.start()
    server.start()
    try:
        folder = Path(config.capture.event_folder)
        yield LoopSite(server.wait_started(), folder, loop, board), cups
    finally:
        stop.set()
        runner.join(10)
        server.stop()
        printer.stop()
        board.live.close()
        cups.stop()


def test_print_from_the_page_and_see_the_printer_stop(
    browser: object,  # noqa: F811
    printing_booth: tuple[LoopSite, CupsServer],
) -> None:
    booth, cups = printing_booth
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[attr-defined]
    page.goto(booth.url)
    page.fill("#token", TOKEN)
    page.dispatch_event("#token", "change")
    page.locator("#event-figures").filter(has_text="garden-party: 0 taken").wait_for()
    page.click("#shoot")
    page.locator("#event-figures").filter(has_text="1 taken").wait_for(timeout=20_000)
    (name,) = [p["name"] for p in booth.request("GET", "/api/photos").json()["photos"]]
    page.reload()  # the gallery lists the new photo
    page.click("#tab-photos")
    page.locator(f".card[data-name='{name}']").click()
    page.click("#viewer-print")
    page.locator("#message").filter(has_text=f"Print 1 of {name} queued").wait_for()
    page.click("#viewer-close")
    page.click("#tab-live")
    page.locator("#event-figures").filter(has_text="1 printed").wait_for(timeout=60_000)
    pdf_of(Path(name).stem).unlink()
    assert "0 by smiles" in page.inner_text("#event-figures")
    # Out of paper: the operator sees it under the live view; the photo is still there.
    cups.run("cupsdisable", "-r", "out of paper", QUEUE)
    page.click("#tab-photos")
    page.locator(f".card[data-name='{name}']").click()
    page.click("#viewer-print")
    page.click("#viewer-close")
    page.click("#tab-live")
    page.locator("#print-error").filter(has_text="out of paper").wait_for(timeout=30_000)
    assert "photo is kept" in page.inner_text("#print-error")
    assert (booth.folder / name).is_file()
    page.close()
