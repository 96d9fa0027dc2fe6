"""Photos that carry their story: EXIF read back by Pillow, events and their counters.

Real loops on real video (the scores are scripted), real files, a real kill -9.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from edge.compose import build_loop
from edge.config import AppConfig, ConfigError
from edge.config.decide import TriggerConfig
from edge.config.loading import load_config
from edge.config.output import CaptureConfig
from edge.config.source import SourceConfig
from edge.io import events
from edge.io.capture import PhotoStore
from edge.io.counters import COUNTERS_FILE
from edge.io.exif import CameraInfo, software
from edge.io.sources.fake_picamera2 import FakePicamera2
from edge.io.sources.opencv_source import OpenCVSource
from edge.io.sources.picamera2_source import Picamera2Source
from tests._loop_helpers import BOX_A, STAGE, ScriptedProcessor, smiling_between, video
from tests.paths import ROOT

TRIGGER = TriggerConfig(
    threshold=0.7, rearm_threshold=0.5, hold_s=0.5, min_faces=2, burst_s=0.3, cooldown_s=2.0
)
EXIF_IFD, DATE_ORIGINAL, OFFSET_ORIGINAL, SUBSEC_ORIGINAL = 0x8769, 0x9003, 0x9011, 0x9291
MAKE, MODEL, ORIENTATION, SOFTWARE = 0x010F, 0x0110, 0x0112, 0x0131


def photo_date(path: Path) -> dt.datetime:
    """The date a photo app reads: DateTimeOriginal + SubSecTimeOriginal + its offset."""
    with Image.open(path) as image:
        exif = image.getexif().get_ifd(EXIF_IFD)
    text = f"{exif[DATE_ORIGINAL]}.{exif[SUBSEC_ORIGINAL]}{exif[OFFSET_ORIGINAL]}"
    return dt.datetime.strptime(text, "%Y:%m:%d %H:%M:%S.%f%z")


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch):
    """The device in a time zone that is not UTC (the offset must be written, not assumed)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_photo_the_loop_saved_has_exif_that_matches_its_sidecar(tmp_path: Path, new_york) -> None:
    folder = tmp_path / "photos"
    source = Picamera2Source(
        SourceConfig(type="picamera2", main_size=(640, 360), lores_size=(320, 180)),
        camera_factory=lambda: FakePicamera2(video(STAGE), fps=30),
    )
    processor = ScriptedProcessor(smiling_between(5, 200))

    def stop_after_photo() -> None:
        if processor.calls >= 60:
            loop.stop.set()

    config = AppConfig(trigger=TRIGGER, capture=CaptureConfig(folder=str(folder)))
    loop = build_loop(config, source=source, pipeline=processor, on_frame=stop_after_photo)
    assert loop.run() == 0
    (photo,) = sorted(folder.glob("*.jpg"))
    sidecar = json.loads(photo.with_suffix(".json").read_text())
    with Image.open(photo) as image:
        exif = image.getexif()
        assert image.size == (640, 360)
    taken = dt.datetime.fromisoformat(sidecar["time"])
    assert abs(photo_date(photo) - taken) < dt.timedelta(milliseconds=1)
    assert photo_date(photo).utcoffset() in (dt.timedelta(hours=-5), dt.timedelta(hours=-4))
    assert exif[MODEL] == "imx708"  # the fake camera's camera_properties["Model"]
    assert MAKE not in exif  # picamera2 does not say who made the module
    assert exif[ORIENTATION] == 1
    assert exif[SOFTWARE] == software() and exif[SOFTWARE].startswith("smilebooth ")
    # The sidecar is what it was, plus the event (none) and the photo's number in it.
    assert sidecar["reason"] == "score" and sidecar["event"] == "" and sidecar["number"] == 1


