"""The page in a real browser: Debian's headless Chromium, driven by Playwright.

Set SMILEBOOTH_SCREENSHOTS=docs/screenshots to (re)write the README's screenshots from the
same run. Without Chromium the tests are skipped, except in CI, where they must run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import MEDIA, require
from tests.web.conftest import ASTRONAUT, TOKEN, LoopSite, Site, serve_loop, video_replay_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("no chromium (apt install chromium)", allow_module_level=True)
# Chromium on a closed network: no background connections to fail, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert CHROMIUM is not None, "chromium is missing: .ci/run installs it"
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def screenshot(page: object, name: str) -> None:
    folder = os.environ.get("SMILEBOOTH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)  # type: ignore[attr-defined]


def test_gallery_lists_opens_and_serves_a_capture(browser: object, site: Site) -> None:
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[attr-defined]
    page.goto(site.url)
    cards = page.locator(".card")
    cards.first.wait_for()
    assert cards.count() == 3
    assert "score 70 %" in cards.first.inner_text()
    page.wait_for_function("document.querySelector('.card img').naturalWidth > 0")  # lazy
    thumb_width = page.eval_on_selector(".card img", "img => img.complete && img.naturalWidth")
    assert thumb_width == 320
    screenshot(page, "gallery-desktop.png")
    cards.first.click()
    viewer = page.locator("#viewer-image")
    viewer.wait_for()
    page.wait_for_function("document.getElementById('viewer-image').naturalWidth > 0")
    assert "huge" in page.locator("#viewer-faces").inner_text()
    href = page.get_attribute("#viewer-download", "href")
    assert href is not None and href.endswith("?download=1")
    page.close()


def test_delete_is_refused_without_the_token_and_works_with_it(browser: object, site: Site) -> None:
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(site.url)
    page.locator(".card").first.click()
    name = page.inner_text("#viewer-name")
    page.click("#viewer-delete")
    page.locator("#message").filter(has_text="needs the token").wait_for()
    assert (site.folder / name).exists()
    page.fill("#token", TOKEN)
    page.dispatch_event("#token", "change")
    page.click("#viewer-share")  # the photo's share link, for a guest who missed the QR
    page.wait_for_function("document.getElementById('viewer-qr').naturalWidth > 0")
    link = page.inner_text("#viewer-link")
    assert "/s/" in link and name not in link
    page.click("#viewer-delete")
    page.wait_for_function("document.querySelectorAll('.card').length === 2")
    assert site.request("GET", link[link.index("/s/") :]).status == 404  # revoked with it
    assert not (site.folder / name).exists()
    page.close()


def test_an_uploaded_photo_comes_back_annotated(browser: object, site: Site) -> None:
    page = browser.new_page(viewport=PHONE, is_mobile=True)  # type: ignore[attr-defined]
    page.goto(site.url)
    screenshot(page, "gallery-phone.png")
    page.click("#tab-score")
    page.set_input_files("#upload", str(ASTRONAUT))
    page.locator("#result-summary").filter(has_text="Group score").wait_for()
    assert "1 face(s)" in page.inner_text("#result-summary")
    page.wait_for_function("document.getElementById('result-image').naturalWidth > 0")
    width = page.eval_on_selector("#result-image", "img => img.naturalWidth")
    assert width == 512  # the photo itself, with the drawing on it
    screenshot(page, "score-phone.png")
    page.close()


@pytest.fixture
def booth(tmp_path: Path) -> Iterator[LoopSite]:
    """The loop on frames of the blink portrait video (a real face, eyes that close)."""
    video = require(MEDIA / "video" / "blink_portrait.mp4")
    yield from serve_loop(video_replay_config(tmp_path, video, 40, armed=False), TOKEN)


def test_live_view_now_panel_and_controls(browser: object, booth: LoopSite) -> None:
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[attr-defined]
    page.goto(booth.url)
    page.wait_for_function("document.getElementById('live-view').naturalWidth === 480")
    page.locator("#now-message").filter(has_text="Paused").wait_for()
    assert "1 face(s)" in page.inner_text("#now-figures")
    # The face's details in the numbered list beside the picture, not over it.
    page.locator("#now-faces li").first.wait_for()
    assert page.inner_text("#now-faces li b") == "1"
    assert "smiling" in page.inner_text("#now-faces li")
    # No screenshot of this page: its frames are third-party footage (../shared/media may
    # not be redistributed); docs/screenshots' live view comes from the guest screen's test.
    page.click("#shoot")  # no token entered yet
    page.locator("#message").filter(has_text="needs the token").wait_for()
    assert booth.request("GET", "/api/photos").json()["photos"] == []
    page.fill("#token", TOKEN)
    page.dispatch_event("#token", "change")
    page.click("#shoot")
    page.locator("#last-photo").filter(has_text="Last photo").wait_for(timeout=20_000)
    assert len(booth.request("GET", "/api/photos").json()["photos"]) == 1
    page.eval_on_selector(
        "#threshold", "el => { el.value = 0.8; el.dispatchEvent(new Event('change')); }"
    )
    page.locator("#now-figures").filter(has_text="needs 80 %").wait_for()
    page.click("#arm")
    page.wait_for_function("document.getElementById('arm').textContent.startsWith('Pause')")
    assert booth.loop.parts.controls.peek().armed is True
    page.close()
    phone = browser.new_page(viewport=PHONE, is_mobile=True)  # type: ignore[attr-defined]
    phone.goto(booth.url)
    phone.wait_for_function("document.getElementById('live-view').naturalWidth > 0")
    # Armed, threshold 0.8, a face that does not smile: once the cooldown is over, the page
    # asks for a smile and the live view marks that face.
    phone.locator("#now-message").filter(has_text="Smile!").wait_for(timeout=30_000)
    assert "rearm" not in phone.inner_text("body")  # the phases in plain words
    phone.wait_for_timeout(500)  # the next live frame, drawn with the mark
    phone.close()
