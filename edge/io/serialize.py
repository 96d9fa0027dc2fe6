"""FrameResult -> plain JSON-ready dicts: one format for `score`, capture sidecars and MQTT."""

from __future__ import annotations

from typing import Any

from edge.types import KEYPOINT_NAMES, FaceScore, FrameResult, GroupScore


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def face_to_dict(face: FaceScore) -> dict[str, Any]:
    keypoints = face.face.keypoints
    return {
        "box": face.face.box.as_list(),
        "detector_score": _round(face.face.score, 3),
        "keypoints": (
            None
            if keypoints is None
            else {
                name: [round(x, 1), round(y, 1)]
                for name, (x, y) in zip(KEYPOINT_NAMES, keypoints.as_tuple(), strict=True)
            }
        ),
        "smiling": face.smiling,
        "smile_probability": _round(face.smile.smile_probability),
        "intensity": face.smile.intensity_class,
        "intensity_probabilities": {k: _round(v) for k, v in face.smile.intensity.items()},
        "smile_weight": _round(face.smile_weight),
        "valence": _round(face.smile.valence),
        "emotions": {k: _round(v) for k, v in face.smile.emotions.items()},
        "eyes_open": face.eyes_open,
        "eye_open_probability": (
            None
            if face.eye_open_probability is None
            else dict(zip(("right", "left"), map(_round, face.eye_open_probability), strict=True))
        ),
    }


def group_to_dict(group: GroupScore) -> dict[str, Any]:
    return {
        "score": _round(group.score),
        "faces": group.face_count,
        "average_smile": _round(group.average_smile),
        "open_eye_ratio": _round(group.open_eye_ratio),
    }


def frame_to_dict(result: FrameResult) -> dict[str, Any]:
    return {
        "width": result.width,
        "height": result.height,
        "faces": [face_to_dict(face) for face in result.faces],
        "group": group_to_dict(result.group),
    }
