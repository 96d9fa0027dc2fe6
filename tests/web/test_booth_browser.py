"""The guest screen in a real browser (Debian's Chromium through Playwright), fed by a real loop
(the shipped models) on a scene of real footage: people who do not smile (stage_360p), a smiling
face (the astronaut), then nobody (the background of a photo with no one in it).

The test follows one pass of the scene as a guest would see it: the guidance, the countdown
during the hold, the flash and the photo with its QR code, which a real decoder reads to a link
that serves that photo and nothing else; then the slideshow once nobody is there. Set
SMILEBOOTH_SCREENSHOTS=docs/screenshots to rewrite the guide's screenshots from the same run.
"""

from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.config import load_config
from edge.io.video import video_frames
from edge.web.address import lan_address
from tests.paths import MEDIA, ROOT, require
from tests.web.conftest import TOKEN, LoopSite, replay_config, serve_loop
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, playwright_api

WIDE = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1280, "height": 800}
CANVAS = (480, 640)  # every frame of the scene on one 4:3 camera picture
# What each screen shows, recorded by the page itself as it changes (nothing is missed
# between two polls of the test).
RECORDER = """
window.seen = [];
new MutationObserver(() => {
  const line = document.getElementById('line-text');
  const count = document.getElementById('countdown');
  const entry = [document.body.dataset.mode, line && line.textContent, count && count.textContent];
  const last = window.seen[window.seen.length - 1];
  if (!last || last.join('|') !== entry.join('|')) window.seen.push(entry);
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


def on_canvas(image: np.ndarray) -> np.ndarray:
    """The image fitted, centred, on a dark 640x480 picture."""
    height, width = CANVAS
    scale = min(width / image.shape[1], height / image.shape[0])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    canvas = np.full((height, width, 3), 24, np.uint8)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = cv2.resize(image, size)
    return canvas


def write_scene(folder: Path) -> None:
    """3 s of people not smiling, 4 s of a smile, 5 s of nobody, as 10 frames a second."""
    folder.mkdir(parents=True)
    stage = require(MEDIA / "video" / "stage_360p.mp4")
    frames = [image for _, (_, image) in zip(range(30), video_frames(stage, 1), strict=False)]
    assert len(frames) == 30
    smile = cv2.imread(str(ROOT / "samples" / "astronaut.jpg"))
    empty = cv2.imread(str(require(MEDIA / "faces-dlib" / "dogs.jpg")))
    empty = empty[: empty.shape[0] * 3 // 10]  # the wall above the dogs: no one there
    scene = frames + [smile] * 40 + [empty] * 50
    for index, image in enumerate(scene):
        cv2.imwrite(str(folder / f"frame_{index:04d}.jpg"), on_canvas(image))


@pytest.fixture
def guest_booth(tmp_path: Path) -> Iterator[LoopSite]:
    write_scene(tmp_path / "frames")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        f"source: {{type: images, folder: {tmp_path / 'frames'}, fps: 10, repeat: 10}}\n"
        f"capture: {{folder: {tmp_path / 'photos'}}}\n"
        "trigger: {armed: true, hold_s: 1.5, cooldown_s: 3}\n"
        "web: {host: 0.0.0.0, idle_s: 2, review_s: 6}\n"
    )
    config = load_config(config_file)
    config = dataclasses.replace(config, web=dataclasses.replace(config.web, port=0))
    yield from serve_loop(config, TOKEN)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert CHROMIUM is not None, "chromium is missing: .ci/run installs it"
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def decode_qr(png: bytes) -> str:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return str(text)


def test_the_guest_screen_follows_a_real_loop(browser: object, guest_booth: LoopSite) -> None:
    url = f"{guest_booth.url}booth"
    pages = []
    for viewport in (WIDE, LAPTOP):
        page = browser.new_page(viewport=viewport)  # type: ignore[attr-defined]
        page.add_init_script(RECORDER)
        page.goto(url)
        pages.append(page)
    wide, laptop = pages
    size = {id(wide): "1920x1080", id(laptop): "1280x800"}

    def shoot_operator() -> None:
        folder = os.environ.get("SMILEBOOTH_SCREENSHOTS")
        if not folder:
            return
        operator = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        operator.goto(guest_booth.url)
        operator.wait_for_function("document.getElementById('live-view').naturalWidth > 0")
        operator.locator("#now-faces li").first.wait_for()
        operator.screenshot(path=str(Path(folder) / "live-desktop.png"))
        operator.close()

    def shoot(name: str) -> None:
        folder = os.environ.get("SMILEBOOTH_SCREENSHOTS")
        for page in pages if folder else ():
            path = Path(folder or ".") / f"booth-{name}-{size[id(page)]}.jpg"  # photos: JPEG
            page.screenshot(path=str(path), type="jpeg", quality=80)

    # People who do not smile: the mirror, a sign on each face, one line asking for smiles.
    wide.locator("#line-text").filter(has_text="Big smiles!").wait_for(timeout=30_000)
    assert wide.locator("#mirror").is_visible() and wide.locator(".mark").count() >= 1
    wide.wait_for_function("document.getElementById('camera').naturalWidth === 640")
    wide.wait_for_function(  # a face that does not smile carries the sign that says so
        "[...document.querySelectorAll('.mark .sign')].some(s => s.textContent === 'smile')"
    )
    laptop.locator("#line-text").filter(has_text="Big smiles!").wait_for(timeout=10_000)
    # The smile: the countdown during the hold, then the flash and the photo with its QR code.
    wide.locator("#countdown").filter(has_text="3").wait_for(timeout=20_000)
    assert wide.inner_text("#line-text") == "Hold it…"
    # The docs' pictures show only the astronaut (public domain; ../shared/media's footage
    # may not be redistributed): the mirror at the countdown, and the operator's page.
    shoot("mirror")
    shoot_operator()
    wide.wait_for_function("document.body.dataset.mode === 'review'", timeout=20_000)
    assert int(wide.evaluate("document.body.dataset.flashes")) >= 1
    wide.wait_for_function("document.getElementById('review-photo').naturalWidth > 0")
    laptop.wait_for_function("document.body.dataset.mode === 'review'", timeout=5_000)
    # The QR code, read off the screen by a real decoder while the review is still up (a
    # slow machine leaves it little of review_s): the link the screen was handed.
    link = decode_qr(wide.locator("#qr").screenshot())
    assert link and link == wide.evaluate("document.getElementById('review').dataset.link")
    assert decode_qr(laptop.locator("#qr").screenshot()) == link
    shoot("review")
    seen = wide.evaluate("window.seen")
    lines = [line for mode, line, _ in seen if mode == "mirror"]
    counts = [count for mode, _, count in seen if mode == "mirror" and count]
    assert lines.index("Big smiles!") < lines.index("Hold it…")
    assert counts[:3] == ["3", "2", "1"], seen

    # The link opens that photo and no other.
    parsed = urllib.parse.urlsplit(link)
    # The scene loops (repeat: 10): on a slow machine the next pass may have taken another
    # photo by now. The link's photo is the one whose share file holds its token.
    token = parsed.path.removeprefix("/s/")
    shared = [
        p
        for p in sorted(guest_booth.folder.glob("*.jpg"))
        if p.with_suffix(".share").is_file()
        and p.with_suffix(".share").read_text(encoding="ascii").strip() == token
    ]
    assert len(shared) == 1
    photos = shared
    assert parsed.path.startswith("/s/") and photos[0].stem not in link
    # The page was opened on 127.0.0.1: the link carries the booth's LAN address instead.
    assert parsed.port == guest_booth.port and parsed.hostname == (lan_address() or "127.0.0.1")
    reply = guest_booth.request("GET", parsed.path)
    assert reply.status == 200 and reply.body == photos[0].read_bytes()
    for other in (f"{parsed.path}/meta", f"{parsed.path}x", f"{parsed.path}/../"):
        assert guest_booth.request("GET", other).status == 404, other

    # Nobody there any more: after idle_s, the slideshow of the photos taken.
    wide.wait_for_function("document.body.dataset.mode === 'idle'", timeout=20_000)
    wide.wait_for_function("document.getElementById('slide').naturalWidth > 0")
    assert wide.locator("#camera").get_attribute("src") is None  # no stream while hidden
    slide = guest_booth.request("GET", "/booth/slide/0")
    assert slide.status == 200 and slide.headers["content-type"] == "image/jpeg"
    laptop.wait_for_function("document.body.dataset.mode === 'idle'", timeout=5_000)
    laptop.wait_for_function("document.getElementById('slide').naturalWidth > 0")
    shoot("slideshow")
    for page in pages:
        page.close()


@pytest.fixture
def group_booth(tmp_path: Path) -> Iterator[LoopSite]:
    """A real photo of 25 people, twice side by side, as the camera's picture; paused."""
    frames = tmp_path / "frames"
    frames.mkdir()
    group = cv2.imread(str(require(MEDIA / "faces-dlib" / "bald_guys.jpg")))
    cv2.imwrite(str(frames / "group.jpg"), np.hstack([group, group]))  # two rows' worth
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        f"source: {{type: images, folder: {frames}, fps: 5, repeat: 600}}\n"
        f"capture: {{folder: {tmp_path / 'photos'}}}\ntrigger: {{armed: false}}\n"
    )
    config = load_config(config_file)
    config = dataclasses.replace(config, web=dataclasses.replace(config.web, port=0))
    yield from serve_loop(config, TOKEN)


