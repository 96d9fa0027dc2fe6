"""The shipped int8 face detector on real photos and video (faces-dlib, blink_portrait)."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from convert.detection_eval import faces_dlib, recall_report, video_frames
from edge.face_detector import FaceDetector, letterbox
from edge.model_card import ModelCardError, card_path
from tests.paths import FACE_MODEL, MEDIA, require


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(require(FACE_MODEL), threads=1)


def test_recall_on_faces_dlib_and_nothing_on_dogs(detector: FaceDetector) -> None:
    report = recall_report(detector.detect, require(MEDIA))
    assert report["faces"] == 43
    assert report["found"] >= 42
    assert report["extra_detections"] <= 3
    assert report["dogs_detections"] == 0


def test_the_near_face_is_found_in_every_frame_of_the_blink_video(detector) -> None:
    frames = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"))
    assert len(frames) == 334
    missed = [i for i, frame in enumerate(frames) if not detector.detect(frame)]
    assert missed == []


def test_keypoints_sit_inside_their_face(detector: FaceDetector) -> None:
    item = faces_dlib(require(MEDIA))[0]
    for face in detector.detect(cv2.imread(str(item.path))):
        b, k = face.box, face.keypoints
        assert k is not None
        for x, y in (k.right_eye, k.left_eye, k.nose_tip, k.mouth_center):
            assert b.x1 - 2 <= x <= b.x2 + 2 and b.y1 - 2 <= y <= b.y2 + 2
        assert k.right_eye[1] < k.mouth_center[1] and k.left_eye[1] < k.mouth_center[1]
        assert 0.5 <= face.score <= 1.0


def test_shipped_model_is_full_int8(detector: FaceDetector) -> None:
    interpreter = detector._interpreter
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert {d["dtype"] for d in interpreter.get_output_details()} == {np.int8}
    assert detector.card["input"]["shape"] == [1, 192, 192, 3]


def test_a_changed_model_file_is_refused(tmp_path) -> None:
    copy = tmp_path / FACE_MODEL.name
    data = bytearray(require(FACE_MODEL).read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    shutil.copy(card_path(FACE_MODEL), card_path(copy))
    with pytest.raises(ModelCardError, match="does not match its card"):
        FaceDetector(copy)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((4, 4, 3), np.uint8),
        np.zeros((240, 320, 2), np.uint8),
    ],
    ids=["empty", "tiny", "two-channel"],
)
def test_frames_that_cannot_hold_a_face_give_none(detector, frame: np.ndarray) -> None:
    assert detector.detect(frame) == ()


def test_gray_and_bgra_frames_are_accepted(detector: FaceDetector) -> None:
    image = cv2.imread(str(faces_dlib(require(MEDIA))[0].path))
    colour = len(detector.detect(image))
    assert len(detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA))) == colour
    # The detector was trained on colour: a gray frame still works, finding fewer faces.
    assert len(detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))) >= 1


def test_no_face_on_uniform_frames(detector: FaceDetector) -> None:
    found = [len(detector.detect(np.full((240, 320, 3), v, np.uint8))) for v in (0, 128, 255)]
    assert found == [0, 0, 0]


def test_letterbox_maps_back_to_frame_pixels() -> None:
    frame = np.zeros((100, 300, 3), np.uint8)
    square, box = letterbox(frame, 192)
    assert square.shape == (192, 192, 3)
    x, y = box.to_frame(np.array([0.5]), np.array([0.5]))
    assert x[0] == pytest.approx(150, abs=1) and y[0] == pytest.approx(50, abs=1)
