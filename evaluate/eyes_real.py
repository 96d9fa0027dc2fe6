"""The eye model on real footage, through the device's own detector and crop rule.

numpy/OpenCV only (no TensorFlow), so the tests and `convert eyes` measure the same thing:
blink_portrait.mp4 against its hand labels, and the six-person faces-dlib photo.
A frame is predicted closed when its face's eyes_open is 0 (both eyes at or below
eyes.open_threshold); a blink is caught when any frame of a labelled closed run is.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.config.perception import DetectorConfig
from edge.io.video import video_frames
from edge.perception.eyes import EyeReader, EyeStateModel, count_open
from edge.perception.face_detector import FaceDetector

ROOT = Path(__file__).resolve().parents[1]
BLINK_LABELS = ROOT / "tests" / "data" / "blink_portrait_labels.csv"
MEDIA = ROOT.parent / "shared" / "media"
BLINK_VIDEO = MEDIA / "video" / "blink_portrait.mp4"
GROUP_PHOTO = MEDIA / "faces-dlib" / "2008_002470.jpg"
FACE_MODEL = ROOT / "models" / "yunet_int8.tflite"


@dataclass(frozen=True)
class BlinkLabels:
    closed: np.ndarray  # bool per frame
    transition: np.ndarray  # bool per frame: half-closed or blurred, a judgement call


def read_blink_labels(path: Path = BLINK_LABELS) -> BlinkLabels:
    """The committed CSV (frame,label,transition; '#' lines are comments)."""
    with path.open() as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    frames = [int(row["frame"]) for row in rows]
    if frames != list(range(len(rows))):
        raise ValueError(f"{path}: frames must run 0, 1, 2... without gaps")
    labels = [row["label"] for row in rows]
    if bad := sorted(set(labels) - {"open", "closed"}):
        raise ValueError(f"{path}: unknown labels {bad} (expected open/closed)")
    return BlinkLabels(
        np.array([label == "closed" for label in labels]),
        np.array([row["transition"] == "1" for row in rows]),
    )


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end inclusive) of every run of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def read_video(path: Path) -> list[np.ndarray]:
    frames = [frame for _, frame in video_frames(path)]
    if not frames:
        raise ValueError(f"{path}: no frames could be decoded")
    return frames


def eye_readings(
    reader: EyeReader, detector: FaceDetector, image: np.ndarray
) -> list[tuple[float, float] | None]:
    """P(open) pairs of every detected face, left to right in the image."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    faces = sorted(detector.detect(image), key=lambda face: face.box.x1)
    return [reader.read(gray, face) for face in faces]


def blink_figures(
    eye_model: Path,
    threshold: float = 0.5,
    video: Path = BLINK_VIDEO,
    labels_path: Path = BLINK_LABELS,
    face_model: Path = FACE_MODEL,
) -> dict[str, Any]:
    """Frame accuracy and blinks caught on the blink video (one face per frame)."""
    labels = read_blink_labels(labels_path)
    reader = EyeReader(EyeStateModel(eye_model, verify=False))
    detector = FaceDetector(DetectorConfig(model=str(face_model)), root=ROOT)
    frames = read_video(video)
    if len(frames) != len(labels.closed):
        raise ValueError(f"{video}: {len(frames)} frames, {labels_path}: {len(labels.closed)}")
    predicted, probabilities = [], []
    for frame in frames:
        readings = eye_readings(reader, detector, frame)
        reading = readings[0] if readings else None
        probabilities.append(reading)
        predicted.append(count_open(reading, threshold) == 0)
    closed = np.array(predicted)
    right = closed == labels.closed
    caught = [bool(closed[a : b + 1].any()) for a, b in runs(labels.closed)]
    certain = ~labels.transition
    return {
        "frames": len(frames),
        "frame_accuracy": float(right.mean()),
        "frame_accuracy_without_transition_frames": float(right[certain].mean()),
        "blinks": len(caught),
        "blinks_caught": int(sum(caught)),
        "false_closed_frames": int((closed & ~labels.closed).sum()),
        "missed_closed_frames": int((~closed & labels.closed).sum()),
        "wrong_frames": [int(i) for i in np.flatnonzero(~right)],
        "rule": "closed = eyes_open == 0 (both eyes P(open) <= threshold)",
        "threshold": threshold,
    }


def group_photo_figures(
    eye_model: Path,
    threshold: float = 0.5,
    photo: Path = GROUP_PHOTO,
    face_model: Path = FACE_MODEL,
) -> dict[str, Any]:
    """eyes_open and P(open) of every face of the six-person photo, left to right."""
    image = cv2.imread(str(photo))
    if image is None:
        raise ValueError(f"{photo}: cannot be read as an image")
    reader = EyeReader(EyeStateModel(eye_model, verify=False))
    readings = eye_readings(
        reader, FaceDetector(DetectorConfig(model=str(face_model)), root=ROOT), image
    )
    return {
        "photo": photo.name,
        "eyes_open": [count_open(r, threshold) for r in readings],
        "eye_open_probability": [None if r is None else [round(p, 3) for p in r] for r in readings],
    }
