"""Smoke `train eyes` -> `convert eyes` on real eye crops, and a fine-tune with --init-from."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from tests.paths import ROOT, SHARED, require

pytest.importorskip("tensorflow", reason="the train extra is not installed")
pytestmark = [pytest.mark.train, pytest.mark.slow]
RUN = [sys.executable, "-m", "edge.cli"]


def smilebooth(*args: str) -> None:
    subprocess.run([*RUN, *args], cwd=ROOT, check=True, timeout=600, capture_output=True)


def test_smoke_train_convert_and_resume_from_weights(tmp_path) -> None:
    data = require(SHARED / "datasets" / "eyes")
    out = tmp_path / "eyes"
    smilebooth("train", "eyes", "--smoke", "--data", str(data), "--out", str(out))
    assert (out / "best.keras").is_file() and (out / "checkpoints").is_dir()
    metrics = json.loads((out / "metrics_float.json").read_text())
    assert set(metrics["slices"]) == {"5-10", "10-15", "15-25", "25-40"}
    assert (out / "confusion.png").stat().st_size > 1000
    assert (out / "curves.png").stat().st_size > 1000

    tuned = tmp_path / "tuned"
    smilebooth(
        "train", "eyes", "--smoke", "--data", str(data), "--out", str(tuned),
        "--init-from", str(out / "best.keras"),
    )  # fmt: skip
    with (tuned / "history.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 1

    models = tmp_path / "models"
    smilebooth(
        "convert", "eyes", "--smoke", "--eyes-keras", str(out / "best.keras"),
        "--eyes-data", str(data), "--out-dir", str(models),
    )  # fmt: skip
    tflite = models / "eyes_smoke_int8.tflite"
    card = json.loads(tflite.with_suffix(".card.json").read_text())
    assert card["input"]["dtype"] == "int8"
    assert card["outputs"]["open"]["quantization"][0] > 0

    # The card's figure is what the edge app measures on the saved file.
    from convert.eyes import predict_tflite
    from edge.perception.eyes import EyeStateModel
    from training.eyes_data import eval_set
    from training.eyes_eval import eye_metrics
    from training.train_eyes import splits

    test = splits(data)["test"].subset(range(32))
    crops, truth, widths = eval_set(test.images, test.labels)
    measured = eye_metrics(truth, predict_tflite(EyeStateModel(tflite), crops), widths)
    assert measured["balanced_accuracy"] == pytest.approx(
        card["metrics"]["int8"]["balanced_accuracy"]
    )
