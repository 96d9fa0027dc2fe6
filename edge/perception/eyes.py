"""Eye state per face: the int8 eye-state model on two crops cut at the eye keypoints.

The model replaces OpenCV's Haar eye cascades, which read only ~30 % of open-eye faces as
two open eyes at booth sizes (an eye 10-20 px wide has too few pixels for a cascade
window, and smiling narrows eyes). Both eyes go through one invoke (input batch 2), and
every tensor is (de)quantized with the model's own scale and zero point.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.perception.crop import to_gray
from edge.perception.eye_crop import EYE_CROP_SIZE, crop_eyes, eye_geometry
from edge.perception.model_card import ModelCardError, open_checked
from edge.perception.runtime import dequantize, quantize
from edge.types import Box, Detail, Face, Keypoints

EyeProbabilities = tuple[float, float]  # P(open) of the person's right, left eye


class EyeStateModel:
    """Runs the shipped eye-state .tflite: (2, S, S) uint8 eye crops -> P(open) of each."""

    def __init__(self, model_path: str | Path, threads: int = 1, verify: bool = True) -> None:
        self.path = Path(model_path)
        self._interpreter, self.card = open_checked(self.path, threads, verify)
        detail = self._interpreter.get_input_details()[0]
        expected = [1, EYE_CROP_SIZE, EYE_CROP_SIZE, 1]
        if [int(v) for v in detail["shape"]] != expected:
            raise ModelCardError(f"{self.path}: input shape {detail['shape']}, expected {expected}")
        # Both eyes in one invoke: the model is saved with a free batch dimension.
        self._interpreter.resize_tensor_input(detail["index"], [2, *expected[1:]])
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        outputs = self._interpreter.get_output_details()
        if len(outputs) != 1:
            raise ModelCardError(f"{self.path}: expected one output (P(open)), got {len(outputs)}")
        self._output = outputs[0]
        if np.dtype(self._output["dtype"]) not in (np.dtype(np.int8), np.dtype(np.uint8)):
            raise ModelCardError(f"{self.path}: output {self._output['dtype']}, expected int8")
        # uint8 pixel -> the input tensor's value, from its own quantization: one lookup
        # per pixel instead of float arithmetic on every crop.
        self._lookup = quantize(np.arange(256, dtype=np.float32) / 255.0, self._input)
        # raw output byte -> P(open) as a Python float: a list lookup instead of dequantizing.
        raw_values = np.arange(256, dtype=np.uint8).view(self._output["dtype"])
        self._probability = np.clip(dequantize(raw_values, self._output), 0.0, 1.0).tolist()
        # Preallocated, so a reading allocates nothing: crops are cut straight into
        # `pixels` (see EyeReader) and quantized into the input buffer.
        self.pixels = np.empty((2, EYE_CROP_SIZE, EYE_CROP_SIZE), np.uint8)
        self._quantized = np.empty(self._input["shape"], self._input["dtype"])
        self._quantized_crops = self._quantized.reshape(self.pixels.shape)  # a view

    def open_probabilities(self, crops: np.ndarray) -> np.ndarray:
        """(2, S, S) uint8 crops -> (2,) float P(open)."""
        np.copyto(self.pixels, crops.reshape(self.pixels.shape))
        return np.array(self.read_pixels())

    def read_pixels(self) -> EyeProbabilities:
        """P(open) of the two crops now in `pixels`, as Python floats."""
        np.take(self._lookup, self.pixels, out=self._quantized_crops)
        self._interpreter.set_tensor(self._input["index"], self._quantized)
        self._interpreter.invoke()
        right, left = self._interpreter.get_tensor(self._output["index"]).tobytes()
        return self._probability[right], self._probability[left]


class EyeReader:
    """P(open) of both eyes of a detected face, from crops cut by edge.perception.eye_crop."""

    def __init__(self, model: EyeStateModel) -> None:
        self.model = model

    def read(
        self, gray: np.ndarray, face: Face, detail: Detail | None = None
    ) -> EyeProbabilities | None:
        """None when the face has no keypoints (nothing to cut). With `detail`, an eye too
        small in `gray` for the crop (its side under EYE_CROP_SIZE pixels) is cut from the
        full-resolution frame instead (`eyes_in_detail`)."""
        found = eyes_in_detail(detail, face) if detail is not None else None
        if found is not None:
            gray, face = found
        if crop_eyes(gray, face, out=self.model.pixels) is None:
            return None
        return self.model.read_pixels()


def eyes_in_detail(detail: Detail, face: Face) -> tuple[np.ndarray, Face] | None:
    """The region of the full-resolution frame around both eyes, in gray, and the face in
    its pixels; None when the model's frame holds the eyes well enough already.

    A 32 px face in a 640 px frame has 6 px eyes, cut up to a 24 px crop; the camera's
    1920 px frame holds them at 18 px, where the model is measured best. On 94 open-eyed
    faces of WIDER group photos (`evaluate.group_faces_eval`) cut from the 1.6x originals,
    80.8 % of the eyes of faces 32-48 px read open against 73.1 % from the 640 px frame.
    Only this region is converted to gray, a few hundred pixels a face."""
    geometry = eye_geometry(face)
    sx, sy = detail.scale
    if geometry is None or face.keypoints is None or max(sx, sy) <= 1.0:
        return None
    side = geometry[0]
    if side >= EYE_CROP_SIZE:
        return None
    keypoints = face.keypoints.scale(sx, sy)
    (rx, ry), (lx, ly) = keypoints.right_eye, keypoints.left_eye
    image = detail.fetch()
    if image is None:
        return None
    # One crop side beyond both eye centres: a turned square never leaves the region, so
    # the crop sees the frame's own pixels there (and its edge, replicated, at the frame's).
    margin = side * max(sx, sy)
    height, width = image.shape[:2]
    x1, y1 = max(0, int(min(rx, lx) - margin)), max(0, int(min(ry, ly) - margin))
    x2 = min(width, int(max(rx, lx) + margin) + 2)
    y2 = min(height, int(max(ry, ly) + margin) + 2)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    b = face.box
    moved = Face(
        Box(b.x1 * sx - x1, b.y1 * sy - y1, b.x2 * sx - x1, b.y2 * sy - y1),
        face.score,
        Keypoints(*((x - x1, y - y1) for x, y in keypoints.as_tuple())),
    )
    return to_gray(image[y1:y2, x1:x2]), moved


def count_open(probabilities: EyeProbabilities | None, threshold: float) -> int:
    """Eyes with P(open) above the threshold: 0, 1 or 2 (0 without a reading)."""
    if probabilities is None:
        return 0
    return sum(p > threshold for p in probabilities)