def test_a_video_file_has_no_camera_but_a_date(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    config = AppConfig(trigger=TRIGGER, capture=CaptureConfig(folder=str(folder)))
    loop = build_loop(config, source=source, pipeline=ScriptedProcessor(smiling_between(5, 60)))
    assert loop.run() == 0
    (photo,) = sorted(folder.glob("*.jpg"))
    with Image.open(photo) as image:
        exif = image.getexif()
    assert MAKE not in exif and MODEL not in exif
    taken = json.loads(photo.with_suffix(".json").read_text())["time"]
    assert abs(photo_date(photo) - dt.datetime.fromisoformat(taken)) < dt.timedelta(seconds=1e-3)


def test_an_event_keeps_its_photos_and_counts_score_button_and_page(tmp_path: Path) -> None:
    config = AppConfig(
        trigger=TRIGGER, capture=CaptureConfig(folder=str(tmp_path), event="smith-wedding")
    )
    processor = ScriptedProcessor(smiling_between(20, 60))  # one photo by score

    def presses() -> None:  # the button at frame 120, the page at frame 200
        if processor.calls == 120:
            loop.parts.controls.request_trigger("button")
        if processor.calls == 200:
            loop.parts.controls.request_trigger()

    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    loop = build_loop(config, source=source, pipeline=processor, on_frame=presses)
    received = loop.parts.bus.subscribe({events.CAPTURE}, maxsize=100)
    assert loop.run() == 0
    folder = tmp_path / "smith-wedding"
    photos = sorted(folder.glob("*.jpg"))
    reasons = [json.loads(p.with_suffix(".json").read_text())["reason"] for p in photos]
    assert reasons == ["score", "button", "manual"]
    assert list(tmp_path.glob("*.jpg")) == []  # nothing outside the event's folder
    expected = {
        "event": "smith-wedding",
        "photos": 3,
        "by_score": 1,
        "by_button": 1,
        "by_remote": 1,
        "prints": 0,
        "print_failures": 0,
    }
    assert loop.parts.store.counters.snapshot() == expected
    captures = []
    while (event := received.get(timeout=0)) is not None:
        captures.append(event.payload.as_json())
    assert [c["event"]["photos"] for c in captures] == [1, 2, 3]  # the feed carries them
    # A restart reads them back from the event's folder.
    again = PhotoStore(config.capture)
    again.open()
    assert again.counters.snapshot() == expected


def test_a_bad_event_name_is_refused_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("capture:\n  event: ../elsewhere\n")
    with pytest.raises(ConfigError, match=r"capture.*event.*'\.\./elsewhere'.*letters"):
        load_config(path)


def test_damaged_counters_are_rebuilt_from_the_photos(tmp_path: Path) -> None:
    store = PhotoStore(CaptureConfig(folder=str(tmp_path)))
    store.open()
    image = Image.new("RGB", (64, 48))
    import numpy as np

    for n, reason in enumerate(["score", "score", "button"]):
        store.save(np.asarray(image), {"reason": reason}, when=1_700_000_000 + n)
    (tmp_path / COUNTERS_FILE).write_text("{not json")
    again = PhotoStore(CaptureConfig(folder=str(tmp_path)))
    again.open()
    snapshot = again.counters.snapshot()
    assert (snapshot["photos"], snapshot["by_score"], snapshot["by_button"]) == (3, 2, 1)


def kill_child(folder: str, video_path: str) -> None:
    """A loop that takes a photo every other frame of a video, until it is killed."""
    from edge.config.decide import TrackingConfig

    config = AppConfig(
        source=SourceConfig(device=video_path, width=320),
        tracking=TrackingConfig(smoothing=1.0),
        trigger=TriggerConfig(hold_s=0, burst_s=0, cooldown_s=0, min_faces=1),
        capture=CaptureConfig(folder=folder, event="party"),
    )
    processor = ScriptedProcessor(lambda n: [(BOX_A, 0.95 if n % 2 else 0.1, 2)])
    while True:  # the video again and again: the parent kills it
        build_loop(config, pipeline=processor).run()


@pytest.mark.slow
def test_counters_survive_kill_9_and_agree_with_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "party"
    code = "import sys; from tests.test_event_photos import kill_child; kill_child(*sys.argv[1:])"
    for run, after in enumerate((1.5, 2.2, 1.1)):  # three kills at different moments
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path), str(video(STAGE))],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        before = len(list(folder.glob("*.jpg"))) if folder.exists() else 0
        while time.monotonic() < deadline:  # photos are being taken: kill mid-stream
            if folder.exists() and len(list(folder.glob("*.jpg"))) > before + 3:
                break
            time.sleep(0.05)
        time.sleep(after * (run + 1) / 10)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        store = PhotoStore(CaptureConfig(folder=str(tmp_path), event="party"))
        store.open()
        counters = store.counters.snapshot()
        photos = list(folder.glob("*.jpg"))
        assert counters["photos"] == len(photos) > before
        numbers = [
            json.loads(p.with_suffix(".json").read_text())["number"]
            for p in photos
            if p.with_suffix(".json").exists()
        ]
        assert len(numbers) == len(set(numbers))  # no number given twice
        with_sidecar = len(numbers)
        assert counters["by_score"] == with_sidecar  # every photo here was taken by score
    assert not list(folder.glob(".*.tmp"))  # the store's open() cleared any half-write


def test_a_usb_camera_is_named_by_the_kernel(tmp_path: Path) -> None:
    from edge.io.sources.opencv_source import v4l2_camera

    (tmp_path / "video2").mkdir()
    (tmp_path / "video2" / "name").write_text("HD Pro Webcam C920\n")
    assert v4l2_camera("2", tmp_path) == CameraInfo(model="HD Pro Webcam C920")
    assert v4l2_camera("/dev/video2", tmp_path) == CameraInfo(model="HD Pro Webcam C920")
    assert v4l2_camera("3", tmp_path) is None  # no such node
    assert v4l2_camera("clip.mp4", tmp_path) is None


def test_the_store_writes_the_camera_it_is_given(tmp_path: Path) -> None:
    import numpy as np

    store = PhotoStore(CaptureConfig(folder=str(tmp_path)))
    store.open()
    camera = CameraInfo(make="Arducam", model="IMX519 16MP")
    saved = store.save(np.zeros((48, 64, 3), np.uint8), {"reason": "score"}, camera=camera)
    with Image.open(saved.photo) as image:
        exif = image.getexif()
    assert (exif[MAKE], exif[MODEL]) == ("Arducam", "IMX519 16MP")
