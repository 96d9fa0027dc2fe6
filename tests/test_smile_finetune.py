"""Fine-tuning the smile model from the shipped weights on a folder of real face crops."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge.perception.labels import INTENSITY, intensity_index
from edge.perception.model_card import sha256_of
from edge.perception.smile_model import SmileModel
from tests.paths import FERPLUS, MODELS, SMILE_MODEL, require

pytest.importorskip("tensorflow", reason="the train extra is not installed")
pytestmark = pytest.mark.train
FLOAT_MODEL = MODELS / "smile_float.keras"
PER_CLASS = 8


def crop_folder(tmp_path: Path, per_class: int = PER_CLASS) -> Path:
    """Real FER+ Test crops sorted into none/ mild/ moderate/ huge/ by their votes."""
    source = require(FERPLUS / "FER2013Test")
    root = tmp_path / "faces"
    for name in INTENSITY:
        (root / name).mkdir(parents=True)
    counts = dict.fromkeys(INTENSITY, 0)
    with (source / "label.csv").open(newline="") as handle:
        for row in csv.reader(handle):
            votes = np.array([float(v) for v in row[2:]])
            name = INTENSITY[intensity_index(votes[1] / votes.sum())]
            if counts[name] < per_class:
                shutil.copy(source / row[0], root / name / row[0])
                counts[name] += 1
            if min(counts.values()) == per_class:
                break
    return root


def folder_crops(root: Path) -> np.ndarray:
    from training.folders import load_folder

    return np.stack(load_folder(root, INTENSITY).images)


def predict(model, crops: np.ndarray) -> dict[str, np.ndarray]:
    """The float model as the shipped file runs it: once per crop, or averaged with the
    mirror image when its card says it was converted so."""
    x = crops[..., None].astype(np.float32) / 255.0
    direct = model.predict(x, verbose=0)
    if not json.loads(SMILE_MODEL.with_suffix(".card.json").read_text())["training"][
        "flip_average"
    ]:
        return dict(direct)
    mirrored = model.predict(x[:, :, ::-1], verbose=0)
    return {name: (direct[name] + mirrored[name]) / 2 for name in direct}


def train_args(*argv: str):
    import argparse

    from training.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(["smile", *argv])


def test_the_float_weights_are_the_shipped_int8_model(tmp_path) -> None:
    import keras

    card = json.loads(FLOAT_MODEL.with_suffix(".card.json").read_text())
    assert card["sha256"] == sha256_of(FLOAT_MODEL)
    assert card["from_int8"]["sha256"] == sha256_of(SMILE_MODEL)  # the pair is in sync
    crops = folder_crops(crop_folder(tmp_path))
    float_out = predict(keras.models.load_model(FLOAT_MODEL, compile=False), crops)
    shipped = SmileModel(SMILE_MODEL)
    int8_rows = [shipped.raw_outputs(crop) for crop in crops]
    for name in ("emotions", "intensity"):
        int8 = np.stack([row[name] for row in int8_rows]).reshape(len(crops), -1)
        assert np.abs(float_out[name] - int8).mean() < 0.01, name
        assert (float_out[name].argmax(1) == int8.argmax(1)).mean() >= 0.9, name


def test_a_fine_tune_starts_from_the_shipped_weights(tmp_path) -> None:
    import keras

    from training.model import build_model
    from training.train import starting_model, train

    folder = crop_folder(tmp_path)
    crops = folder_crops(folder)
    shipped_model = keras.models.load_model(FLOAT_MODEL, compile=False)
    shipped = predict(shipped_model, crops)
    args = train_args(
        "--folder", str(folder), "--init-from", str(FLOAT_MODEL), "--out", str(tmp_path / "out"),
        "--epochs", "1", "--batch-size", "16",
    )  # fmt: skip
    # the network train() starts from computes exactly what the shipped weights compute
    start = predict(starting_model(args), crops)
    assert all(np.array_equal(start[name], shipped[name]) for name in shipped)
    best = train(args)
    assert args.learning_rate == pytest.approx(3e-4)  # the fine-tune default
    with (tmp_path / "out" / "history.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and np.isfinite(float(rows[0]["loss"]))
    tuned_model = keras.models.load_model(best, compile=False)
    moved = [
        np.abs(a - b).max()
        for a, b in zip(tuned_model.get_weights(), shipped_model.get_weights(), strict=True)
    ]
    assert max(moved) > 0  # it trained...
    tuned = predict(tuned_model, crops)
    # ...from the shipped weights: after a step or two its outputs are still the shipped
    # model's, which a fresh network's are not.
    fresh = predict(build_model(batch_norm=False), crops)
    for name in ("intensity", "smiling"):
        assert np.abs(tuned[name] - shipped[name]).mean() < 0.05, name
        assert np.abs(fresh[name] - shipped[name]).mean() > 0.1, name


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("non-image", r"faces/mild/notes\.txt: not an image file"),
        ("empty", r"faces/huge: class folder is empty"),
        ("missing", r"faces/moderate: class folder missing"),
    ],
)
def test_a_broken_folder_is_named_without_a_traceback(tmp_path, capsys, breakage, message) -> None:
    from edge.cli import main

    folder = crop_folder(tmp_path, per_class=1)
    if breakage == "non-image":
        (folder / "mild" / "notes.txt").write_text("not a face")
    elif breakage == "empty":
        shutil.rmtree(folder / "huge")
        (folder / "huge").mkdir()
    else:
        shutil.rmtree(folder / "moderate")
    status = main(["train", "smile", "--folder", str(folder), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("smilebooth train: ") and "Traceback" not in error
    assert __import__("re").search(message, error), error
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_bad_init_from_is_named(tmp_path, capsys) -> None:
    from edge.cli import main

    folder = crop_folder(tmp_path)
    not_a_model = tmp_path / "weights.keras"
    not_a_model.write_bytes(b"not a zip")
    argv = ["train", "smile", "--folder", str(folder), "--out", str(tmp_path / "out")]
    assert main([*argv, "--init-from", str(not_a_model)]) == 2
    assert f"--init-from {not_a_model}: not a Keras model" in capsys.readouterr().err
    assert main([*argv, "--init-from", str(MODELS / "eyes_int8.tflite")]) == 2
    assert "--init-from" in capsys.readouterr().err
