"""The training report: curves, confusion matrices, per-class precision/recall, metrics JSON.

Written beside the trained model so a reader sees how it was trained and how good the
float model is before conversion (convert/ re-measures the int8 file itself).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from edge.perception.crop import model_input
from edge.perception.labels import EMOTIONS, INTENSITY
from training.evaluate import evaluate_heads, headline
from training.ferplus import load_split
from training.train import cycle_files

log = logging.getLogger(__name__)


def predict_keras(model: Any, images: np.ndarray, batch: int = 512) -> dict[str, np.ndarray]:
    """Float model outputs on uint8 crops (N, 48, 48)."""
    x = model_input(images[..., None])
    outputs = model.predict(x, batch_size=batch, verbose=0)
    return {name: np.asarray(value) for name, value in outputs.items()}


def plot_confusion(matrix: np.ndarray, names: tuple[str, ...], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(1.0 + 0.8 * len(names), 0.8 + 0.7 * len(names)))
    axes.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (majority vote)")
    axes.set_title(title)
    for (row, column), count in np.ndenumerate(matrix):
        color = "white" if rows[row, column] > 0.5 else "black"
        axes.text(column, row, str(count), ha="center", va="center", fontsize=8, color=color)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_history(history_csvs: list[Path], path: Path) -> None:
    """Training curves of every cycle, one after the other (restarts log fewer metrics)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows: list[dict[str, str]] = []
    cycle_starts = []
    for history_csv in history_csvs:
        cycle_starts.append(len(rows) + 0.5)
        with history_csv.open() as handle:
            rows += list(csv.DictReader(handle))
    if not rows:
        return
    epochs = list(range(1, len(rows) + 1))
    figure, (loss_axes, acc_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "val_loss"):
        loss_axes.plot(epochs, [float(r[key]) for r in rows], label=key)
    for key in (
        "emotions_categorical_accuracy",
        "val_emotions_categorical_accuracy",
        "smiling_binary_accuracy",
        "val_smiling_binary_accuracy",
    ):
        if key in rows[0]:
            values = [float(r[key]) if r.get(key) else float("nan") for r in rows]
            acc_axes.plot(epochs, values, label=key)
    for start in cycle_starts[1:]:  # a warm restart begins
        for axes in (loss_axes, acc_axes):
            axes.axvline(start, color="grey", linestyle=":", linewidth=1)
    loss_axes.set_xlabel("epoch")
    acc_axes.set_xlabel("epoch")
    loss_axes.legend()
    acc_axes.legend(fontsize=8)
    acc_axes.set_title("accuracy (train is on augmented crops)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(model_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate the float model on Test (FER+, or --folder's) and write report files beside it."""
    import keras

    out = model_path.parent
    model = keras.models.load_model(model_path, compile=False)
    source = "FER+ Test"
    if getattr(args, "folder", None) is None:
        test = load_split(args.data, "test", fer2013_csv=args.fer2013_csv)
    else:
        source = f"{args.folder.name} Test"
        from training.smile_folder import load_smile_folder

        test = load_smile_folder(args.folder)["test"]
        if not len(test):
            log.info("%s: no crop falls in the Test split: no report", args.folder)
            return {}
    if args.smoke:
        test = test.subset(np.arange(256))
    metrics = evaluate_heads(predict_keras(model, test.images), test.votes)
    metrics["parameters"] = int(model.count_params())
    metrics["architecture"] = args.architecture
    (out / "metrics_float.json").write_text(json.dumps(metrics, indent=2))
    plot_confusion(
        np.array(metrics["emotion_confusion"]),
        EMOTIONS,
        f"{source}, float: emotions",
        out / "confusion_emotions.png",
    )
    plot_confusion(
        np.array(metrics["intensity_confusion"]),
        INTENSITY,
        f"{source}, float: smile intensity",
        out / "confusion_intensity.png",
    )
    histories = list(
        itertools.takewhile(Path.is_file, (cycle_files(out, c)[1] for c in itertools.count()))
    )
    if histories:
        plot_history(histories, out / "curves.png")
    log.info("float model on %s: %s", source, headline(metrics))
    return metrics
