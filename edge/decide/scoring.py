"""Per-face and group scores: pure functions, no I/O, tested on their own.

The default is the original printability rating: score = 0.8 x average smile + 0.2 x
open-eye ratio, where a face's smile weight is the expected intensity weight under the
model's probabilities and open-eye ratio = 0.5 x eyes / faces (at most 1).
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.config.decide import ScoringConfig
from edge.types import Face, FaceScore, GroupScore, SmileResult, SmoothedFace


def smile_weight(intensity: dict[str, float], weights: dict[str, float]) -> float:
    """Expected intensity weight: sum over classes of P(class) x weight(class)."""
    total = sum(intensity.values())
    if total <= 0:
        return 0.0
    return sum(p * weights[name] for name, p in intensity.items()) / total


def score_face(
    face: Face,
    smile: SmileResult,
    eyes_open: int,
    config: ScoringConfig,
    smiling_threshold: float = 0.5,
    eye_open_probability: tuple[float, float] | None = None,
) -> FaceScore:
    if not 0 <= eyes_open <= 2:
        raise ValueError(f"eyes_open must be 0, 1 or 2, got {eyes_open}")
    return FaceScore(
        face=face,
        smile=smile,
        eyes_open=eyes_open,
        smile_weight=smile_weight(smile.intensity, config.intensity_weights),
        smiling=smile.smile_probability >= smiling_threshold,
        eye_open_probability=eye_open_probability,
    )


def score_group(faces: Sequence[FaceScore], config: ScoringConfig) -> GroupScore:
    """The group rating of one frame; no faces -> no score (None), never a fake zero."""
    if not faces:
        return GroupScore(score=None, face_count=0, average_smile=None, open_eye_ratio=None)
    return group_from_values([f.smile_weight for f in faces], [f.eyes_open for f in faces], config)


def group_from_values(
    smile_weights: Sequence[float], eyes_open: Sequence[float], config: ScoringConfig
) -> GroupScore:
    """The rating formula on per-face values (raw, or smoothed over frames by tracking)."""
    count = len(smile_weights)
    if count == 0:
        return GroupScore(score=None, face_count=0, average_smile=None, open_eye_ratio=None)
    average_smile = sum(smile_weights) / count
    open_eye_ratio = min(1.0, config.eyes_per_face * sum(eyes_open) / count)
    score = config.smile_weight * average_smile + config.eyes_weight * open_eye_ratio
    return GroupScore(
        score=score, face_count=count, average_smile=average_smile, open_eye_ratio=open_eye_ratio
    )


def smoothed_group(faces: Sequence[SmoothedFace], config: ScoringConfig) -> GroupScore:
    """The live loop's group rating: the same formula on the tracker's smoothed values."""
    return group_from_values([f.smile_weight for f in faces], [f.eyes_open for f in faces], config)
