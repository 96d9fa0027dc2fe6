"""The frame loop on real video: capture of the scored frame, a full disk, bad frames, a lost
camera, SIGTERM in the middle of a photo, and (with the shipped models) the whole app."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.compose import build_loop
from edge.config import AppConfig, config_digest
from edge.config.decide import TrackingConfig, TriggerConfig
from edge.config.output import CaptureConfig, StatusConfig
from edge.config.source import SourceConfig
from edge.io import capture, events
from edge.io.counters import COUNTERS_FILE
from edge.io.sources.fake_picamera2 import FakePicamera2
from edge.io.sources.images_source import ImageFolderSource
from edge.io.sources.opencv_source import OpenCVSource
from edge.io.sources.picamera2_source import Picamera2Source
from tests._loop_helpers import (
    BOX_A,
    BOX_B,
    CROWD,
    STAGE,
    ScriptedProcessor,
    require_models,
    smiling_between,
    video,
    write_frames,
)
from tests.paths import ROOT

TRIGGER = TriggerConfig(
    threshold=0.7,
    rearm_threshold=0.5,
    hold_s=0.5,
    min_faces=2,
    burst_s=0.3,
    cooldown_s=2.0,
    closed_eyes_patience_s=0.0,  # closed eyes hold for as long as they read closed
)


def loop_config(folder: Path, trigger: TriggerConfig = TRIGGER, **sections) -> AppConfig:
    """The app config of these tests: photos in `folder`, a status line every 0.5 s."""
    return AppConfig(
        trigger=trigger,
        capture=CaptureConfig(folder=str(folder)),
        status=StatusConfig(interval_s=0.5),
        **sections,
    )


def build(source, processor, folder: Path, trigger: TriggerConfig = TRIGGER, **extra):
    """The loop as `smilebooth run` wires it, on this source and scripted pipeline."""
    sections = {k: extra.pop(k) for k in ("source_config", "tracking") if k in extra}
    if "source_config" in sections:
        sections["source"] = sections.pop("source_config")
    config = loop_config(folder, trigger, **sections)
    loop = build_loop(config, source=source, pipeline=processor, **extra)
    return loop, loop.parts.bus.subscribe(maxsize=10_000)


def drain(subscription) -> list[events.Event]:
    got = []
    while (event := subscription.get(timeout=0)) is not None:
        got.append(event)
    return got


def kinds(got: list[events.Event], kind: str) -> list[dict]:
    """The JSON form (what MQTT sends) of every event of one kind."""
    return [e.payload.as_json() for e in got if e.kind == kind]


def video_frame(path: Path, index: int) -> np.ndarray:
    reader = cv2.VideoCapture(str(path))
    reader.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = reader.read()
    reader.release()
    assert ok
    return image


def test_replayed_video_fires_once_and_saves_the_best_scored_frame(tmp_path: Path) -> None:
    path = video(STAGE)
    smile = smiling_between(60, 200)

    def script(n: int):  # smiling 2..6.7 s; every 7th frame a little broader smile
        faces = smile(n)
        return [(box, 0.99 if 60 <= n < 200 and n % 7 == 3 else w, e) for box, w, e in faces]

    processor = ScriptedProcessor(script)
    source = OpenCVSource(SourceConfig(device=str(path), width=320))
    loop, received = build(source, processor, tmp_path / "photos")
    assert loop.run() == 0
    got = drain(received)
    assert processor.calls == 275 and len(kinds(got, events.SCORE)) == 275
    photos = sorted((tmp_path / "photos").glob("*.jpg"))
    assert len(photos) == 1  # one long smile, one photo (cooldown + hysteresis)
    sidecar = json.loads(photos[0].with_suffix(".json").read_text())
    index = sidecar["frame_index"]
    assert 60 < index < 100 and index % 7 == 3  # the best frame of the burst
    assert sidecar["reason"] == "score"
    assert sidecar["config_digest"] == config_digest(loop_config(tmp_path / "photos"))
    assert sidecar["faces"][0]["box"] == [200.0, 160.0, 360.0, 320.0]  # BOX_A, lores -> full
    saved = cv2.imread(str(photos[0]))
    assert saved.shape == (360, 640, 3)  # full resolution, not the 320-wide model frame
    assert np.abs(saved.astype(int) - video_frame(path, index).astype(int)).mean() < 4
    assert kinds(got, events.CAPTURE)[0]["file"] == photos[0].name
    assert kinds(got, events.COUNT) == [{"photos": 1}]  # HA's photo counter
    assert kinds(got, events.STATE)[0]["armed"] is True
    assert processor.shapes[0] == (180, 320, 3)
    # Each frame's full-size image reaches the pipeline (small faces' eyes are read there).
    details = processor.details
    assert all(d is not None and d.scale == (2.0, 2.0) for d in details)
    assert set(processor.detail_shapes) == {(360, 640, 3)}  # there during each step


def test_a_full_disk_is_reported_and_scoring_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(descriptor: int, data) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(capture.os, "write", no_space)

    def script(n: int):  # smiles of 2 s, neutral 1 s: several shots wanted
        return smiling_between(0, 60)(n % 90)

    processor = ScriptedProcessor(script)
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    loop, received = build(source, processor, tmp_path / "photos")
    assert loop.run() == 0
    got = drain(received)
    assert processor.calls == 275 and len(kinds(got, events.SCORE)) == 275
    assert loop.counters.capture_failures >= 2 and loop.counters.captures == 0
    assert all("disk full" in e["message"] for e in kinds(got, events.ERROR))
    assert len(kinds(got, events.ERROR)) == loop.counters.capture_failures
    assert list((tmp_path / "photos").iterdir()) == []


def test_bad_frames_are_skipped_and_counted(tmp_path: Path) -> None:
    write_frames(STAGE, tmp_path / "in", 12, step=20)
    (tmp_path / "in" / "frame_0005.jpg").write_bytes(b"")
    source = ImageFolderSource(SourceConfig(type="images", folder=str(tmp_path / "in")))
    processor = ScriptedProcessor(smiling_between(0, 0), fail_on=frozenset({2, 7}))
    loop, received = build(source, processor, tmp_path / "photos")
    assert loop.run() == 0
    assert processor.calls == 11  # 12 files, one unreadable
    assert loop.counters.frames == 9 and loop.counters.bad_frames == 2
    assert source.bad_frames == 1
    assert len(kinds(drain(received), events.SCORE)) == 9


def test_a_lost_camera_is_reopened_with_backoff(tmp_path: Path) -> None:
    camera_file = tmp_path / "camera.mp4"
    shutil.copy(video(STAGE), camera_file)
    unplugged = tmp_path / "unplugged.mp4"
    cameras: list[FakePicamera2] = []

    def factory() -> FakePicamera2:
        # The first camera dies after 20 frames; while "unplugged", opening fails.
        cameras.append(FakePicamera2(camera_file, fail_after=20 if not cameras else None))
        return cameras[-1]

    waits: list[float] = []

    def wait(seconds: float) -> bool:  # the injected sleep: unplug, then plug back in
        waits.append(seconds)
        if len(waits) == 1:
            camera_file.rename(unplugged)
        if len(waits) == 3:
            unplugged.rename(camera_file)
        return loop.stop.is_set()

    config = SourceConfig(type="picamera2", main_size=(640, 360), lores_size=(320, 180))
    source = Picamera2Source(config, camera_factory=factory)
    processor = ScriptedProcessor(smiling_between(0, 0))

    def stop_after_30() -> None:
        if processor.calls >= 30:
            loop.stop.set()

    reopen = SourceConfig(reopen_initial_s=0.1, reopen_max_s=0.3)
    loop, received = build(
        source,
        processor,
        tmp_path / "photos",
        source_config=reopen,
        wait=wait,
        on_frame=stop_after_30,
    )
    assert loop.run() == 0
    assert waits == [0.1, 0.2, 0.3]  # doubling, capped at the longest wait
    assert loop.counters.reopens == 1 and processor.calls == 30
    errors = [e["message"] for e in kinds(drain(received), events.ERROR)]
    assert errors[0].startswith("camera lost: picamera2: Camera frontend has timed out")
    assert [m.startswith("reopen failed") for m in errors[1:]] == [True, True]
    assert all(c.closed for c in cameras)


def test_sigterm_during_a_capture_finishes_it_and_exits_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests._loop_helpers", str(video(CROWD)), str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.startswith("writing"), line + (child.stderr.read() if child.stderr else "")
    child.send_signal(signal.SIGTERM)  # the sidecar is on disk, the photo is being written
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert "SIGTERM" in err
    frames = int(out.strip().splitlines()[-1].split()[1])
    assert frames < 105  # stopped early, not at the end of the video
    photos = sorted(folder.glob("*.jpg"))
    assert photos and photos[0].name in line
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert leftovers in ([], [COUNTERS_FILE])  # no temporary file
    assert {p.stem for p in folder.glob("*.json")} == {p.stem for p in photos}
    for photo in photos:
        image = cv2.imread(str(photo))
        assert image is not None and image.shape == (1080, 1920, 3)


def test_smilebooth_run_with_the_shipped_models(tmp_path: Path) -> None:
    require_models()
    # ./config.yaml (picked up from the working directory) lowers the re-arm threshold, so
    # --threshold 0.05 passes the same check as the file's value would; the stage's crowd
    # is not all smiling, so the group score alone (rule: score) decides here.
    (tmp_path / "config.yaml").write_text("trigger: {rearm_threshold: 0.02, rule: score}\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge",
            "run",
            "--source",
            str(video(STAGE)),
            "--captures",
            str(tmp_path / "photos"),
            "--threshold",
            "0.05",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "loop ended" in result.stderr
    photos = sorted((tmp_path / "photos").glob("*.jpg"))
    assert photos, result.stderr
    sidecar = json.loads(photos[0].with_suffix(".json").read_text())
    assert sidecar["faces"] and len(sidecar["config_digest"]) == 64
    assert set(sidecar["model_sha256"]) >= {"smile", "face_detector"}
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("end of the input: 275 frames, best group score 0.")
    assert f"{len(photos)} photo(s) in {tmp_path / 'photos'}" in summary


def run_stage(folder: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge", "run", "-q", "--source", str(video(STAGE)), *flags],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_replay_without_a_photo_says_why_in_one_line(tmp_path: Path) -> None:
    """The README's `run --source stage_360p.mp4 --threshold 0.6`: it ended with exit 0, no
    photo and not a word why. The line names what held the shutter back, even under -q."""
    require_models()
    photos = tmp_path / "photos"
    short = run_stage(tmp_path, "--threshold", "0.6", "--captures", str(photos))
    assert short.returncode == 0, short.stderr
    assert not list(photos.glob("*.jpg"))
    line = short.stdout.strip()
    assert line.startswith("end of the input: 275 frames, best group score 0.")
    # The rule's reason first (a crowd not all smiling), then the hold it did reach.
    assert "(threshold 0.60), 0 photo(s): at the threshold, but not everyone was smiling" in line
    assert line.endswith("trigger.hold_s asks 0.8 s")
    held = float(line.split("; held ")[1].split(" s at most")[0])
    assert 0 < held < 0.8
    high = run_stage(tmp_path, "--threshold", "0.99", "--captures", str(photos))
    assert high.stdout.strip().endswith("0 photo(s): the group score never reached the threshold")


def test_operator_controls_disarm_and_manual_trigger(tmp_path: Path) -> None:
    processor = ScriptedProcessor(smiling_between(0, 300))  # smiling the whole time
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))

    def operator() -> None:  # what MQTT commands do, from the loop's point of view
        if processor.calls == 1:
            loop.parts.controls.disarm()
        if processor.calls == 100:
            loop.parts.controls.request_trigger()

    loop, received = build(source, processor, tmp_path / "photos", on_frame=operator)
    assert loop.run() == 0
    got = drain(received)
    states = kinds(got, events.STATE)
    assert [s["armed"] for s in states][:2] == [True, False]
    photos = sorted((tmp_path / "photos").glob("*.jpg"))
    assert len(photos) == 1  # disarmed: only the manual shot, though everyone smiled
    sidecar = json.loads(photos[0].with_suffix(".json").read_text())
    assert sidecar["reason"] == "manual" and sidecar["frame_index"] >= 100


def test_the_replay_summary_names_too_few_faces_and_closed_eyes(tmp_path: Path) -> None:
    from edge.cli.run import replay_summary

    class OneClosed(ScriptedProcessor):
        """Both smile throughout; the first face's eyes are read, closed."""

        def process(self, frame_bgr, detail=None):
            result = super().process(frame_bgr, detail)
            closed = dataclasses.replace(result.faces[0], eyes_open=0, eye_open_probability=(0, 0))
            return dataclasses.replace(result, faces=(closed, *result.faces[1:]))

    def summary(trigger: TriggerConfig, processor: ScriptedProcessor) -> str:
        source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
        loop, _ = build(source, processor, tmp_path / "photos", trigger)
        assert loop.run() == 0
        return replay_summary(loop, str(tmp_path / "photos"))

    smiling = smiling_between(0, 275)
    crowd = dataclasses.replace(TRIGGER, min_faces=3)
    fewer = summary(crowd, ScriptedProcessor(smiling))
    assert "0 photo(s): at the threshold, but fewer faces than trigger.min_faces" in fewer
    lenient = dataclasses.replace(TRIGGER, threshold=0.3, rearm_threshold=0.2)
    closed = summary(lenient, OneClosed(smiling))
    assert "0 photo(s): at the threshold, but some face's eyes read closed" in closed
    assert "(trigger.block_on_closed_eyes)" in closed


