"""The live eye schedule: readings kept between turns, never a kept "closed", all faces read
while the trigger holds or bursts; and the live pipeline with the mesh on a still photo."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.config import AppConfig
from edge.perception.eye_schedule import EyeReading, EyeSchedule
from edge.perception.pipeline import build_pipeline
from edge.types import Box, MeshResult
from tests.paths import MEDIA, ROOT, require

BOXES = [Box(0, 0, 50, 50), Box(100, 0, 150, 50), Box(200, 0, 250, 50)]


def reader(log: list[int], eyes_open: int = 2) -> callable:  # type: ignore[valid-type]
    def read(index: int) -> EyeReading:
        log.append(index)
        return eyes_open, (0.9, 0.9), None

    return read


def test_each_face_read_every_n_frames_in_turns() -> None:
    schedule = EyeSchedule(every=3)
    per_frame = []
    for _ in range(9):
        log: list[int] = []
        schedule.eyes(BOXES, reader(log))
        per_frame.append(len(log))
    assert per_frame[0] == 3  # new faces read at once
    assert per_frame[1:] == [1] * 8  # then one of the three per frame, in turns
    assert schedule.read == 11 and schedule.kept == 16


def test_a_face_read_closed_is_read_again_next_frame() -> None:
    schedule = EyeSchedule(every=5)
    schedule.eyes(BOXES[:1], reader([], eyes_open=0))
    log: list[int] = []
    (reading,) = schedule.eyes(BOXES[:1], reader(log, eyes_open=2))
    assert log == [0] and reading[0] == 2


def test_urgent_reads_every_face_on_every_frame() -> None:
    schedule = EyeSchedule(every=10)
    schedule.eyes(BOXES, reader([]))
    schedule.urgent = True
    for _ in range(3):
        log: list[int] = []
        schedule.eyes(BOXES, reader(log))
        assert sorted(log) == [0, 1, 2]


def test_a_kept_mesh_moves_with_its_face() -> None:
    schedule = EyeSchedule(every=4)
    points = np.array([[10.0, 10.0], [40.0, 30.0]], np.float32)
    mesh = MeshResult(points, 1.0, np.zeros(52, np.float32))
    schedule.eyes([BOXES[0]], lambda i: (2, (0.9, 0.9), mesh))
    moved = Box(5, 2, 55, 52)
    ((_, _, kept),) = schedule.eyes([moved], reader([]))
    assert kept is not None
    np.testing.assert_allclose(kept.points, points + np.array([5.0, 2.0]))


def test_the_live_mesh_pipeline_keeps_twelve_open_eyes_on_the_six_person_photo() -> None:
    image = cv2.imread(str(require(MEDIA / "faces-dlib" / "2008_002470.jpg")))
    config = AppConfig()
    config = dataclasses.replace(
        config, eyes=dataclasses.replace(config.eyes, reader="mesh", every=3)
    )
    live = build_pipeline(config, live=True)
    for _ in range(8):
        faces = live.process(image).faces
        assert len(faces) == 6
        assert [f.eyes_open for f in faces] == [2] * 6
    assert live.eye_schedule is not None and live.eye_schedule.kept > 0
    assert (ROOT / "models" / "face_mesh_float16.card.json").exists()


def test_the_loop_reads_every_face_while_the_trigger_holds_or_bursts(tmp_path: Path) -> None:
    """The scripted pipeline carries a real EyeSchedule: the loop marks it urgent exactly on
    the frames after the trigger entered its hold or burst, and not before or after."""
    from edge.config.source import SourceConfig
    from edge.io.sources.opencv_source import OpenCVSource
    from tests._loop_helpers import STAGE, ScriptedProcessor, smiling_between, video
    from tests.test_loop import build

    class WithSchedule(ScriptedProcessor):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.eye_schedule = EyeSchedule(every=3)
            self.urgent: list[bool] = []

        def process(self, frame_bgr: np.ndarray, detail: Any = None) -> Any:
            self.urgent.append(self.eye_schedule.urgent)
            return super().process(frame_bgr, detail)

    processor = WithSchedule(smiling_between(60, 200))
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    loop, _ = build(source, processor, tmp_path / "photos")
    assert loop.run() == 0
    urgent = np.flatnonzero(processor.urgent)
    assert len(urgent) > 0
    assert urgent[0] > 60  # the hold starts once the smiles are there
    assert urgent[-1] < 200  # the burst ended before the smiles did (then cooldown)
    assert not any(processor.urgent[:60])
