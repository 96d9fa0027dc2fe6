"""Config sections of the per-image pipeline: models, detector, smile model, eyes, scoring."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.labels import DEFAULT_INTENSITY_WEIGHTS


@dataclass(frozen=True)
class DetectorConfig:
    """The two int8 face detectors (MediaPipe full and short range, quantized by convert)."""

    model: str = field(
        default="models/face_detector_int8.tflite",
        metadata={"doc": "full-range detector .tflite (its .card.json must sit beside it)"},
    )
    short_range_model: str = field(
        default="models/face_detector_short_int8.tflite",
        metadata={"doc": "short-range detector .tflite, for faces that fill the frame ('' = off)"},
    )
    threads: int = field(default=1, metadata={"doc": "interpreter threads", "min": 1, "max": 8})
    score_threshold: float = field(
        default=0.5, metadata={"doc": "minimum detection score", "min": 0.05, "max": 0.99}
    )
    confirm_threshold: float = field(
        default=0.5,
        metadata={
            "doc": "thorough passes keep a face only if the short-range model, shown a square "
            "around it, scores it at least this (removes hands, backs of heads)",
            "min": 0.05,
            "max": 0.99,
        },
    )
    nms_iou: float = field(
        default=0.3, metadata={"doc": "overlap merged by weighted NMS", "min": 0.05, "max": 0.95}
    )
    tiles: bool = field(
        default=True,
        metadata={
            "doc": "thorough passes also search 2x2 tiles of frames >= 640 px: faces under "
            "~7% of the frame's side (the back row)"
        },
    )
    tile_threshold: float = field(
        default=0.6,
        metadata={
            "doc": "detection and confirmation score for faces found only in tiles",
            "min": 0.05,
            "max": 0.99,
        },
    )
    thorough_every: int = field(
        default=10,
        metadata={
            "doc": "live loop: a thorough pass every N frames; in between, faces already "
            "found are looked for again only around where they were",
            "min": 1,
            "max": 1000,
        },
    )
    min_face_px: int = field(
        default=12, metadata={"doc": "ignore faces smaller than this (pixels)", "min": 0}
    )


@dataclass(frozen=True)
class SmileConfig:
    """The int8 smile model (trained by `smilebooth train`, converted by `convert`)."""

    model: str = field(
        default="models/smile_int8.tflite",
        metadata={"doc": "smile .tflite (its .card.json must sit beside it)"},
    )
    threads: int = field(default=1, metadata={"doc": "interpreter threads", "min": 1, "max": 8})
    smiling_threshold: float = field(
        default=0.5,
        metadata={
            "doc": "smile probability at which a face counts as smiling",
            "min": 0.0,
            "max": 1.0,
        },
    )


@dataclass(frozen=True)
class EyesConfig:
    """Eye state: the int8 eye-state model on crops cut at the detector's eye keypoints."""

    enabled: bool = field(
        default=True, metadata={"doc": "read eye state per face (off: eyes count as open)"}
    )
    model: str = field(
        default="models/eyes_int8.tflite",
        metadata={"doc": "eye-state .tflite (its .card.json must sit beside it)"},
    )
    threads: int = field(default=1, metadata={"doc": "interpreter threads", "min": 1, "max": 8})
    open_threshold: float = field(
        default=0.5,
        metadata={"doc": "P(open) above which an eye counts as open", "min": 0.0, "max": 1.0},
    )


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