class ClosedEyesProcessor(ScriptedProcessor):
    """Two smiling faces; the second's eyes read closed, and the detector misses that face
    on every other frame (a missed face keeps counting in the group)."""

    def process(self, frame_bgr: np.ndarray, detail=None):  # type: ignore[no-untyped-def]
        import dataclasses

        result = super().process(frame_bgr, detail)
        faces = [dataclasses.replace(f, eye_open_probability=(0.97, 0.96)) for f in result.faces]
        faces[1] = dataclasses.replace(faces[1], eyes_open=0, eye_open_probability=(0.1, 0.05))
        if self.calls % 2 == 0:
            faces = faces[:1]
        return dataclasses.replace(result, faces=tuple(faces))


def test_a_face_with_closed_eyes_holds_the_shutter_even_when_missed_for_a_frame(
    tmp_path: Path,
) -> None:
    processor = ClosedEyesProcessor(smiling_between(0, 275))
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    loop, received = build(source, processor, tmp_path / "photos")
    assert loop.run() == 0
    states = kinds(drain(received), events.STATE)
    assert loop.counters.captures == 0
    assert any(s["reason"] == "eyes_closed" and s["held_by"] == 2 for s in states)


class ClosedWhile(ScriptedProcessor):
    """Two smiling faces; the second's eyes read closed on the calls `closed(n)` says."""

    def __init__(self, closed) -> None:  # type: ignore[no-untyped-def]
        super().__init__(smiling_between(0, 275))
        self.closed = closed

    def process(self, frame_bgr: np.ndarray, detail=None):  # type: ignore[no-untyped-def]
        result = super().process(frame_bgr, detail)
        faces = [dataclasses.replace(f, eye_open_probability=(0.97, 0.96)) for f in result.faces]
        if self.closed(self.calls - 1):
            faces[1] = dataclasses.replace(faces[1], eyes_open=0, eye_open_probability=(0.1, 0.1))
        return dataclasses.replace(result, faces=tuple(faces))


