"""The face mesh stage: MediaPipe's Face Landmarker models (478 points, 52 blendshapes) run
on a rotated square cut from the detector's box and eye line.

Why: the eye-state CNN reads many laughing (narrowed) and small eyes as closed; the
landmarker's blendshapes, trained on far more faces, tell `eyeBlink` from `eyeSquint`.
Only the face box and the two eye points are used (every detector the project may use
has those), in MediaPipe's own rule: a square of `scale` x the box's longer side around
its centre, turned so the eye line is level (face_landmarker_graph.cc: 1.5). The mesh
model sees that square at 256x256 RGB 0-1; its points are mapped back to the frame, and
146 of them, in frame pixels, go to the blendshape model (face_blendshapes_graph.cc).
Checked against the `mediapipe` wheel on the same crops: tests/test_face_mesh.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.perception.model_card import ModelCardError, open_checked
from edge.perception.runtime import dequantize, quantize
from edge.types import Box, MeshResult, Point

MESH_SIZE = 256  # the mesh model's input side
POINTS = 478
MEDIAPIPE_SCALE = 1.5  # the landmarker's square: 1.5 x its detector's box

# The 146 mesh points the blendshape model reads, in its order (kLandmarksSubsetIdxs).
BLENDSHAPE_POINTS: tuple[int, ...] = (
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63,
    65, 66, 67, 70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132,
    133, 136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161,
    162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251, 263,
    267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310,
    311, 312, 314, 317, 318, 321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373,
    374, 375, 377, 378, 379, 380, 381, 382, 384, 385, 386, 387, 388, 389, 390, 397, 398,
    400, 402, 405, 409, 415, 454, 466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
)  # fmt: skip

# The blendshape model's 52 outputs, in order (ARKit names; "Left" is the person's left).
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight",
)  # fmt: skip
BLENDSHAPE_INDEX = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}

# The features drawn by --annotate and the page, as point paths around the mesh (eyes and
# lips closed loops; every step is an edge of MediaPipe's own face-mesh topology).
MESH_OUTLINES: dict[str, tuple[int, ...]] = {
    "right_eye": (
        33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246, 33,
    ),
    "left_eye": (
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466, 263,
    ),
    "right_brow": (46, 53, 52, 65, 55),
    "right_brow_top": (70, 63, 105, 66, 107),
    "left_brow": (276, 283, 282, 295, 285),
    "left_brow_top": (300, 293, 334, 296, 336),
    "nose_bridge": (168, 6, 197, 195, 5, 4, 1, 19, 94, 2),
    "nose_base": (4, 45, 220, 115, 48, 64, 98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 4),
    "lips_outer": (
        61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40,
        185, 61,
    ),
    "lips_inner": (
        78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80,
        191, 78,
    ),
}  # fmt: skip
IRISES = (468, 473)  # the centres of the person's right and left iris


@dataclass(frozen=True)
class MeshRoi:
    """The square the mesh model sees: centre and side in frame pixels, turn in radians."""

    cx: float
    cy: float
    side: float
    angle: float

    def to_crop(self) -> np.ndarray:
        """2x3 affine: frame pixels -> crop pixels (its corners at 0 and MESH_SIZE, as
        MediaPipe's ImageToTensor maps the rotated rectangle's corners)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        k = MESH_SIZE / self.side
        rotate = np.array([[c, s], [-s, c]]) * k  # R(angle) transposed, scaled
        shift = MESH_SIZE / 2 - rotate @ np.array([self.cx, self.cy])
        return np.hstack([rotate, shift[:, None]])

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) crop pixels -> frame pixels (MediaPipe's LandmarkProjection)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        rotate = np.array([[c, -s], [s, c]], np.float32) * (self.side / MESH_SIZE)
        centred = points - MESH_SIZE / 2
        return centred @ rotate.T + np.array([self.cx, self.cy], np.float32)


def mesh_roi(box: Box, right_eye: Point, left_eye: Point, scale: float) -> MeshRoi:
    """The crop rule: `scale` x the box's longer side around its centre, turned by the eye
    line (the person's right eye is on the image's left)."""
    angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
    cx, cy = box.center
    return MeshRoi(cx, cy, max(box.width, box.height) * scale, angle)


def blendshape(result: MeshResult, name: str) -> float:
    """One named score of a mesh reading."""
    return float(result.blendshapes[BLENDSHAPE_INDEX[name]])


class _Model:
    """One checked interpreter with float or int8 tensors, (de)quantized by their own
    scale and zero point, so the float bundle and the int8 conversion run the same way."""

    def __init__(self, path: Path, threads: int, verify: bool, shape: list[int]) -> None:
        self.path = path
        self.interpreter, self.card = open_checked(path, threads, verify)
        self.input = self.interpreter.get_input_details()[0]
        if [int(v) for v in self.input["shape"]] != shape:
            raise ModelCardError(f"{path}: input shape {self.input['shape']}, expected {shape}")
        self.outputs = self.interpreter.get_output_details()

    def run(self, values: np.ndarray) -> list[np.ndarray]:
        self.interpreter.set_tensor(self.input["index"], quantize(values, self.input))
        self.interpreter.invoke()
        return [
            dequantize(self.interpreter.get_tensor(o["index"]), o).reshape(-1) for o in self.outputs
        ]


class FaceMesh:
    """The mesh and blendshape models: a face (box + eyes) in a BGR frame -> MeshResult."""

    def __init__(
        self,
        mesh_model: str | Path,
        blendshape_model: str | Path,
        threads: int = 1,
        scale: float = MEDIAPIPE_SCALE,
        verify: bool = True,
    ) -> None:
        self.mesh = _Model(Path(mesh_model), threads, verify, [1, MESH_SIZE, MESH_SIZE, 3])
        self.blend = _Model(Path(blendshape_model), threads, verify, [1, len(BLENDSHAPE_POINTS), 2])
        sizes = sorted((int(np.prod(o["shape"])), i) for i, o in enumerate(self.mesh.outputs))
        if sizes[-1][0] != POINTS * 3:
            raise ModelCardError(f"{self.mesh.path}: no {POINTS * 3}-value landmark output")
        self._points = sizes[-1][1]
        # An int8 mesh outputs each point less the mean face (its card says by how much):
        # one int8 scale then spans the points' spread, not the whole crop.
        offset = self.mesh.card.get("landmark_offset")
        self._offset = np.zeros(POINTS * 3, np.float32) if offset is None else np.array(offset)
        if self._offset.shape != (POINTS * 3,):
            raise ModelCardError(f"{self.mesh.path}: landmark_offset must hold {POINTS * 3} values")
        self._presence = _presence_output(self.mesh)
        self.scale = scale
        self._subset = np.array(BLENDSHAPE_POINTS)

    @property
    def cards(self) -> dict[str, dict]:
        return {"face_mesh": self.mesh.card, "blendshapes": self.blend.card}

    def crop(self, frame_bgr: np.ndarray, roi: MeshRoi) -> np.ndarray:
        """The mesh model's input: the ROI at 256x256, RGB 0-1, outside the frame black."""
        square = cv2.warpAffine(
            frame_bgr,
            roi.to_crop(),
            (MESH_SIZE, MESH_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
        return cv2.cvtColor(square, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0

    def read(
        self, frame_bgr: np.ndarray, box: Box, right_eye: Point, left_eye: Point
    ) -> MeshResult:
        """The mesh of one face, points in the frame's pixels."""
        return self.read_roi(frame_bgr, mesh_roi(box, right_eye, left_eye, self.scale))

    def read_roi(self, frame_bgr: np.ndarray, roi: MeshRoi) -> MeshResult:
        outputs = self.mesh.run(self.crop(frame_bgr, roi)[None])
        crop_points = (outputs[self._points] + self._offset).reshape(POINTS, 3)[:, :2]
        points = roi.to_frame(crop_points).astype(np.float32)
        presence = 1.0 / (1.0 + math.exp(-float(outputs[self._presence][0])))
        return MeshResult(points, presence, self.blendshapes(points))

    def blendshapes(self, points: np.ndarray) -> np.ndarray:
        """52 scores from 478 (x, y) points in image pixels (the subset picked here)."""
        subset = points[self._subset].astype(np.float32)[None]
        return self.blend.run(subset)[0].astype(np.float32)


def _presence_output(model: _Model) -> int:
    """The face-presence logit: the mesh model's (1, 1, 1, 1) output (its (1, 1) one is
    unused by MediaPipe's graph), found by shape since the names are generic."""
    for index, output in enumerate(model.outputs):
        if len(output["shape"]) == 4 and int(np.prod(output["shape"])) == 1:
            return index
    raise ModelCardError(f"{model.path}: no (1, 1, 1, 1) face-presence output")
