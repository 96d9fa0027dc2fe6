"""Face detection with the int8 MediaPipe full-range model (or its float original).

The frame is letterboxed to the model's square input, the model's anchors are decoded
and merged by weighted NMS, and boxes and keypoints are mapped back to frame pixels. The
decoder's constants (how the converter bounded the head outputs) come from the model card.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.anchors import FULL_RANGE_ANCHORS, decode, weighted_nms
from edge.model_card import load_card, verify_hash, verify_model
from edge.runtime import dequantize, make_interpreter, quantize
from edge.types import Box, Face, Keypoints

# Letterbox borders are black, as MediaPipe pads. (Mid-grey borders were measured too:
# the float model does as well, the int8 one worse: 38/43 faces on faces-dlib, not 43/43.)
PAD_COLOUR = (0, 0, 0)


@dataclass(frozen=True)
class Letterbox:
    """How a frame was scaled and padded into the model's square input."""

    scale: float  # model pixels per frame pixel
    pad_x: float
    pad_y: float
    size: int

    def to_frame(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalised model coordinates -> frame pixels."""
        return (x * self.size - self.pad_x) / self.scale, (y * self.size - self.pad_y) / self.scale


def letterbox(frame_rgb: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    height, width = frame_rgb.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(frame_rgb, (new_w, new_h), interpolation=interpolation)
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    square = cv2.copyMakeBorder(
        resized,
        pad_y,
        size - new_h - pad_y,
        pad_x,
        size - new_w - pad_x,
        cv2.BORDER_CONSTANT,
        value=PAD_COLOUR,
    )
    return square, Letterbox(scale, float(pad_x), float(pad_y), size)


# How to turn output values y into regressors (units of the input side) and score logits:
# regressor = y * regressor_gain + regressor_offset; logit = y * logit_gain + logit_offset.
# The original MediaPipe file outputs raw regressors in input pixels and raw logits.
RAW_DECODER = {
    "regressor_gain": 1 / 192,
    "regressor_offset": 0.0,
    "logit_gain": 1.0,
    "logit_offset": 0.0,
}


class FaceDetector:
    """Finds faces and their six keypoints in BGR frames of any size."""

    def __init__(
        self,
        model_path: str | Path,
        threads: int = 1,
        score_threshold: float = 0.5,
        nms_iou: float = 0.3,
        tiles: bool = False,
        verify: bool = True,
    ) -> None:
        self.path = Path(model_path)
        if verify:  # a corrupted file must be refused before the runtime parses it
            verify_hash(self.path)
        self._interpreter = make_interpreter(self.path, threads)
        self._input = self._interpreter.get_input_details()[0]
        self.card: dict[str, Any] = verify_model(self.path, self._input) if verify else {}
        if not verify and self.path.with_suffix(".card.json").exists():
            self.card = load_card(self.path)
        self._decoder = self.card.get("decoder", RAW_DECODER)
        outputs = self._interpreter.get_output_details()
        self._regressors = next(d for d in outputs if d["shape"][-1] == 16)
        self._scores = next(d for d in outputs if d["shape"][-1] == 1)
        self.size = int(self._input["shape"][1])
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.tiles = tiles

    def _run(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = rgb.astype(np.float32)[None] / 127.5 - 1.0
        self._interpreter.set_tensor(self._input["index"], quantize(x, self._input))
        self._interpreter.invoke()
        d = self._decoder
        y = dequantize(self._interpreter.get_tensor(self._regressors["index"]), self._regressors)
        regressors = y[0] * d["regressor_gain"] + d["regressor_offset"]
        y = dequantize(self._interpreter.get_tensor(self._scores["index"]), self._scores)
        logits = y[0, :, 0] * d["logit_gain"] + d["logit_offset"]
        return regressors, 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))

    def _detect_square(self, frame_rgb: np.ndarray, offset: tuple[int, int]) -> list[Face]:
        square, box = letterbox(frame_rgb, self.size)
        regressors, scores = self._run(square)
        keep = scores >= self.score_threshold
        if not keep.any():
            return []
        boxes, points = decode(regressors[keep], FULL_RANGE_ANCHORS[keep])
        faces = []
        for score, b, p in weighted_nms(scores[keep], boxes, points, self.nms_iou):
            x1, y1 = box.to_frame(b[0], b[1])
            x2, y2 = box.to_frame(b[2], b[3])
            px, py = box.to_frame(p[:, 0], p[:, 1])
            ox, oy = offset
            keypoints = Keypoints(
                *((float(x + ox), float(y + oy)) for x, y in zip(px, py, strict=True))
            )
            faces.append(
                Face(
                    Box(float(x1 + ox), float(y1 + oy), float(x2 + ox), float(y2 + oy)),
                    score,
                    keypoints,
                )
            )
        return faces

    def detect(self, frame_bgr: np.ndarray) -> tuple[Face, ...]:
        """All faces in the frame, boxes clipped to it, most confident first."""
        bgr: np.ndarray | None = frame_bgr
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or min(frame_bgr.shape[:2]) < 8:
            bgr = _as_bgr(frame_bgr)
        if bgr is None:
            return ()
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        faces = self._detect_square(rgb, (0, 0))
        if self.tiles:
            faces = _merge(faces + self._detect_tiles(rgb), self.nms_iou)
        height, width = bgr.shape[:2]
        clipped = [_clip(face, width, height) for face in faces]
        return tuple(sorted((f for f in clipped if f.box.area > 0), key=lambda f: -f.score))

    def _detect_tiles(self, rgb: np.ndarray) -> list[Face]:
        """2x2 overlapping tiles: each face is seen ~2x larger, for faces far away."""
        height, width = rgb.shape[:2]
        tile_w, tile_h = int(width * 0.6), int(height * 0.6)
        found = []
        for y in (0, height - tile_h):
            for x in (0, width - tile_w):
                found += self._detect_square(rgb[y : y + tile_h, x : x + tile_w], (x, y))
        return found


def _as_bgr(frame: np.ndarray) -> np.ndarray | None:
    """Gray or BGRA frames -> BGR; None for frames that cannot hold a face."""
    if frame.ndim < 2 or frame.size == 0 or min(frame.shape[:2]) < 8:
        return None
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return None


def _clip(face: Face, width: int, height: int) -> Face:
    b = face.box
    box = Box(max(0.0, b.x1), max(0.0, b.y1), min(float(width), b.x2), min(float(height), b.y2))
    return Face(box, face.score, face.keypoints)


def _merge(faces: list[Face], iou: float) -> list[Face]:
    """Keep the most confident of overlapping detections from the frame and its tiles."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(face.box.iou(other.box) <= iou for other in kept):
            kept.append(face)
    return kept
