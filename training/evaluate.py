"""Metrics of the smile model's three heads against FER+ votes (numpy only).

Used by training (float Keras model) and by convert (the saved int8 .tflite), so both are
measured the same way: majority-vote labels, images whose majority is unknown/NF left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge.perception.labels import EMOTIONS, INTENSITY
from training.targets import HAPPINESS, intensity_targets, majority_emotion, smiling_targets


def confusion(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def per_class(matrix: np.ndarray, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Precision, recall and support per class from a confusion matrix (rows = truth)."""
    result = {}
    for index, name in enumerate(names):
        true_positive = matrix[index, index]
        predicted = matrix[:, index].sum()
        support = matrix[index].sum()
        result[name] = {
            "precision": float(true_positive / predicted) if predicted else 0.0,
            "recall": float(true_positive / support) if support else 0.0,
            "support": int(support),
        }
    return result


def evaluate_heads(outputs: dict[str, np.ndarray], votes: np.ndarray) -> dict[str, Any]:
    """All metrics of the issue: emotion accuracy, smiling accuracy, intensity accuracy/recall."""
    emotion_truth = majority_emotion(votes)
    emotion_pred = np.argmax(outputs["emotions"], axis=1)
    intensity_truth = intensity_targets(votes)
    intensity_pred = np.argmax(outputs["intensity"], axis=1)
    smiling_truth = smiling_targets(votes).astype(bool)
    smiling_head = outputs["smiling"].reshape(-1) >= 0.5
    smiling_from_emotions = emotion_pred == HAPPINESS
    emotion_matrix = confusion(emotion_truth, emotion_pred, len(EMOTIONS))
    intensity_matrix = confusion(intensity_truth, intensity_pred, len(INTENSITY))
    intensity_classes = per_class(intensity_matrix, INTENSITY)
    present = [c["recall"] for c in intensity_classes.values() if c["support"]]
    return {
        "images": len(votes),
        "emotion_accuracy": float(np.mean(emotion_pred == emotion_truth)),
        "smiling_accuracy": float(np.mean(smiling_head == smiling_truth)),
        "smiling_accuracy_from_emotions": float(np.mean(smiling_from_emotions == smiling_truth)),
        "intensity_accuracy": float(np.mean(intensity_pred == intensity_truth)),
        "intensity_macro_recall": float(np.mean(present)) if present else 0.0,
        "emotion_per_class": per_class(emotion_matrix, EMOTIONS),
        "intensity_per_class": intensity_classes,
        "emotion_confusion": emotion_matrix.tolist(),
        "intensity_confusion": intensity_matrix.tolist(),
    }


HEADLINE_KEYS = (
    "emotion_accuracy",
    "smiling_accuracy",
    "intensity_accuracy",
    "intensity_macro_recall",
)


def headline(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{key} {100 * metrics[key]:.2f}%" for key in HEADLINE_KEYS)
