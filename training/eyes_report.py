"""The eye model's training report: curves, Test confusion matrix, metrics per eye width."""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from training.eyes_data import eval_set
from training.eyes_eval import CLASSES, eye_metrics
from training.train_eyes import as_input, splits

log = logging.getLogger(__name__)


def plot_curves(history_csv: Path, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with history_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    epochs = range(1, len(rows) + 1)
    figure, (loss_axes, acc_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("loss", "val_loss"):
        loss_axes.plot(epochs, [float(r[key]) for r in rows], label=key)
    for key in ("binary_accuracy", "val_binary_accuracy"):
        acc_axes.plot(epochs, [float(r[key]) for r in rows], label=key)
    for axes in (loss_axes, acc_axes):
        axes.set_xlabel("epoch")
        axes.legend()
    acc_axes.set_title("accuracy (train augmented; valid 5-40 px)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_eyes_report(model_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate the float model on Test and write metrics, curves and confusion beside it."""
    import keras

    from training.report import plot_confusion

    out = model_path.parent
    model = keras.models.load_model(model_path, compile=False)
    test = splits(args.data)["test"]
    if args.smoke:
        test = test.subset(range(32))
    crops, truth, widths = eval_set(test.images, test.labels)
    p_open = model.predict(as_input(crops), batch_size=512, verbose=0).reshape(-1)
    metrics = eye_metrics(truth, p_open, widths)
    metrics["parameters"] = int(model.count_params())
    metrics["test_images"] = len(test)
    (out / "metrics_float.json").write_text(json.dumps(metrics, indent=2))
    plot_confusion(
        np.array(metrics["confusion"]), CLASSES, "float, Test, 10-40 px", out / "confusion.png"
    )
    if (out / "history.csv").is_file():
        plot_curves(out / "history.csv", out / "curves.png")
    log.info(
        "float eye model on Test (10-40 px): balanced accuracy %.4f", metrics["balanced_accuracy"]
    )
    return metrics
