"""The int8 YuNet file and its decoder against OpenCV's own YuNet (`cv2.FaceDetectorYN` on
the float ONNX file), face by face and point by point, on real photos; the converter's
source check and replay."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from convert.yunet_reference import float_detector
from edge.config.perception import DetectorConfig
from edge.perception.face_detector import FaceDetector
from evaluate.detection_eval import faces_dlib
from tests.paths import MEDIA, ROOT, SHARED, require

ONNX = SHARED / "models" / "yunet" / "face_detection_yunet_2026may.onnx"


@pytest.fixture(scope="module")
def pair():
    threshold = DetectorConfig.score_threshold
    # The int8 file alone: no second look, the reference has none.
    config = DetectorConfig(candidate_threshold=threshold)
    return FaceDetector(config, root=ROOT).detect, float_detector(require(ONNX), threshold)


def _photos() -> list[np.ndarray]:
    photos = [cv2.imread(str(item.path)) for item in faces_dlib(require(MEDIA))]
    return [*photos, cv2.imread(str(ROOT / "samples" / "astronaut.jpg"))]


def test_int8_finds_the_faces_opencv_finds_with_the_same_boxes_and_points(pair) -> None:
    int8, reference = pair
    matched = total = 0
    for photo in _photos():
        ours = int8(photo)
        for face in reference(photo):
            total += 1
            best = max(ours, key=lambda f: f.box.iou(face.box), default=None)
            if best is None or best.box.iou(face.box) < 0.75:
                continue
            matched += 1
            size = max(face.box.width, face.box.height)
            assert face.keypoints is not None and best.keypoints is not None
            for (x, y), (rx, ry) in zip(
                best.keypoints.as_tuple(), face.keypoints.as_tuple(), strict=True
            ):
                assert abs(x - rx) < 0.06 * size and abs(y - ry) < 0.06 * size
            assert abs(best.score - face.score) < 0.1
    assert total >= 40
    assert matched >= total - 1


def test_the_converter_refuses_any_other_file(tmp_path) -> None:
    from convert.yunet import SourceModelError, check_source, main

    other = tmp_path / "face_detection_yunet_2026may.onnx"
    other.write_bytes(require(ONNX).read_bytes()[:-1] + b"\x00")
    with pytest.raises(SourceModelError, match=r"sha256 \w+ is not that of OpenCV Zoo"):
        check_source(other)
    with pytest.raises(SourceModelError, match="no such file"):
        check_source(tmp_path / "missing.onnx")
    assert main(["--onnx", str(other), "--out-dir", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.train
def test_the_replay_equals_opencvs_run_of_the_onnx_file() -> None:
    pytest.importorskip("tensorflow", reason="the train extra is not installed")
    pytest.importorskip("onnx", reason="the train extra is not installed")
    from convert.yunet import booth_graph, check_rebuild

    detect, _ = booth_graph(require(ONNX))
    photo = cv2.imread(str(require(MEDIA / "faces-dlib" / "2008_002470.jpg")))
    assert check_rebuild(detect, require(ONNX), photo) < 1e-4


@pytest.mark.train
@pytest.mark.slow
def test_a_smoke_conversion_is_gated_carded_and_reproducible(tmp_path) -> None:
    pytest.importorskip("tensorflow", reason="the train extra is not installed")
    pytest.importorskip("onnx", reason="the train extra is not installed")
    from convert.yunet import OUTPUT_NAME, convert
    from edge.perception.model_card import load_card, sha256_of

    first = convert(require(ONNX), tmp_path / "a", require(MEDIA), smoke=True)
    second = convert(require(ONNX), tmp_path / "b", require(MEDIA), smoke=True)
    assert first.name == OUTPUT_NAME
    assert first.read_bytes() == second.read_bytes()
    card = load_card(first)
    assert card["sha256"] == sha256_of(first)
    assert set(card["recall_check"]) == {"int8", "float", "what"}
    assert (first.with_suffix(".md")).read_text().startswith("# YuNet face detector")
