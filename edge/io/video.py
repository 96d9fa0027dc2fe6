"""Frames of a video file, one at a time: the one reader for the tools that cut crops,
calibrate or evaluate on recorded video (the live loop reads through its sources)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np


def video_frames(path: Path, every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """(index, BGR frame) of every `every`-th frame; ValueError when the file will not open."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"{path}: cannot be opened as a video")
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            if index % every == 0:
                yield index, frame
            index += 1
    finally:
        capture.release()
