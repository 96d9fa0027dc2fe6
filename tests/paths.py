"""Where the shared data and the shipped models are, for every test module."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FERPLUS = SHARED / "datasets" / "ferplus"
MEDIA = SHARED / "media"
MODELS = ROOT / "models"
SMILE_MODEL = MODELS / "smile_int8.tflite"
FACE_MODEL = MODELS / "yunet_int8.tflite"


def require(path: Path) -> Path:
    """Skip (with the reason) when shared data is not beside the checkout."""
    if not path.exists():
        pytest.skip(f"{path} is not present (../shared must sit beside the checkout)")
    return path


def sample_replay_config(folder: Path, fps: float, repeat: int, extra: str = "") -> Path:
    """A config that replays the bundled sample photo as a camera at `fps`, `repeat` frames,
    with photos kept under `folder` (plus any extra YAML sections)."""
    frames = folder / "frames"
    frames.mkdir()
    (frames / "a.jpg").write_bytes((ROOT / "samples" / "astronaut.jpg").read_bytes())
    config = folder / "config.yaml"
    config.write_text(
        f"source: {{type: images, folder: {frames}, fps: {fps}, repeat: {repeat}}}\n"
        f"capture: {{folder: {folder / 'photos'}}}\n{extra}"
    )
    return config
