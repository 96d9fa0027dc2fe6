"""Training targets derived from FER+ vote shares: one place, so train and evaluate agree."""

from __future__ import annotations

import numpy as np

from edge.perception.labels import EMOTIONS, INTENSITY, intensity_index

HAPPINESS = EMOTIONS.index("happiness")


def emotion_targets(votes: np.ndarray) -> np.ndarray:
    """Distribution over the 8 emotions (unknown/NF votes left out), rows sum to 1."""
    emotion_votes = votes[:, : len(EMOTIONS)]
    return (emotion_votes / np.maximum(emotion_votes.sum(axis=1, keepdims=True), 1e-9)).astype(
        np.float32
    )


def majority_emotion(votes: np.ndarray) -> np.ndarray:
    """Most-voted emotion index (the FER+ 'majority vote' label; ties: first column)."""
    return np.argmax(votes[:, : len(EMOTIONS)], axis=1)


def intensity_targets(votes: np.ndarray) -> np.ndarray:
    """Smile intensity class index from the share of annotators who voted happiness."""
    return np.array([intensity_index(float(share)) for share in votes[:, HAPPINESS]], np.int64)


def smiling_targets(votes: np.ndarray) -> np.ndarray:
    """1 where happiness is the majority emotion, else 0."""
    return (majority_emotion(votes) == HAPPINESS).astype(np.float32)


def balanced_weights(labels: np.ndarray, classes: int, power: float = 1.0) -> np.ndarray:
    """Per-class weights (mean 1 over samples) that undo class frequency to a power."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    weights = np.where(counts > 0, (counts.sum() / np.maximum(counts, 1)) ** power, 0.0)
    per_sample = weights[labels]
    return (weights / per_sample.mean()).astype(np.float32)


__all__ = [
    "HAPPINESS",
    "INTENSITY",
    "balanced_weights",
    "emotion_targets",
    "intensity_targets",
    "majority_emotion",
    "smiling_targets",
]
