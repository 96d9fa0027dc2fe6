"""Open-eye counting on the real blink video, around the shipped detector's eye keypoints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from convert.detection_eval import video_frames
from edge.eyes import EyeDetector
from edge.face_detector import FaceDetector
from edge.pipeline_config import DetectorConfig
from edge.types import Box, Face, Keypoints
from tests.paths import FACE_MODEL, MEDIA, ROOT, require

# Frames of blink_portrait.mp4 found by watching the per-frame counts: eyes open at
# 0-9 and 20-35, closed in the blinks at 10-12, 40-42 and 82-84.
OPEN_FRAMES = (3, 25, 60)
CLOSED_FRAMES = (11, 41, 83)


@pytest.fixture(scope="module")
def frames_and_faces():
    frames = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"))[:120]
    detector = FaceDetector(DetectorConfig(model=str(require(FACE_MODEL))), root=ROOT)
    return frames, [detector.detect(frame)[0] for frame in frames]


def count(frames_and_faces, index: int) -> int:
    frames, faces = frames_and_faces
    gray = cv2.cvtColor(frames[index], cv2.COLOR_BGR2GRAY)
    return EyeDetector().count_open_eyes(gray, faces[index])


@pytest.mark.parametrize("index", OPEN_FRAMES)
def test_open_eyes_are_counted(frames_and_faces, index: int) -> None:
    assert count(frames_and_faces, index) == 2


@pytest.mark.parametrize("index", CLOSED_FRAMES)
def test_closed_eyes_are_not(frames_and_faces, index: int) -> None:
    assert count(frames_and_faces, index) == 0


def test_blinks_show_as_short_dips(frames_and_faces) -> None:
    frames, faces = frames_and_faces
    eyes = EyeDetector()
    counts = np.array(
        [
            eyes.count_open_eyes(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), face)
            for f, face in zip(frames, faces, strict=True)
        ]
    )
    assert (counts == 2).mean() > 0.8
    closed = counts == 0
    starts = np.flatnonzero(closed[1:] & ~closed[:-1])
    assert len(starts) >= 3  # three separate blinks in the first 120 frames


def test_faces_without_keypoints_or_outside_the_frame() -> None:
    gray = np.zeros((100, 100), np.uint8)
    eyes = EyeDetector()
    assert eyes.count_open_eyes(gray, Face(Box(0, 0, 50, 50), 0.9)) == 0
    far = Keypoints((500, 500), (520, 500), (510, 510), (510, 520), (490, 505), (530, 505))
    assert eyes.count_open_eyes(gray, Face(Box(480, 480, 540, 540), 0.9, far)) == 0
