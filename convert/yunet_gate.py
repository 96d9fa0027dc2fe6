"""The conversion's recall gate: the int8 YuNet file against OpenCV's run of the float ONNX.

On a fixed quick slice (near WIDER faces at the four zoom scales, the first GROUP_PHOTOS
group photos by face size, faces-dlib), the int8 file must find within RECALL_MARGIN points
of what `cv2.FaceDetectorYN` finds on the float file at the same threshold, or the
conversion fails: a calibration that clips faces away or a broken head does not ship.
numpy/OpenCV only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convert.yunet_reference import float_detector
from edge.config.perception import DetectorConfig
from edge.perception.face_detector import FaceDetector
from evaluate.detection_eval import recall_report
from evaluate.detector_eval import Detect, group_recall, near_recall

GATE_NEAR_FACES = 150  # of 503, each at four scales
GATE_GROUP_PHOTOS = 80  # of 397
SMOKE_NEAR_FACES, SMOKE_GROUP_PHOTOS = 10, 5
RECALL_MARGIN = 2.0  # points int8 may fall below float, on any slice


class RecallGateError(RuntimeError):
    """The int8 file finds too many fewer faces than OpenCV's run of the float file."""


def quick_recall(detect: Detect, media: Path, near: int, groups: int) -> dict[str, float]:
    """Recall (%) per near scale, per group face size and on faces-dlib."""
    figures: dict[str, float] = {}
    for scale, value in near_recall(detect, media / "wider", near)["recall"].items():
        figures[f"near {scale}"] = value
    for size, value in group_recall(detect, media / "wider", groups)["recall"].items():
        figures[f"groups {size}"] = value
    dlib = recall_report(detect, media)
    figures["faces-dlib"] = round(100 * int(dlib["found"]) / int(dlib["faces"]), 1)
    return figures


def check_recall(int8_path: Path, onnx_path: Path, media: Path, smoke: bool = False) -> dict:
    """Both files' figures on the slice; RecallGateError if int8 falls too far behind."""
    threshold = DetectorConfig.score_threshold
    near, groups = (
        (SMOKE_NEAR_FACES, SMOKE_GROUP_PHOTOS) if smoke else (GATE_NEAR_FACES, GATE_GROUP_PHOTOS)
    )
    raw = DetectorConfig(model=str(int8_path), candidate_threshold=threshold)  # no second look
    int8_detect = FaceDetector(raw, verify=False).detect
    found: dict[str, Any] = {
        "int8": quick_recall(int8_detect, media, near, groups),
        "float": quick_recall(float_detector(onnx_path, threshold), media, near, groups),
    }
    short = [
        f"{name}: int8 {found['int8'][name]} % against float {value} %"
        for name, value in found["float"].items()
        if found["int8"][name] < value - RECALL_MARGIN
    ]
    if short:
        raise RecallGateError(
            f"{int8_path}: int8 finds more than {RECALL_MARGIN} points fewer faces: "
            + "; ".join(short)
        )
    found["what"] = (
        f"recall on a quick slice ({near} near WIDER faces at four zoom scales, the first "
        f"{groups} group photos, faces-dlib) at score {threshold}, against OpenCV's "
        f"FaceDetectorYN on the float ONNX; the gate fails beyond {RECALL_MARGIN} points"
    )
    return found
