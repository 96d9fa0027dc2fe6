"""Share links and the guest routes on a real server: a link opens its one photo and nothing
else, guessing finds nothing, a delete revokes it, and nothing open to guests acts."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import ipaddress
import re
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.io.capture import PhotoStore
from edge.io.image_io import decode_image
from edge.web.address import base_url, lan_address
from edge.web.gallery import Gallery, NoSuchPhotoError
from edge.web.qr import qr_png
from edge.web.share import ShareLinks
from tests.web.conftest import TOKEN, Site, save_photos, serve, web_config

AUTH = {"X-Smilebooth-Token": TOKEN}


def link_for(folder: Path, name: str) -> str:
    """The photo's share token, made as the guest screen makes it (saved beside the photo)."""
    return ShareLinks(Gallery(folder)).token(name)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Site]:
    """Viewing protected too: only the guest routes are open."""
    folder = tmp_path / "captures"
    save_photos(folder, 3)
    yield from serve(web_config(folder, protect_viewing=True), TOKEN)


def test_a_share_link_serves_its_photo_and_nothing_else(guarded: Site) -> None:
    names = sorted(p.name for p in guarded.folder.glob("*.jpg"))
    token = link_for(guarded.folder, names[1])
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token) and names[1] not in token
    reply = guarded.request("GET", f"/s/{token}")
    assert reply.status == 200 and reply.headers["content-type"] == "image/jpeg"
    assert reply.body == (guarded.folder / names[1]).read_bytes()
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["referrer-policy"] == "no-referrer"
    download = guarded.request("GET", f"/s/{token}?download=1")
    assert download.body == reply.body
    assert download.headers["content-disposition"].startswith("attachment")
    assert names[1] not in download.headers["content-disposition"]
    # Nothing next to it: the other photos, their sidecars, the list, the link's neighbours.
    for path in (
        f"/s/{token}/meta",
        f"/s/{token}/thumb",
        f"/s/{token}/../{names[0]}",
        f"/s/{names[1]}",
        f"/s/{token[:-1]}",
        f"/s/{token}x",
        "/s/",
        f"/photos/{names[0]}",
        f"/photos/{names[1]}/meta",
        "/api/photos",
    ):
        refused = guarded.request("GET", path)
        assert refused.status in (401, 404), path
        assert refused.headers["content-type"] == "application/json", path
    assert guarded.request("POST", f"/s/{token}").status == 405


def test_a_thousand_random_tokens_find_nothing(guarded: Site) -> None:
    for name in (p.name for p in guarded.folder.glob("*.jpg")):
        link_for(guarded.folder, name)
    found = [
        reply.status
        for reply in (
            guarded.request("GET", f"/s/{secrets.token_urlsafe(16)}") for _ in range(1000)
        )
        if reply.status != 404
    ]
    assert found == []


