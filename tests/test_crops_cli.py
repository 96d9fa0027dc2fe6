"""`smilebooth crops`: eye and face crops cut from real video with the device's own rule."""

from __future__ import annotations

import subprocess
import sys

import cv2

from edge.perception.crop import CROP_SIZE
from edge.perception.eye_crop import EYE_CROP_SIZE
from tests.paths import MEDIA, ROOT, require


def test_crops_from_a_video(tmp_path) -> None:
    video = require(MEDIA / "video" / "blink_portrait.mp4")
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "crops", str(video), "--out", str(tmp_path),
         "--every", "100"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    eyes = sorted((tmp_path / "eyes").iterdir())
    faces = sorted((tmp_path / "faces").iterdir())
    # frames 0, 100, 200, 300: one face each, two eyes per face
    assert faces[0].name == "blink_portrait-00000-f0.png"
    assert len(faces) == 4 and len(eyes) == 8
    assert {p.name.rsplit("-", 1)[1] for p in eyes} == {"right.png", "left.png"}
    eye = cv2.imread(str(eyes[0]), cv2.IMREAD_GRAYSCALE)
    assert eye.shape[0] == eye.shape[1] > EYE_CROP_SIZE  # native size: the face is large
    assert cv2.imread(str(faces[0]), cv2.IMREAD_GRAYSCALE).shape == (CROP_SIZE, CROP_SIZE)


def test_an_unreadable_source_is_named(tmp_path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "crops", str(bad), "--out", str(tmp_path / "o")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "broken.mp4" in result.stderr
