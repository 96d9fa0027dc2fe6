"""Photo store: atomic photo + sidecar, oldest-first retention, a full disk reported."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.config.output import CaptureConfig
from edge.io import capture
from edge.io.capture import CaptureError, PhotoStore
from edge.io.counters import COUNTERS_FILE
from tests._loop_helpers import CROWD, video


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    """Full-HD frames of the crowd video, a second apart (different content, real sizes)."""
    reader = cv2.VideoCapture(str(video(CROWD)))
    frames = []
    for index in range(100):
        ok, image = reader.read()
        if not ok:
            break
        if index % 25 == 0:
            frames.append(image)
    reader.release()
    return frames


def store_in(folder: Path, max_mb: float = 100.0) -> PhotoStore:
    store = PhotoStore(CaptureConfig(folder=str(folder), max_mb=max_mb, jpeg_quality=90))
    store.open()
    return store


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_saves_full_resolution_jpeg_and_sidecar(tmp_path: Path, photos) -> None:
    store = store_in(tmp_path)
    saved = store.save(photos[0], {"score": 0.81, "config_digest": "abc"}, when=1_700_000_000.25)
    image = cv2.imread(str(saved.photo))
    assert image.shape == (1080, 1920, 3)
    sidecar = json.loads(saved.sidecar.read_text())
    # The event (none here) and the photo's number in it: the counters' crash repair.
    event = {"event": "", "number": 1}
    assert sidecar == {"score": 0.81, "config_digest": "abc", **event, "photo": saved.photo.name}
    assert saved.photo.stem == saved.sidecar.stem
    names = [saved.photo.name, saved.sidecar.name, COUNTERS_FILE]
    assert listing(tmp_path) == sorted(names)  # no temp files


def test_two_photos_in_the_same_millisecond_do_not_overwrite(tmp_path: Path, photos) -> None:
    store = store_in(tmp_path)
    first = store.save(photos[0], {}, when=1_700_000_000.0)
    second = store.save(photos[1], {}, when=1_700_000_000.0)
    assert first.photo != second.photo
    assert len(list(tmp_path.glob("*.jpg"))) == 2


def test_a_crash_before_the_rename_leaves_no_photo(
    tmp_path: Path, photos, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    calls = []

    def crash_on_the_photo(source, target):  # the photo lands; the sidecar's rename dies
        calls.append(target)
        if str(target).endswith(".json"):
            raise SystemExit("power cut")
        real_replace(source, target)

    monkeypatch.setattr(capture.os, "replace", crash_on_the_photo)
    store = store_in(tmp_path)
    with pytest.raises(SystemExit):
        store.save(photos[0], {"score": 0.9})
    assert len(calls) == 2
    assert listing(tmp_path) == []  # no photo, no orphan sidecar, no temp file


def test_leftover_temp_files_from_a_kill_are_cleared_on_open(tmp_path: Path) -> None:
    (tmp_path / ".20250101-000000-000.jpg.tmp").write_bytes(b"\xff\xd8 half a jpeg")
    store_in(tmp_path)
    assert listing(tmp_path) == []


def test_disk_full_is_reported_and_leaves_nothing(
    tmp_path: Path, photos, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    budget = {"bytes": 200_000}  # room for the sidecar, not for the photo

    def write(descriptor: int, data) -> int:
        if len(data) > budget["bytes"]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        budget["bytes"] -= len(data)
        return real_write(descriptor, data)

    monkeypatch.setattr(capture.os, "write", write)
    store = store_in(tmp_path)
    with pytest.raises(CaptureError, match="disk full"):
        store.save(photos[0], {"score": 0.9})
    assert listing(tmp_path) == []
    assert store.failed == 1
    monkeypatch.setattr(capture.os, "write", real_write)  # space freed: saving works again
    store.save(photos[0], {"score": 0.9})
    assert len(list(tmp_path.glob("*.jpg"))) == 1


def test_retention_deletes_oldest_photos_with_their_sidecars(tmp_path: Path, photos) -> None:
    store = store_in(tmp_path, max_mb=1.0)
    saved = [store.save(image, {"n": n}, when=1_700_000_000 + n) for n, image in enumerate(photos)]
    size = saved[0].size
    assert size > 200_000  # real full-HD photos: the 1 MB budget holds only a few
    remaining = sorted(tmp_path.glob("*.jpg"))
    total = sum(p.stat().st_size + p.with_suffix(".json").stat().st_size for p in remaining)
    assert total <= 1024 * 1024
    assert 1 <= len(remaining) < len(photos)
    kept = [s.photo for s in saved[-len(remaining) :]]
    assert remaining == sorted(kept)  # the newest survive, the oldest went first
    for photo in remaining:
        assert photo.with_suffix(".json").exists()
    assert sorted(tmp_path.glob("*.json")) == sorted(p.with_suffix(".json") for p in remaining)
