"""The live loop's smile schedule: who is read on which frame, and what is kept."""

from __future__ import annotations

import argparse

import cv2

from edge.cli.bench import bench_config
from edge.perception.pipeline import build_pipeline
from edge.perception.smile_schedule import SmileSchedule
from edge.types import Box, SmileResult
from tests.paths import MEDIA, require

LEFT, RIGHT = Box(0, 0, 100, 100), Box(300, 0, 400, 100)


def reading(value: float) -> SmileResult:
    return SmileResult(emotions={}, intensity={}, smile_probability=value, valence=0.0)


class Reader:
    """Stands in for the model: a new reading each call, and the faces it was asked for."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, index: int) -> SmileResult:
        self.calls.append(index)
        return reading(len(self.calls) / 100)


def test_every_frame_reads_every_face() -> None:
    schedule, reader = SmileSchedule(every=1), Reader()
    for _ in range(3):
        schedule.smiles([LEFT, RIGHT], reader)
    assert reader.calls == [0, 1] * 3


def test_two_new_faces_are_read_at_once_then_take_turns() -> None:
    schedule, reader = SmileSchedule(every=2), Reader()
    first = schedule.smiles([LEFT, RIGHT], reader)
    assert reader.calls == [0, 1]
    calls = []
    for _ in range(4):
        reader.calls.clear()
        schedule.smiles([LEFT, RIGHT], reader)
        calls.append(list(reader.calls))
    assert calls == [[1], [0], [1], [0]]  # one reading a frame, each face every other frame
    assert schedule.read == 6 and schedule.kept == 4
    kept = schedule.smiles([LEFT, RIGHT], reader)
    assert kept[0] is not first[0]  # a kept reading is the face's latest, not its first


def test_a_face_that_moved_or_walked_in_is_read_again() -> None:
    schedule, reader = SmileSchedule(every=3), Reader()
    schedule.smiles([LEFT], reader)
    reader.calls.clear()
    moved = Box(60, 0, 160, 100)  # IoU 0.25 with where it was: not known to be the same face
    schedule.smiles([moved, RIGHT], reader)
    assert reader.calls == [0, 1]


def test_the_live_pipeline_reads_a_pair_in_turns_on_a_real_photo() -> None:
    image = cv2.imread(str(require(MEDIA / "faces-dlib" / "2008_001009.jpg")))  # two faces
    args = argparse.Namespace(config=None, width="640", threads="1", source=None)
    config = bench_config(args)
    live = build_pipeline(config, live=True)
    assert live.smiles is not None and live.smiles.every == 2
    results = [live.process(image) for _ in range(5)]
    assert all(len(r.faces) == 2 for r in results)
    assert (live.smiles.read, live.smiles.kept) == (2 + 4, 4)
    photo = build_pipeline(config)  # photos: every face read on every image
    assert photo.smiles is None
    again = photo.process(image)
    assert [f.smiling for f in again.faces] == [f.smiling for f in results[0].faces]