def test_eyes_closed_past_the_patience_no_longer_hold_the_shutter(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Sunglasses read as closed eyes on every frame: the group waits 2 s, then the photo
    is taken (the stage video runs at 29.97 frames a second)."""
    patient = dataclasses.replace(TRIGGER, closed_eyes_patience_s=2.0)
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    loop, _ = build(source, ClosedWhile(lambda n: True), tmp_path / "photos", patient)
    with caplog.at_level("INFO", logger="edge.loop"):
        assert loop.run() == 0
    photos = sorted((tmp_path / "photos").glob("*.json"))
    assert loop.counters.captures >= 1
    first = json.loads(photos[0].read_text())
    # the hold ran meanwhile (closed eyes only stop the fire): the photo follows the patience
    assert 2.0 <= first["frame_index"] / 29.97 < 2.0 + TRIGGER.hold_s
    assert "eyes read closed for 2 s: no longer holding the shutter" in caplog.text


def test_blinks_never_use_up_the_patience_and_the_photo_has_open_eyes(tmp_path: Path) -> None:
    """Closed 1.5 s, open 0.5 s, over and over: each closed spell is under the 2 s
    patience, so the shutter waits for the open frames, and the photo is one of them."""
    patient = dataclasses.replace(TRIGGER, closed_eyes_patience_s=2.0)
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    processor = ClosedWhile(lambda n: n % 60 < 45)
    loop, _ = build(source, processor, tmp_path / "photos", patient)
    assert loop.run() == 0
    photos = sorted((tmp_path / "photos").glob("*.json"))
    assert photos, "the open spells are long enough for the hold and the burst"
    for sidecar in photos:
        index = json.loads(sidecar.read_text())["frame_index"]
        assert index % 60 >= 45, f"frame {index} has the second face's eyes closed"


def test_the_state_names_the_face_it_waits_on_without_flooding(tmp_path: Path) -> None:
    """Two faces take turns not smiling every frame: the state says which one holds the
    shutter, but a reason that flickers goes out at most once per state_min_interval_s."""

    def script(n: int):
        return [(BOX_A, 0.1 if n % 2 else 0.95, 2), (BOX_B, 0.95 if n % 2 else 0.1, 2)]

    ticks = iter(range(10_000))
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    loop, received = build(
        source,
        ScriptedProcessor(script),
        tmp_path / "photos",
        tracking=TrackingConfig(smoothing=1.0),
        clock=lambda: next(ticks) * 0.1,  # the wall clock: 0.1 s a call
    )
    assert loop.run() == 0
    states = kinds(drain(received), events.STATE)
    assert loop.counters.captures == 0
    assert {s["reason"] for s in states} == {"not_smiling"}
    assert {s["held_by"] for s in states} == {1, 2}
    assert {s["message"] for s in states} == {"Not everyone is smiling yet."}
    assert 2 <= len(states) <= 275 * 0.1 / 1.0 + 2  # 275 frames of 0.1 s: one a second
