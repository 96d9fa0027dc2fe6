"""The conversion's recall gate: a converted int8 detector against its float original.

Run on a fixed quick slice (the near WIDER faces at the four zoom scales, and faces-dlib;
under 20 s a model), each file alone on whole frames, no tiles. The conversion fails
when the int8 file's recall falls more than RECALL_MARGIN points below the float's on any
of them: a calibration that clips faces away or a broken head does not ship.
numpy/OpenCV only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from convert.detection_eval import recall_report
from convert.detector_eval import near_recall
from convert.detector_specs import DetectorSpec
from edge.config.perception import DetectorConfig
from edge.perception.face_detector import FaceDetector

# Near WIDER faces, each at 30, 50, 70 and 90 % of the frame: all 503 (None). On the first
# 100 alone one face is a point and the shipped short-range model is 3 below float at 90 %.
GATE_FACES: int | None = None
RECALL_MARGIN = 2.0  # points int8 may fall below float, on any scale and on faces-dlib


class RecallGateError(RuntimeError):
    """The int8 file finds too many fewer faces than its float original."""


def model_alone(path: Path) -> FaceDetector:
    """One detector file on whole frames, the stage's thresholds, no tiles, no second model
    (the file's card, if any, says how to decode it; the hash is the conversion's own)."""
    config = dataclasses.replace(
        DetectorConfig(), model=str(path), short_range_model="", tiles=False
    )
    return FaceDetector(config, verify=False)


def quick_recall(
    path: Path, spec: DetectorSpec, media: Path, faces: int | None = GATE_FACES
) -> dict[str, Any]:
    """Recall (%) of one detector file per near scale and on faces-dlib."""
    detect = model_alone(path).detect
    near = near_recall(detect, media / "wider", faces, convention=spec.name)
    dlib = recall_report(detect, media)
    found, labelled = dlib["found"], dlib["faces"]
    assert isinstance(found, int) and isinstance(labelled, int)
    return {
        "near_faces": near["faces"],
        "near": near["recall"],
        "faces_dlib": round(100 * found / labelled, 1),
    }


def check_recall(
    candidate: Path,
    reference: Path,
    spec: DetectorSpec,
    media: Path,
    faces: int | None = GATE_FACES,
    margin: float = RECALL_MARGIN,
) -> dict[str, Any]:
    """Both files' quick recall; RecallGateError naming each figure that falls more than
    `margin` points below the reference's, the bound and the file."""
    ours, theirs = (
        quick_recall(candidate, spec, media, faces),
        quick_recall(reference, spec, media, faces),
    )
    pairs = [
        (f"near faces at {scale}", ours["near"][scale], theirs["near"][scale])
        for scale in ours["near"]
    ]
    pairs.append(("faces-dlib", ours["faces_dlib"], theirs["faces_dlib"]))
    slice_ = f"{ours['near_faces']} near WIDER faces and faces-dlib"
    failures = [
        f"{what}: {mine} % against float {float_} % ({float_ - mine:.1f} points below)"
        for what, mine, float_ in pairs
        if mine < float_ - margin
    ]
    if failures:
        raise RecallGateError(
            f"{candidate}: int8 recall more than {margin} points below the float original "
            f"({reference.name}), on {slice_}: " + "; ".join(failures)
        )
    return {
        "int8": ours,
        "float": theirs,
        "margin_points": margin,
        "what": f"recall (%) of this file alone (no tiles) and of MediaPipe's float original "
        f"on {slice_} (near faces: the zoom protocol, IoU >= 0.5; faces-dlib: "
        f"IoU >= 0.4); the conversion fails if int8 falls more than {margin} "
        "points below float on any of them",
    }
