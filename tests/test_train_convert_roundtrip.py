"""A smoke train -> convert -> evaluate round trip on real FER+ slices (needs TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.paths import FERPLUS, ROOT, require

pytest.importorskip("tensorflow", reason="the train extra is not installed")
pytestmark = [pytest.mark.train, pytest.mark.slow]


def test_smoke_train_convert_evaluate(tmp_path) -> None:
    data = require(FERPLUS)
    out = tmp_path / "smile"
    common = ["--data", str(data)]
    run = [sys.executable, "-m", "edge.cli"]
    subprocess.run(
        [*run, "train", "--smoke", "--restarts", "2", "--out", str(out), *common],
        cwd=ROOT,
        check=True,
        timeout=600,
        capture_output=True,
    )
    assert (out / "best.keras").is_file()
    # both warm restarts ran (1 epoch each in smoke), each logging its own history
    for history in ("history.csv", "history_restart.csv", "history_restart2.csv"):
        assert len((out / history).read_text().splitlines()) == 2, history
    float_metrics = json.loads((out / "metrics_float.json").read_text())
    assert float_metrics["images"] == 256
    assert (out / "confusion_emotions.png").stat().st_size > 1000

    models = tmp_path / "models"
    subprocess.run(
        [
            *run,
            "convert",
            "smile",
            "--smoke",
            "--keras",
            str(out / "best.keras"),
            "--out-dir",
            str(models),
            *common,
        ],
        cwd=ROOT,
        check=True,
        timeout=600,
        capture_output=True,
    )
    tflite = models / "smile_smoke_int8.tflite"
    card = json.loads(tflite.with_suffix(".card.json").read_text())
    assert card["input"]["dtype"] == "int8"
    assert {o["quantization"][0] > 0 for o in card["outputs"].values()} == {True}
    assert card["metrics"]["int8"]["images"] == 256

    # The card's numbers are what the edge app measures on the saved file.
    from edge.perception.smile_model import SmileModel
    from training.evaluate import evaluate_heads
    from training.ferplus import load_split

    test = load_split(data, "test").subset(np.arange(256))
    model = SmileModel(tflite)
    rows = [model.raw_outputs(crop) for crop in test.images]
    outputs = {k: np.stack([r[k] for r in rows]) for k in rows[0]}
    metrics = evaluate_heads(outputs, test.votes)
    assert metrics["emotion_accuracy"] == pytest.approx(card["metrics"]["int8"]["emotion_accuracy"])
