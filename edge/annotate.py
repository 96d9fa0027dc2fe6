"""Draw a FrameResult on its image: boxes, keypoints, the face mesh (where eyes are read
from one), smile class, eyes and group score."""

from __future__ import annotations

import cv2
import numpy as np

from edge.perception.face_mesh import IRISES, MESH_OUTLINES
from edge.types import FrameResult, MeshResult

SMILING = (60, 200, 60)
NOT_SMILING = (40, 140, 255)
MESH_COLOR = (230, 230, 60)


def annotate(frame_bgr: np.ndarray, result: FrameResult) -> np.ndarray:
    """A copy of the frame with the results drawn; line widths scale with the image."""
    image = frame_bgr.copy() if frame_bgr.ndim == 3 else cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
    thickness = max(1, round(max(image.shape[:2]) / 400))
    font = 0.4 + max(image.shape[:2]) / 2000
    for face in result.faces:
        box = face.face.box
        color = SMILING if face.smiling else NOT_SMILING
        top_left = (round(box.x1), round(box.y1))
        cv2.rectangle(image, top_left, (round(box.x2), round(box.y2)), color, thickness)
        if face.mesh is not None:
            draw_mesh(image, face.mesh, max(1, thickness - 1))
        if face.face.keypoints is not None:
            for x, y in face.face.keypoints.as_tuple():
                cv2.circle(image, (round(x), round(y)), thickness + 1, (255, 200, 0), -1)
        label = (
            f"{face.smile.intensity_class} {face.smile.smile_probability:.2f} eyes {face.eyes_open}"
        )
        cv2.putText(
            image,
            label,
            (top_left[0], max(12, top_left[1] - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            font,
            color,
            thickness,
            cv2.LINE_AA,
        )
    score = result.group.score
    text = "no face" if score is None else f"group {score:.2f} ({result.group.face_count} faces)"
    cv2.putText(
        image,
        text,
        (8, int(24 * font / 0.5)),
        cv2.FONT_HERSHEY_SIMPLEX,
        font * 1.2,
        (255, 255, 255),
        thickness + 1,
        cv2.LINE_AA,
    )
    return image


def draw_mesh(image: np.ndarray, mesh: MeshResult, thickness: int) -> None:
    """Eyes, eyebrows, nose and lips of a face mesh, and the irises' centres, in place."""
    for path in MESH_OUTLINES.values():
        points = np.round(mesh.points[list(path)]).astype(np.int32)
        cv2.polylines(image, [points], False, MESH_COLOR, thickness, cv2.LINE_AA)
    for index in IRISES:
        x, y = mesh.points[index]
        cv2.circle(image, (round(float(x)), round(float(y))), thickness, MESH_COLOR, -1)
