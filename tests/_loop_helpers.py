"""Shared helpers for the live-loop tests: real media, and FrameResults built from values.

The scripted processor is not a mock of the models: it is a FrameProcessor (the loop's own
interface) whose answers the test states, so tracking, trigger and capture are tested on
known scores while the frames, files and threads are real.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from edge.config.decide import ScoringConfig
from edge.decide.scoring import group_from_values
from edge.io.video import video_frames
from edge.types import Box, Detail, Face, FaceScore, FrameResult, SmileResult
from tests.paths import FACE_MODEL, MEDIA, SMILE_MODEL, require

VIDEO = MEDIA / "video"
STAGE = VIDEO / "stage_360p.mp4"  # 640x360, 275 frames
CROWD = VIDEO / "crowd_1080p.mp4"  # 1920x1080, 105 frames

# (box, smile_weight, eyes_open) per face
FaceSpec = tuple[Box, float, int]


def video(path: Path) -> Path:
    return require(path)


def require_models() -> None:
    """Skip end-to-end tests until both int8 models and their cards are in models/."""
    import pytest

    for model in (FACE_MODEL, SMILE_MODEL):
        if not model.exists() or not model.with_suffix(".card.json").exists():
            pytest.skip(f"{model.name} (+ card) not in models/: `smilebooth convert` makes it")


def face_score(box: Box, smile_weight: float, eyes_open: int) -> FaceScore:
    smile = SmileResult(
        emotions={"happiness": smile_weight, "neutral": 1.0 - smile_weight},
        intensity={"none": 1.0 - smile_weight, "huge": smile_weight},
        smile_probability=smile_weight,
        valence=smile_weight,
    )
    return FaceScore(Face(box, 0.9), smile, eyes_open, smile_weight, smile_weight >= 0.5)


def frame_result(faces: Sequence[FaceSpec], width: int = 640, height: int = 360) -> FrameResult:
    scores = tuple(face_score(*spec) for spec in faces)
    group = group_from_values(
        [s.smile_weight for s in scores], [s.eyes_open for s in scores], ScoringConfig()
    )
    return FrameResult(scores, group, width, height, {"detect": 1.0, "smile": 0.5, "score": 0.1})


BOX_A = Box(100, 80, 180, 160)
BOX_B = Box(400, 90, 470, 160)


class ScriptedProcessor:
    """A FrameProcessor whose n-th call returns script(n); `fail_on` calls raise."""

    def __init__(
        self, script: Callable[[int], Sequence[FaceSpec]], fail_on: frozenset[int] = frozenset()
    ) -> None:
        self.script = script
        self.fail_on = fail_on
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []
        self.details: list[Detail | None] = []
        self.detail_shapes: list[tuple[int, ...] | None] = []  # fetched during the step

    def process(self, frame_bgr: np.ndarray, detail: Detail | None = None) -> FrameResult:
        n = self.calls
        self.calls += 1
        self.shapes.append(frame_bgr.shape)
        self.details.append(detail)
        image = None if detail is None else detail.fetch()
        self.detail_shapes.append(None if image is None else image.shape)
        if n in self.fail_on:
            raise ValueError(f"cannot process frame {n}")
        height, width = frame_bgr.shape[:2]
        return frame_result(self.script(n), width, height)


def smiling_between(start: int, end: int, smile: float = 0.95) -> Callable[[int], list[FaceSpec]]:
    """Two faces; both smile (eyes open) on calls start..end-1, neutral otherwise."""

    def script(n: int) -> list[FaceSpec]:
        weight = smile if start <= n < end else 0.2
        return [(BOX_A, weight, 2), (BOX_B, weight, 2)]

    return script


def write_frames(path: Path, folder: Path, count: int, step: int = 1) -> list[Path]:
    """Every `step`-th frame of a real video as numbered JPEGs (an image-folder source)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for _, image in video_frames(video(path), step):
        if len(written) == count:
            break
        target = folder / f"frame_{len(written):04d}.jpg"
        cv2.imwrite(str(target), image)
        written.append(target)
    return written


def sigterm_child(video_path: str, folder: str) -> int:
    """A loop that captures every other frame, slowly: the parent SIGTERMs it mid-photo.

    The only change from `smilebooth run` is a pause inside the photo write (after the
    sidecar is on disk, before the photo is), so the signal lands inside a capture.
    """
    import logging
    import threading
    import time

    from edge.compose import build_loop
    from edge.config import AppConfig
    from edge.config.decide import TrackingConfig, TriggerConfig
    from edge.config.source import SourceConfig
    from edge.io import capture
    from edge.io.signals import install_signal_handlers

    logging.basicConfig(level=logging.INFO)
    real_write = capture.write_atomically

    def slow_write(path: Path, data: bytes) -> None:
        if path.suffix == ".jpg":
            print("writing", path.name, flush=True)
            time.sleep(0.5)
        real_write(path, data)

    capture.write_atomically = slow_write
    config = AppConfig(
        source=SourceConfig(device=video_path, width=480),
        tracking=TrackingConfig(smoothing=1.0),
        trigger=TriggerConfig(hold_s=0, burst_s=0, cooldown_s=0, min_faces=1),
        capture=capture.CaptureConfig(folder=folder),
    )
    stop = threading.Event()
    scripted = ScriptedProcessor(lambda n: [(BOX_A, 0.95 if n % 2 else 0.1, 2)])
    loop = build_loop(config, pipeline=scripted, stop=stop)
    install_signal_handlers(stop)
    code = loop.run()
    print("stopped", loop.counters.frames, flush=True)
    return code


if __name__ == "__main__":
    import sys

    raise SystemExit(sigterm_child(sys.argv[1], sys.argv[2]))
