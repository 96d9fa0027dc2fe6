"""Config sections of the perception stages: the face detector, the smile model, eyes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class DetectorConfig:
    """The int8 face detector (OpenCV Zoo's YuNet, quantized by `smilebooth convert`)."""

    model: str = field(
        default="models/yunet_int8.tflite",
        metadata={"doc": "face detector .tflite (its .card.json must sit beside it)"},
    )
    threads: int = field(default=1, metadata={"doc": "interpreter threads", "min": 1, "max": 8})
    score_threshold: float = field(
        default=0.75,
        metadata={
            "doc": "minimum detection score of a new face (a tracked face is kept while it "
            "scores 0.55)",
            "min": 0.05,
            "max": 0.99,
        },
    )
    candidate_threshold: float = field(
        default=0.6,
        metadata={
            "doc": "a face scoring from this up to 0.85 in the whole frame is kept only if "
            "a second look at its square (the face at ~58 px) scores it score_threshold: "
            "more of the back row found, a dog's face or a poster's refused",
            "min": 0.05,
            "max": 0.99,
        },
    )
    nms_iou: float = field(
        default=0.3, metadata={"doc": "overlap merged by NMS", "min": 0.05, "max": 0.95}
    )
    thorough_every: int = field(
        default=10,
        metadata={
            "doc": "live loop: a search for new faces every N frames; in between, faces "
            "already found are looked for again only around where they were",
            "min": 1,
            "max": 1000,
        },
    )
    track_every: int = field(
        default=2,
        metadata={
            "doc": "live loop: each tracked face is looked for again every N frames, faces "
            "taking turns, its box and keypoints kept in between (1 = every frame)",
            "min": 1,
            "max": 10,
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
    every: int = field(
        default=2,
        metadata={
            "doc": "live loop: each tracked face's smile is read every N frames, the last "
            "reading kept in between (1 = every frame; eyes are read every frame)",
            "min": 1,
            "max": 10,
        },
    )


@dataclass(frozen=True)
class EyesConfig:
    """Eye state: the int8 eye-state model on crops cut at the detector's eye keypoints, or
    the face mesh's blendshapes (reader: mesh)."""

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
    reader: Literal["cnn", "mesh", "cnn+mesh"] = field(
        default="cnn+mesh",
        metadata={
            "doc": "cnn: the eye-state model on eye crops; mesh: the face mesh's blendshapes "
            "(eyeBlink against eyeSquint: laughing eyes stay open; docs/face-mesh.md); "
            "cnn+mesh: the CNN on every face, the mesh on each face the CNN is not sure is "
            "open (eyes.sure_open)"
        },
    )
    mesh_every: int = field(
        default=5,
        metadata={
            "doc": "live loop, reader cnn+mesh: a face's mesh reading stands for up to N "
            "frames while the CNN reads the face the same way (re-read at once on a change, "
            "when read closed, and on every frame while the trigger holds or bursts)",
            "min": 1,
            "max": 30,
        },
    )
    sure_open: float = field(
        default=0.99,
        metadata={
            "doc": "reader cnn+mesh: a face with an eye the CNN reads at least this sure "
            "open is read open without the mesh",
            "min": 0.5,
            "max": 1.0,
        },
    )
    every: int = field(
        default=1,
        metadata={
            "doc": "live loop: each tracked face's eyes read every N frames (a face read "
            "closed is read again next frame; every face on every frame while the trigger "
            "holds or bursts)",
            "min": 1,
            "max": 30,
        },
    )
    mesh_model: str = field(
        default="models/face_mesh_float16.tflite",
        metadata={"doc": "reader mesh: the face mesh .tflite (478 points; card beside it)"},
    )
    blendshape_model: str = field(
        default="models/face_blendshapes_float16.tflite",
        metadata={"doc": "reader mesh: the blendshape .tflite (52 scores; card beside it)"},
    )
    mesh_scale: float = field(
        default=1.1,
        metadata={
            "doc": "reader mesh: the mesh's square, in face box sides (1.1 fits YuNet's box, "
            "chosen on faces-eyes Valid; MediaPipe's own detector needs 1.5)",
            "min": 1.0,
            "max": 3.0,
        },
    )
