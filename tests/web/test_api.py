"""The page's HTTP API on a real server: what it serves, what it refuses, and that a refused
request changes nothing."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pytest

from edge.io.image_io import decode_image
from tests.web.conftest import ASTRONAUT, TOKEN, Site, save_photos, serve, web_config

AUTH = {"X-Smilebooth-Token": TOKEN}


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_gallery_lists_newest_first_with_sidecar_scores(site: Site) -> None:
    photos = site.request("GET", "/api/photos").json()["photos"]
    assert len(photos) == 3
    assert [p["name"] for p in photos] == sorted((p["name"] for p in photos), reverse=True)
    assert [p["score"] for p in photos] == [0.7, 0.6, 0.5]
    assert all(p["faces"] == 1 and p["reason"] == "score" for p in photos)


def test_photo_thumbnail_and_sidecar_are_served(site: Site) -> None:
    name = site.request("GET", "/api/photos").json()["photos"][0]["name"]
    full = site.request("GET", f"/photos/{name}")
    assert full.status == 200 and full.headers["content-type"] == "image/jpeg"
    assert full.body == (site.folder / name).read_bytes()
    download = site.request("GET", f"/photos/{name}?download=1")
    assert download.headers["content-disposition"].startswith("attachment")
    thumb = decode_image(site.request("GET", f"/photos/{name}/thumb").body).image
    assert thumb is not None and thumb.shape[1] == 320
    meta = site.request("GET", f"/photos/{name}/meta").json()
    assert meta["faces"][0]["intensity"] == "huge"


@pytest.mark.parametrize(
    "path",
    [
        "/photos/..%2Fsecret.jpg",
        "/photos/%2E%2E%2Fsecret.jpg",
        "/photos/../secret.jpg",
        "/photos/.hidden.jpg",
        "/photos/link.jpg",
        "/photos/notes.txt",
        "/photos/missing.jpg/meta",
        "/photos/link.jpg/thumb",
    ],
)
def test_paths_outside_the_capture_folder_are_not_served(site: Site, path: str) -> None:
    secret = site.folder.parent / "secret.jpg"
    secret.write_bytes(ASTRONAUT.read_bytes())
    (site.folder / "link.jpg").symlink_to(secret)
    (site.folder / ".hidden.jpg").write_bytes(b"x")
    (site.folder / "notes.txt").write_bytes(b"x")
    reply = site.request("GET", path)
    assert reply.status == 404
    assert reply.json() == {"error": "no such photo"}
    assert secret.read_bytes() == ASTRONAUT.read_bytes()


def test_delete_needs_the_token_and_then_removes_photo_and_sidecar(site: Site) -> None:
    name = site.request("GET", "/api/photos").json()["photos"][0]["name"]
    before = folder_state(site.folder)
    for headers in ({}, {"X-Smilebooth-Token": "wrong"}, {"Authorization": f"Bearer {TOKEN}"}):
        reply = site.request("POST", f"/api/photos/{name}/delete", headers=headers)
        assert reply.status == 401 and "token" in reply.json()["error"]
    assert site.request("GET", f"/api/photos/{name}/delete", headers=AUTH).status == 405
    assert folder_state(site.folder) == before
    reply = site.request("POST", f"/api/photos/{name}/delete", headers=AUTH)
    assert reply.status == 200 and reply.json() == {"deleted": name}
    assert not (site.folder / name).exists()
    assert not (site.folder / name).with_suffix(".json").exists()
    assert len(site.request("GET", "/api/photos").json()["photos"]) == 2


def test_delete_cannot_reach_outside_the_folder(site: Site) -> None:
    outside = site.folder.parent / "keep.jpg"
    outside.write_bytes(b"keep")
    for name in ("..%2Fkeep.jpg", "%2E%2E%2Fkeep.jpg"):
        reply = site.request("POST", f"/api/photos/{name}/delete", headers=AUTH)
        assert reply.status == 404
    assert outside.read_bytes() == b"keep"


def test_without_a_configured_token_actions_are_off(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    name = save_photos(folder, 1)[0]
    for site in serve(web_config(folder), token=None):
        reply = site.request("POST", f"/api/photos/{name}/delete", headers=AUTH)
        assert reply.status == 403 and "no web token" in reply.json()["error"]
        assert site.request("GET", "/api/info").json()["actions"] is False
    assert (folder / name).exists()


def test_score_a_photo_returns_the_json_and_the_annotated_photo(site: Site) -> None:
    data = ASTRONAUT.read_bytes()
    before = folder_state(site.folder)
    reply = site.request("POST", "/api/score", body=data, headers={"Content-Type": "image/jpeg"})
    assert reply.status == 200
    result = reply.json()
    assert result["group"]["faces"] == 1 and len(result["faces"]) == 1
    assert 0.0 <= result["group"]["score"] <= 1.0
    original = decode_image(data).image
    prefix = "data:image/jpeg;base64,"
    assert result["annotated"].startswith(prefix)
    annotated = decode_image(base64.b64decode(result["annotated"][len(prefix) :])).image
    assert annotated is not None and original is not None
    assert annotated.shape == original.shape
    assert np.abs(annotated.astype(int) - original.astype(int)).mean() > 0.5  # boxes drawn
    assert folder_state(site.folder) == before  # nothing kept


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"not a photo at all", 415, "not a photo: not a readable image"),
        (b"", 415, "no photo"),
        (b"\xff\xd8\xff" + b"\0" * (13 * 1024 * 1024), 413, "at most 12,582,912"),
    ],
)
def test_bad_uploads_get_a_clear_error(site: Site, body: bytes, status: int, words: str) -> None:
    before = folder_state(site.folder)
    reply = site.request("POST", "/api/score", body=body)
    assert reply.status == status
    assert words in reply.json()["error"]
    assert folder_state(site.folder) == before


def test_protected_viewing_needs_the_token_or_its_cookie(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    name = save_photos(folder, 1)[0]
    for site in serve(web_config(folder, protect_viewing=True), TOKEN):
        assert site.request("GET", "/").status == 200  # the page itself, to enter the token
        for path in ("/api/photos", f"/photos/{name}", f"/photos/{name}/thumb"):
            assert site.request("GET", path).status == 401
        assert (
            site.request("POST", "/api/session", headers={"X-Smilebooth-Token": "no"}).status == 401
        )
        login = site.request("POST", "/api/session", headers=AUTH)
        cookie = login.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        assert TOKEN not in cookie
        value = cookie.split(";")[0]
        reply = site.request("GET", f"/photos/{name}", headers={"Cookie": value})
        assert reply.status == 200
        forged = {"Cookie": "smilebooth_view=" + "0" * 64}
        assert site.request("GET", "/api/photos", headers=forged).status == 401


def test_token_comes_from_a_file_and_never_from_config_yaml(tmp_path: Path) -> None:
    from edge.config import ConfigError, load_config

    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    folder = tmp_path / "captures"
    name = save_photos(folder, 1)[0]
    config = web_config(folder, token_file=str(token_file))
    for site in serve(config, token=None):
        reply = site.request("POST", f"/api/photos/{name}/delete", headers=AUTH)
        assert reply.status == 200
    bad = tmp_path / "config.yaml"
    bad.write_text("web:\n  token: abc\n")
    with pytest.raises(ConfigError, match=r"web\.token"):
        load_config(bad)
