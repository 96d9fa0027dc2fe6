"""Eye-state metrics (numpy only): balanced accuracy, confusion matrix, per eye-width slice.

Used on the float Keras model by training and on the saved int8 file by convert, so both
are measured the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from training.eyes_data import SLICES

CLASSES = ("closed", "open")  # label index = P(open) > threshold


def binary_metrics(truth: np.ndarray, p_open: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Balanced accuracy, accuracy and the confusion matrix (rows truth closed/open)."""
    predicted = (np.asarray(p_open).reshape(-1) > threshold).astype(int)
    truth = np.asarray(truth).reshape(-1).astype(int)
    matrix = np.zeros((2, 2), np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    recalls = [matrix[c, c] / max(1, matrix[c].sum()) for c in range(2)]
    return {
        "balanced_accuracy": float(np.mean(recalls)),
        "accuracy": float((predicted == truth).mean()) if truth.size else float("nan"),
        "recall_closed": float(recalls[0]),
        "recall_open": float(recalls[1]),
        "confusion": matrix.tolist(),
        "crops": int(truth.size),
    }


def eye_metrics(
    truth: np.ndarray, p_open: np.ndarray, widths: np.ndarray, threshold: float = 0.5
) -> dict[str, Any]:
    """The headline on eye widths 10-40 px, plus every slice of SLICES on its own."""
    widths = np.asarray(widths)
    booth = (widths >= 10) & (widths <= 40)
    result = binary_metrics(truth[booth], p_open[booth], threshold)
    result["eye_widths_px"] = sorted({float(w) for w in widths[booth]})
    result["slices"] = {
        name: binary_metrics(truth[mask], p_open[mask], threshold)
        for name, (low, high) in SLICES.items()
        if (mask := (widths >= low) & (widths < high)).any()
    }
    return result
