"""eyes.mesh_every: the live loop keeps a face's mesh reading while the CNN reads the face
the same way, and looks again at once when it does not."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from edge.config import AppConfig
from edge.perception.mesh_memory import MeshMemory
from edge.perception.pipeline import build_pipeline
from edge.perception.screened_eyes import ScreenedEyeReader
from edge.types import Box, MeshResult
from evaluate.eyes_real import GROUP_PHOTO
from tests.paths import require

BOX = Box(100, 100, 160, 170)


def reading(eyes_open: int) -> tuple[int, tuple[float, float], MeshResult]:
    mesh = MeshResult(np.full((478, 2), 130.0, np.float32), 0.99, np.zeros(52, np.float32))
    return eyes_open, (0.9, 0.9), mesh


def test_a_reading_stands_while_the_cnn_agrees_for_up_to_every_frames() -> None:
    memory = MeshMemory(every=3)
    memory.remember(BOX, 1, reading(2))
    moved = Box(104, 100, 164, 170)  # the face moved 4 px right
    memory.next_frame()
    kept = memory.recall(moved, 1)
    assert kept is not None and kept[0] == 2
    assert kept[2] is not None and np.allclose(kept[2].points[0], (134.0, 130.0))
    memory.next_frame()
    assert memory.recall(moved, 1) is not None
    memory.next_frame()  # three frames old: forgotten
    assert memory.recall(moved, 1) is None
    assert memory.reused == 2


def test_a_change_in_the_cnn_a_closed_reading_or_another_face_is_read_again() -> None:
    memory = MeshMemory(every=5)
    memory.remember(BOX, 1, reading(2))
    memory.next_frame()
    assert memory.recall(BOX, 0) is None  # the CNN now reads both eyes closed: a blink?
    assert memory.recall(Box(300, 100, 360, 170), 1) is None  # someone else
    memory.remember(BOX, 0, reading(0))  # replaces the face's reading
    memory.next_frame()
    assert memory.recall(BOX, 0) is None  # closed is never kept: looked at every frame


def test_the_live_loop_reads_the_six_people_with_a_fraction_of_the_meshes() -> None:
    image = cv2.imread(str(require(GROUP_PHOTO)))
    counts = {}
    for every in (1, 5):
        defaults = AppConfig()
        eyes_config = dataclasses.replace(defaults.eyes, mesh_every=every)
        config = dataclasses.replace(defaults, eyes=eyes_config)
        live = build_pipeline(config, live=True)
        eyes = [[f.eyes_open for f in live.process(image).faces] for _ in range(20)]
        assert eyes == [[2] * 6] * 20
        reader = live.parts.eyes
        assert isinstance(reader, ScreenedEyeReader)
        counts[every] = reader.mesh_reads
    assert 0 < counts[5] <= counts[1] / 3


def test_photos_never_use_the_memory() -> None:
    config = AppConfig()
    config = dataclasses.replace(config, eyes=dataclasses.replace(config.eyes, mesh_every=5))
    photo = build_pipeline(config)
    assert isinstance(photo.parts.eyes, ScreenedEyeReader) and photo.parts.eyes.memory is None
