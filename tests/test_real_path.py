"""The smile model through the device's path (shipped detector -> crop rule -> shipped model)."""

from __future__ import annotations

import numpy as np

from edge.config.perception import DetectorConfig
from edge.perception.face_detector import FaceDetector
from edge.perception.smile_model import SmileModel
from edge.types import Box, Face
from tests.paths import FACE_MODEL, FERPLUS, ROOT, SMILE_MODEL, require
from training.ferplus import load_split
from training.real_path import Staging, measure, the_staged_face


def test_staging_puts_the_face_pixels_where_it_says() -> None:
    face = np.random.default_rng(1).integers(0, 255, (48, 48), dtype=np.uint8)
    frame, placed = Staging(face_px=96, frame_w=300, frame_h=200).stage(face)
    assert frame.shape == (200, 300, 3)
    assert (placed.width, placed.height) == (96, 96)
    inside = frame[int(placed.y1) : int(placed.y2), int(placed.x1) : int(placed.x2), 0]
    assert abs(float(inside.mean()) - float(face.mean())) < 2
    assert frame[0, 0, 0] == 128 and frame[-1, -1, 0] == 128


def test_only_a_detection_on_the_staged_face_counts() -> None:
    placed = Box(100, 100, 200, 200)
    elsewhere = Face(Box(0, 0, 40, 40), 0.9)
    on_face = Face(Box(110, 105, 190, 195), 0.7)
    assert the_staged_face((elsewhere, on_face), placed) is on_face
    assert the_staged_face((elsewhere,), placed) is None


def test_real_path_keeps_most_of_the_registered_accuracy() -> None:
    """On 200 real Test faces: the detector finds most staged faces, and the crop cut from its
    box scores within a few points of the registered crop of the same faces."""
    split = load_split(require(FERPLUS), "test").subset(np.arange(200))
    result = measure(
        split,
        FaceDetector(DetectorConfig(model=str(require(FACE_MODEL))), root=ROOT),
        SmileModel(require(SMILE_MODEL)),
        Staging(),
    )
    assert result["detected"] >= 0.6 * len(split)
    real, registered = result["real_path"], result["registered_crops_of_detected"]
    assert real["images"] == registered["images"] == result["detected"]
    assert real["emotion_accuracy"] >= 0.75
    assert real["smiling_accuracy"] >= 0.93
    assert real["emotion_accuracy"] >= registered["emotion_accuracy"] - 0.05
