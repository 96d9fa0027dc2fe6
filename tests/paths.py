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
FACE_MODEL = MODELS / "face_detector_int8.tflite"


def require(path: Path) -> Path:
    """Skip (with the reason) when shared data is not beside the checkout."""
    if not path.exists():
        pytest.skip(f"{path} is not present (../shared must sit beside the checkout)")
    return path