def test_links_survive_a_restart_and_go_with_the_photos_delete(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    name = save_photos(folder, 2)[0]
    token = link_for(folder, name)
    assert (folder / name).with_suffix(".share").stat().st_mode & 0o077 == 0  # owner only
    assert link_for(folder, name) == token  # asked again: the same link
    for site in serve(web_config(folder), TOKEN):  # a fresh server: the link still opens
        assert site.request("GET", f"/s/{token}").status == 200
        assert site.request("POST", f"/api/photos/{name}/delete").status == 401
        assert site.request("GET", f"/s/{token}").status == 200
        assert site.request("POST", f"/api/photos/{name}/delete", headers=AUTH).status == 200
        gone = site.request("GET", f"/s/{token}")
        assert gone.status == 404 and gone.json() == {"error": "no such photo"}
    assert not (folder / name).with_suffix(".share").exists()


def test_the_disk_budget_revokes_the_links_of_the_photos_it_removes(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    names = save_photos(folder, 3)
    tokens = [link_for(folder, name) for name in names]
    config = dataclasses.replace(
        web_config(folder).capture, folder=str(folder), max_mb=0.0001, keep_newest=1
    )
    PhotoStore(config).enforce_budget()
    assert [p.name for p in folder.glob("*.share")] == [Path(names[2]).stem + ".share"]
    links = ShareLinks(Gallery(folder))
    for token in tokens[:2]:
        with pytest.raises(NoSuchPhotoError):
            links.photo(token)
    assert links.photo(tokens[2]).name == names[2]


def test_a_link_left_without_its_photo_opens_nothing_and_is_removed(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    name = save_photos(folder, 1)[0]
    links = ShareLinks(Gallery(folder))
    token = links.token(name)
    (folder / name).unlink()  # gone by hand, behind the booth's back
    with pytest.raises(NoSuchPhotoError):
        links.photo(token)
    assert not (folder / name).with_suffix(".share").exists()


def test_guests_reach_only_the_guest_routes_and_no_action(guarded: Site) -> None:
    """With viewing protected, the guest screen and its state open without the token; every
    operator route and action still refuses, and the guest routes take no POST."""
    page = guarded.request("GET", "/booth")
    assert page.status == 200 and b"/booth/events" in page.body
    assert b"/api/" not in page.body  # the guest page calls no operator route
    state = guarded.request("GET", "/booth/state").json()
    assert state["mode"] == "idle" and state["slides"] == 3  # no loop: the slideshow
    slide = decode_image(guarded.request("GET", "/booth/slide/0").body).image
    assert slide is not None and slide.shape[1] == 512  # the newest photo (512 wide)
    assert guarded.request("GET", "/booth/slide/3").status == 404
    assert guarded.request("GET", "/booth/stream.mjpg").status == 404  # no camera here
    for path in ("/api/photos", "/api/now", "/stream.mjpg", "/api/now/stream"):
        assert guarded.request("GET", path).status in (401, 404), path
    name = sorted(p.name for p in guarded.folder.glob("*.jpg"))[0]
    for path, body in (
        ("/api/control", b'{"trigger": true}'),
        ("/api/control", b'{"armed": false}'),
        (f"/api/photos/{name}/delete", b""),
        ("/booth/state", b""),
        ("/booth", b""),
    ):
        assert guarded.request("POST", path, body).status in (401, 404, 405), path
    assert (guarded.folder / name).exists()


def test_the_slideshow_can_be_turned_off_and_guest_routes_too(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    name = save_photos(folder, 2)[0]
    token = link_for(folder, name)
    for site in serve(web_config(folder, slideshow_photos=0), TOKEN):
        assert site.request("GET", "/booth/slide/0").status == 404
        assert site.request("GET", "/booth/state").json()["mode"] == "waiting"
    for site in serve(web_config(folder, guests=False), TOKEN):
        for path in ("/booth", "/booth/state", f"/s/{token}", "/booth/slide/0"):
            assert site.request("GET", path).status == 404, path


def test_a_qr_code_decodes_to_its_link() -> None:
    link = f"http://192.168.4.1:8080/s/{secrets.token_urlsafe(16)}"
    image = cv2.imdecode(np.frombuffer(qr_png(link), np.uint8), cv2.IMREAD_GRAYSCALE)
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decoded == link


def test_the_address_in_links_comes_from_config_else_the_page_else_the_lan() -> None:
    assert base_url("http://booth.local:8080/", "http", "10.0.0.5:8080", 8080) == (
        "http://booth.local:8080"
    )
    assert base_url("", "http", "10.0.0.5:9000", 9000) == "http://10.0.0.5:9000"
    found = base_url("", "http", "127.0.0.1:9000", 9000)  # a kiosk on the booth itself
    assert found == f"http://{lan_address() or '127.0.0.1'}:9000"
    address = lan_address()
    assert address is None or not ipaddress.ip_address(address).is_loopback


def test_the_operator_gets_a_photos_link_with_the_token_only(site: Site) -> None:
    name = sorted(p.name for p in site.folder.glob("*.jpg"))[0]
    refused = site.request("POST", f"/api/photos/{name}/share")
    assert refused.status == 401 and not list(site.folder.glob("*.share"))
    shared = site.request("POST", f"/api/photos/{name}/share", headers=AUTH).json()
    path = urllib.parse.urlsplit(shared["link"]).path
    assert path == f"/s/{link_for(site.folder, name)}"  # the same link the screen shows
    assert site.request("GET", path).body == (site.folder / name).read_bytes()
    qr = base64.b64decode(shared["qr"].split(",", 1)[1])
    image = cv2.imdecode(np.frombuffer(qr, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert cv2.QRCodeDetector().detectAndDecode(image)[0] == shared["link"]
    assert site.request("POST", "/api/photos/missing.jpg/share", headers=AUTH).status == 404


def test_guest_screens_are_capped_and_a_closed_one_frees_its_place(site: Site) -> None:
    from edge.web.booth import MAX_SCREENS

    def open_screen() -> tuple[http.client.HTTPConnection, int]:
        connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        connection.request("GET", "/booth/events")
        response = connection.getresponse()
        if response.status == 200:
            response.readline()  # its first state: the stream is counted
        return connection, response.status

    screens = [open_screen() for _ in range(MAX_SCREENS)]
    assert [status for _, status in screens] == [200] * MAX_SCREENS
    extra, status = open_screen()
    assert status == 503
    extra.close()
    screens.pop()[0].close()
    deadline, status = time.monotonic() + 10, 0
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.3)  # the server notices the hang-up at its next poll
        again, status = open_screen()
        again.close()
    assert status == 200
    for connection, _ in screens:
        connection.close()
