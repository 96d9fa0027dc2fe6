"""Config sections of the decision stages: the group rating, tracking, the auto-shutter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from edge.perception.labels import DEFAULT_INTENSITY_WEIGHTS


@dataclass(frozen=True)
class ScoringConfig:
    """The group rating: score = smile_weight x average smile + eyes_weight x open-eye ratio."""

    smile_weight: float = field(
        default=0.8, metadata={"doc": "weight of the average smile", "min": 0.0, "max": 1.0}
    )
    eyes_weight: float = field(
        default=0.2, metadata={"doc": "weight of the open-eye ratio", "min": 0.0, "max": 1.0}
    )
    eyes_per_face: float = field(
        default=0.5,
        metadata={
            "doc": "open-eye ratio = this x eyes / faces, capped at 1",
            "min": 0.0,
            "max": 1.0,
        },
    )
    intensity_weights: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_INTENSITY_WEIGHTS),
        metadata={
            "doc": "weight of each smile intensity (none, mild, moderate, huge)",
            "min": 0.0,
            "max": 1.0,
        },
    )

    def validate(self) -> None:
        if set(self.intensity_weights) != set(DEFAULT_INTENSITY_WEIGHTS):
            raise ValueError(
                f"intensity_weights needs exactly the keys {sorted(DEFAULT_INTENSITY_WEIGHTS)}, "
                f"got {sorted(self.intensity_weights)}"
            )
        if abs(self.smile_weight + self.eyes_weight - 1.0) > 1e-6:
            raise ValueError(
                f"smile_weight + eyes_weight must be 1 (the score stays in 0..1), got "
                f"{self.smile_weight} + {self.eyes_weight}"
            )


@dataclass(frozen=True)
class TrackingConfig:
    """Face tracking and smoothing."""

    iou_match: float = field(
        default=0.3,
        metadata={"doc": "overlap that links a face to a track", "min": 0.01, "max": 0.99},
    )
    smoothing: float = field(
        default=0.35,
        metadata={
            "doc": "EMA weight of the newest frame (1 = no smoothing)",
            "min": 0.01,
            "max": 1.0,
        },
    )
    max_missed: int = field(
        default=5, metadata={"doc": "frames a face may be missing before its track ends", "min": 0}
    )


@dataclass(frozen=True)
class TriggerConfig:
    """The auto-shutter."""

    armed: bool = field(
        default=True,
        metadata={
            "doc": "fire automatically at start-up (the MQTT `armed` command changes it live)"
        },
    )
    threshold: float = field(
        default=0.7,
        metadata={
            "doc": "group score that fires the shutter, at start-up "
            "(MQTT `threshold` changes it live)",
            "min": 0.0,
            "max": 1.0,
        },
    )
    rearm_threshold: float = field(
        default=0.55,
        metadata={
            "doc": "score must fall below this before the next photo",
            "min": 0.0,
            "max": 1.0,
        },
    )
    hold_s: float = field(
        default=0.8, metadata={"doc": "seconds the score must stay above threshold", "min": 0}
    )
    min_faces: int = field(default=1, metadata={"doc": "faces needed to fire", "min": 1})
    burst_s: float = field(
        default=0.6, metadata={"doc": "after firing, keep the best frame of this window", "min": 0}
    )
    cooldown_s: float = field(
        default=5.0, metadata={"doc": "seconds after a photo before the next", "min": 0}
    )
    block_on_closed_eyes: bool = field(
        default=True,
        metadata={"doc": "never fire (nor keep a burst frame) while a face's eyes read closed"},
    )
    closed_eyes_patience_s: float = field(
        default=5.0,
        metadata={
            "doc": "a face whose eyes read closed this many seconds without a break stops "
            "holding the shutter: a blink lasts well under a second, so this is sunglasses, "
            "eyes shut on purpose or a misreading, and the group should not wait forever "
            "(0: it holds as long as it reads closed)",
            "min": 0,
        },
    )
    rule: Literal["everyone", "score"] = field(
        default="everyone",
        metadata={
            "doc": "everyone: the group score over the threshold and every face smiling "
            "(smile.smiling_threshold); score: the group score alone (an average: one "
            "straight face among big smiles still fires)"
        },
    )
    allow_not_smiling: int = field(
        default=0,
        metadata={
            "doc": "rule everyone: this many faces may be not smiling (for big groups)",
            "min": 0,
            "max": 20,
        },
    )

    def validate(self) -> None:
        problem = threshold_problem(self.threshold, self.rearm_threshold)
        if problem:
            raise ValueError(problem)


def threshold_problem(threshold: float, rearm_threshold: float) -> str | None:
    """The one rule on the shutter's threshold, checked alike for the file, --threshold,
    MQTT, Home Assistant and the web page: a threshold under the re-arm threshold would
    re-arm at once after every photo (one long smile, a photo every cooldown)."""
    if not 0.0 <= threshold <= 1.0:
        return f"threshold {threshold} must be within 0..1"
    if rearm_threshold > threshold:
        return f"rearm_threshold {rearm_threshold} must not exceed threshold {threshold}"
    return None
