"""The WIDER FACE protocols behind the detector's figures: ground truth, zoom crops, recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.config.perception import DetectorConfig
from edge.perception.face_detector import FaceDetector
from edge.types import Box
from evaluate.detector_eval import group_recall, labelled_box, near_recall
from evaluate.live_detection_eval import panned
from evaluate.wider import (
    NEAR_SCALES,
    WiderFace,
    WiderImage,
    near_faces,
    read_ground_truth,
    zoom_crop,
)
from tests.paths import MEDIA, ROOT, require

WIDER = MEDIA / "wider"


def test_the_ground_truth_has_the_documented_counts() -> None:
    images = read_ground_truth(require(WIDER))
    assert len(images) == 770
    assert sum(len(i.faces) for i in images) == 6352
    assert len(near_faces(images)) == 503  # the near-face count


@pytest.mark.parametrize("fraction", NEAR_SCALES)
def test_a_zoom_crop_makes_the_face_that_fraction_of_a_4_3_frame(fraction: float) -> None:
    photo = np.zeros((400, 600, 3), np.uint8)
    face = Box(250, 150, 350, 270)  # 120 px tall, near the edge for the larger crops
    crop, box = zoom_crop(photo, face, fraction)
    height, width = crop.shape[:2]
    assert width / height == pytest.approx(4 / 3, abs=0.01)
    assert box.height / height == pytest.approx(fraction, abs=0.01)
    assert box.center == pytest.approx((width / 2, height / 2), abs=1)


def test_the_labelled_box_convention_is_yunets_nearly_unchanged() -> None:
    """YuNet was trained on WIDER: its box is the labelled one within a few per cent."""
    mapped = labelled_box(Box(0, 0, 100, 100))
    assert mapped.iou(Box(0, 0, 100, 100)) > 0.95


def test_recall_figures_on_a_slice_of_each_protocol() -> None:
    detector = FaceDetector(DetectorConfig(), root=ROOT)
    near = near_recall(detector.detect, require(WIDER), limit=20)
    assert near["faces"] == 20
    assert min(near["recall"].values()) >= 85.0
    groups = group_recall(detector.detect, WIDER, limit=10)
    assert groups["photos"] == 10
    assert groups["recall"][">=32px"] >= 60.0
    assert groups["false_detections"] <= 3


def test_the_live_evaluation_pans_the_labelled_boxes_with_the_frame() -> None:
    """A bright square labelled as a face stays under its moved box in every panned frame."""
    photo = np.zeros((600, 1000, 3), np.uint8)
    photo[250:310, 480:540] = 255
    face = WiderFace(Box(480, 250, 540, 310), blur=0, occlusion=0, pose=0, invalid=False)
    frames = list(panned(photo, WiderImage(Path("square.jpg"), "test", (face,)), frames=5))
    assert len(frames) == 5
    lefts = []
    for frame, (box,), (inside,) in frames:
        assert frame.shape[1:] == (640, 3) and abs(frame.shape[0] - 360) <= 1  # 16:9
        assert inside
        x1, y1, x2, y2 = (round(v) for v in (box.x1, box.y1, box.x2, box.y2))
        assert frame[y1 + 3 : y2 - 3, x1 + 3 : x2 - 3].min() > 200  # the square, under its box
        assert frame[:, : max(0, x1 - 3)].max() < 50 and frame[:, x2 + 3 :].max() < 50
        lefts.append(box.x1)
    assert lefts == sorted(lefts, reverse=True)  # the window moves right: the face left
