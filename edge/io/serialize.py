"""FrameResult -> plain JSON-ready dicts: one format for `score`, capture sidecars and MQTT."""

from __future__ import annotations

from typing import Any

import numpy as np

from edge.types import KEYPOINT_NAMES, FaceScore, FrameResult, GroupScore, MeshResult


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def mesh_to_dict(mesh: MeshResult) -> dict[str, Any]:
    """The face mesh (big: 478 points), only when asked for."""
    from edge.perception.face_mesh import BLENDSHAPE_NAMES

    return {
        "points": np.round(mesh.points.astype(np.float64), 1).tolist(),
        "presence": _round(mesh.presence, 3),
        "blendshapes": {
            name: _round(value, 3)
            for name, value in zip(BLENDSHAPE_NAMES, mesh.blendshapes.tolist(), strict=True)
        },
    }


def face_to_dict(face: FaceScore, mesh: bool = False) -> dict[str, Any]:
    """`mesh`: add the face mesh where the eyes were read from one (eyes.reader: mesh)."""
    keypoints = face.face.keypoints
    extra = {"mesh": mesh_to_dict(face.mesh)} if mesh and face.mesh is not None else {}
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
        **extra,
    }


def group_to_dict(group: GroupScore) -> dict[str, Any]:
    return {
        "score": _round(group.score),
        "faces": group.face_count,
        "average_smile": _round(group.average_smile),
        "open_eye_ratio": _round(group.open_eye_ratio),
    }


def frame_to_dict(result: FrameResult, mesh: bool = False) -> dict[str, Any]:
    return {
        "width": result.width,
        "height": result.height,
        "faces": [face_to_dict(face, mesh) for face in result.faces],
        "group": group_to_dict(result.group),
    }