def test_a_big_groups_signs_stay_apart(browser: object, group_booth: LoopSite) -> None:
    page = browser.new_page(viewport=LAPTOP)  # type: ignore[attr-defined]
    page.goto(f"{group_booth.url}booth")
    page.wait_for_function("document.querySelectorAll('.mark').length >= 30", timeout=30_000)
    signs = page.eval_on_selector_all(
        ".mark .sign",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; })",
    )
    overlaps = [
        (a, b)
        for i, a in enumerate(signs)
        for b in signs[i + 1 :]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]
    assert overlaps == [], f"{len(overlaps)} of {len(signs)} signs overlap"
    assert min(bottom - top for _, top, _, bottom in signs) >= 12  # still legible
    page.close()


@pytest.fixture
def kiosk_booth(tmp_path: Path) -> Iterator[LoopSite]:
    """The portrait replayed, armed; the page bound to this machine only, the links naming
    an address that this machine cannot open (a proxy's, say)."""
    config = replay_config(tmp_path, armed=True, host="127.0.0.1", public_url=UNREACHABLE)
    yield from serve_loop(config, TOKEN)


UNREACHABLE = "http://booth.invalid:8080"  # .invalid never resolves (RFC 2606)


def test_the_screen_shows_the_photo_whatever_address_the_phones_get(
    browser: object, kiosk_booth: LoopSite
) -> None:
    page = browser.new_page(viewport=LAPTOP)  # type: ignore[attr-defined]
    page.goto(f"{kiosk_booth.url}booth")
    page.wait_for_function("document.body.dataset.mode === 'review'", timeout=30_000)
    page.wait_for_function("document.getElementById('review-photo').complete", timeout=10_000)
    assert page.evaluate("document.getElementById('review-photo').naturalWidth") > 0
    link = decode_qr(page.locator("#qr").screenshot())
    assert link.startswith(f"{UNREACHABLE}/s/")  # the phones' address stays in the QR code
    path = urllib.parse.urlsplit(link).path
    assert page.evaluate("document.getElementById('review-photo').src").endswith(path)
    page.close()
