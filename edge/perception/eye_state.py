"""Eye state from the face mesh's blendshapes: a blink is not a squint.

The eye CNN sees only an eye crop, where a laughing, narrowed eye looks like a closed one.
The blendshape model reads the whole mesh and scores `eyeBlink` (lid shut) apart from
`eyeSquint` (lids narrowed by the cheeks), so an eye's openness is 1 - eyeBlink, with a
squinting eye given back part of its squint (a laugh raises eyeBlink a little too). The rule's
numbers are chosen on the Valid half of faces-eyes (`python -m evaluate.mesh_eyes_eval
--choose`); its figures on the held-back half are in docs/face-mesh.md.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from edge.perception.face_mesh import BLENDSHAPE_INDEX, MESH_SIZE, FaceMesh
from edge.types import Detail, Face, MeshResult

# The person's own right and left (MediaPipe's "Left"/"Right" names are the person's).
RIGHT_BLINK, LEFT_BLINK = BLENDSHAPE_INDEX["eyeBlinkRight"], BLENDSHAPE_INDEX["eyeBlinkLeft"]
RIGHT_SQUINT, LEFT_SQUINT = BLENDSHAPE_INDEX["eyeSquintRight"], BLENDSHAPE_INDEX["eyeSquintLeft"]


@dataclass(frozen=True)
class EyeRule:
    """When an eye counts as open. `thresholds`: (face height in px, openness threshold)
    pairs, interpolated in log size between them and held beyond the ends: a small face's
    mesh is blurrier and its blink scores higher on open eyes, so its bar is lower.
    `squint_weight`: how much of eyeSquint is taken off eyeBlink (openness = 1 - blink +
    squint_weight x squint)."""

    thresholds: tuple[tuple[float, float], ...] = (
        (33.7, 0.6),
        (50.4, 0.68),
        (76.9, 0.72),
        (203.1, 0.74),
    )
    squint_weight: float = 0.1

    def threshold(self, face_px: float) -> float:
        sizes = np.log([max(1.0, size) for size, _ in self.thresholds])
        values = [value for _, value in self.thresholds]
        return float(np.interp(np.log(max(1.0, face_px)), sizes, values))


DEFAULT_RULE = EyeRule()
WINK_MARGIN = 0.25
# Openness -> the P(open)-like value the rest of the app reads (0.5 at the threshold, as
# the CNN's P(open) is at eyes.open_threshold): the tracker sums the two smoothed values as
# the face's open eyes, so an open eye must come out near 1, not at its raw openness.
OPEN_SPREAD = 0.05


def open_value(openness: float, threshold: float) -> float:
    """0.5 at the threshold, 0.88 at 0.1 over it, 0.12 at 0.1 under it."""
    return 1.0 / (1.0 + math.exp(-(openness - threshold) / OPEN_SPREAD))


def eye_openness(
    blink_right: float, blink_left: float, squint_right: float, squint_left: float, rule: EyeRule
) -> tuple[float, float]:
    """Openness 0-1 of the person's (right, left) eye."""

    def one(blink: float, squint: float) -> float:
        return float(np.clip(1.0 - (blink - rule.squint_weight * squint), 0.0, 1.0))

    return one(blink_right, squint_right), one(blink_left, squint_left)


def count_open_eyes(openness: tuple[float, float], threshold: float) -> int:
    """eyes_open (0-2): 0 when the two eyes' mean openness is at or under the threshold
    (both lids move together in a blink, and the mean halves one eye's noise: on the Valid
    half of faces-eyes it beat "both eyes under" at every size). A face that reads open
    as a whole has 2 open eyes unless one is a wink: under the threshold AND at least
    WINK_MARGIN under the other eye (one eye's score alone is noisy on small faces: on the
    six-person photo a 53 px face read 0.73 / 0.63 with both eyes open)."""
    right, left = openness
    if (right + left) / 2 <= threshold:
        return 0
    if min(right, left) <= threshold and abs(right - left) >= WINK_MARGIN:
        return 1
    return 2


def open_values(openness: tuple[float, float], threshold: float) -> tuple[float, float]:
    """Each eye's P(open)-like value (open_value), agreeing with count_open_eyes: the eyes
    are read as one (their mean) unless the face reads open with one eye a wink, so the
    values over 0.5 are exactly the open eyes the face is counted with."""
    right, left = openness
    if count_open_eyes(openness, threshold) == 1:
        return open_value(right, threshold), open_value(left, threshold)
    both = open_value((right + left) / 2, threshold)
    return both, both


def mesh_openness(result: MeshResult, rule: EyeRule) -> tuple[float, float]:
    b = result.blendshapes
    return eye_openness(
        float(b[RIGHT_BLINK]),
        float(b[LEFT_BLINK]),
        float(b[RIGHT_SQUINT]),
        float(b[LEFT_SQUINT]),
        rule,
    )


class MeshEyeReader:
    """Openness of both eyes of a detected face from its mesh, and the mesh itself.

    A face whose mesh square is under the model's 256 px in the model's frame is read from
    the full-resolution frame (`detail`) when there is one: a 32 px face of a 640 px frame
    is 96 px in a 1920 px camera frame, three times the pixels for the eyelids."""

    def __init__(self, mesh: FaceMesh, rule: EyeRule = DEFAULT_RULE) -> None:
        self.mesh = mesh
        self.rule = rule
        self.reads = 0  # meshes read, and the time they took (for `smilebooth bench`)
        self.read_ms = 0.0

    def read_frame(
        self, frame_bgr: np.ndarray, face: Face, detail: Detail | None = None
    ) -> tuple[int, tuple[float, float], MeshResult] | None:
        """(eyes_open, (right, left) P(open)-like values (open_value), the mesh in the
        frame's pixels); None without eye points. The threshold follows the face's height
        where it was read."""
        if face.keypoints is None:
            return None
        k = face.keypoints
        source, scale = frame_bgr, (1.0, 1.0)
        side = max(face.box.width, face.box.height) * self.mesh.scale
        if detail is not None and side < MESH_SIZE and max(detail.scale) > 1.0:
            image = detail.fetch()
            if image is not None:
                source = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
                scale = detail.scale
        sx, sy = scale
        started = time.perf_counter()
        result = self.mesh.read(
            source,
            face.box.scale(sx, sy),
            (k.right_eye[0] * sx, k.right_eye[1] * sy),
            (k.left_eye[0] * sx, k.left_eye[1] * sy),
        )
        self.reads += 1
        self.read_ms += (time.perf_counter() - started) * 1000
        if scale != (1.0, 1.0):
            points = result.points / np.array([sx, sy], np.float32)
            result = dataclasses.replace(result, points=points.astype(np.float32))
        openness = mesh_openness(result, self.rule)
        threshold = self.rule.threshold(face.box.height * sy)
        return count_open_eyes(openness, threshold), open_values(openness, threshold), result
