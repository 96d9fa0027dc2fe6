"""One MediaPipe-style SSD face model: letterbox -> invoke -> decoded faces in frame pixels.

Both shipped detectors (full range, 192x192, and short range, 128x128) are run through this
class; `face_detector` (beside it) decides which runs where. The card says how the converter bounded
the head outputs (the decoder) and which anchor grid the model predicts on; the original
MediaPipe float files, which have no card, are recognised by their anchor count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.perception.anchors import decode, ssd_anchors, weighted_nms
from edge.perception.model_card import load_card, open_checked
from edge.perception.runtime import dequantize
from edge.types import KEYPOINT_NAMES, Box, Face, Keypoints

# Letterbox borders are black, as MediaPipe pads.
PAD_COLOUR = (0, 0, 0)

KEYPOINT_ORDER = KEYPOINT_NAMES  # the detector's output order: the Keypoints fields

# Anchor grids of the MediaPipe face models, by the number of anchors they output.
ANCHOR_GRIDS: dict[int, dict[str, Any]] = {
    2304: {"input_size": 192, "strides": [4], "per_cell": [1]},  # full range
    896: {"input_size": 128, "strides": [8, 16], "per_cell": [2, 6]},  # short range
}


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
    """Scale to fit (bilinear: INTER_AREA costs 20x more here and finds no more faces),
    centre, black borders."""
    height, width = frame_rgb.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = cv2.resize(frame_rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
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
# The original MediaPipe files output raw regressors in input pixels and raw logits.
def raw_decoder(input_size: int) -> dict[str, float]:
    return {
        "regressor_gain": 1 / input_size,
        "regressor_offset": 0.0,
        "logit_gain": 1.0,
        "logit_offset": 0.0,
    }


class DetectorModel:
    """A face model that returns faces (frame pixels) for an RGB frame or a region of one."""

    def __init__(self, model_path: str | Path, threads: int = 1, verify: bool = True) -> None:
        self.path = Path(model_path)
        self._interpreter, self.card = open_checked(self.path, threads, verify)
        self._input = self._interpreter.get_input_details()[0]
        if not verify and self.path.with_suffix(".card.json").exists():
            self.card = load_card(self.path)
        outputs = self._interpreter.get_output_details()
        self._regressors = next(d for d in outputs if d["shape"][-1] == 16)
        self._scores = next(d for d in outputs if d["shape"][-1] == 1)
        self.size = int(self._input["shape"][1])
        count = int(self._scores["shape"][1])
        grid = self.card.get("anchors") or ANCHOR_GRIDS.get(count)
        if grid is None:
            raise ValueError(f"{self.path}: {count} anchors, and no anchor grid in a card")
        self.anchors = ssd_anchors(
            int(grid["input_size"]), tuple(grid["strides"]), tuple(grid["per_cell"])
        )
        if len(self.anchors) != count:
            raise ValueError(
                f"{self.path}: the card's anchor grid gives {len(self.anchors)}, "
                f"the model outputs {count}"
            )
        self._decoder = self.card.get("decoder", raw_decoder(self.size))
        self._scores_of = _score_reader(self._scores, self._decoder)
        self._to_input = _input_writer(self._input)
        self.invokes = 0

    def _run(self, square_rgb: np.ndarray, score_threshold: float) -> tuple[np.ndarray, ...]:
        """(regressors, scores, anchors) of the anchors scoring at least the threshold.

        Scores come from a 256-entry table of the raw output byte (the same dequantize ->
        logit -> sigmoid, done once), and only the kept anchors' regressors are dequantized:
        a frame has a handful of candidates among 896-2304 anchors."""
        self._interpreter.set_tensor(self._input["index"], self._to_input(square_rgb))
        self._interpreter.invoke()
        self.invokes += 1
        raw_scores = self._interpreter.get_tensor(self._scores["index"])[0, :, 0]
        scores = self._scores_of(raw_scores)
        keep = np.flatnonzero(scores >= score_threshold)
        raw = self._interpreter.get_tensor(self._regressors["index"])[0, keep]
        d = self._decoder
        regressors = dequantize(raw, self._regressors) * d["regressor_gain"] + d["regressor_offset"]
        return regressors, scores[keep], self.anchors[keep]

    def detect(
        self,
        rgb: np.ndarray,
        score_threshold: float,
        nms_iou: float,
        offset: tuple[float, float] = (0.0, 0.0),
    ) -> list[Face]:
        """Faces in `rgb` (a frame or a region cut from one at `offset`), frame pixels."""
        square, box = letterbox(rgb, self.size)
        regressors, scores, anchors = self._run(square, score_threshold)
        if not scores.size:
            return []
        boxes, points = decode(regressors, anchors)
        faces = []
        ox, oy = offset
        for score, b, p in weighted_nms(scores, boxes, points, nms_iou):
            x1, y1 = box.to_frame(b[0], b[1])
            x2, y2 = box.to_frame(b[2], b[3])
            px, py = box.to_frame(p[:, 0], p[:, 1])
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


def _score_reader(detail: dict[str, Any], decoder: dict[str, float]) -> Any:
    """Raw score outputs -> anchor scores: dequantize, logit, sigmoid. For an 8-bit output
    (the shipped files) a 256-entry table computed once; for a float one (MediaPipe's
    original files) the same arithmetic on every call."""

    def scores(raw: np.ndarray) -> np.ndarray:
        logits = dequantize(raw, detail) * decoder["logit_gain"] + decoder["logit_offset"]
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))

    if np.dtype(detail["dtype"]).itemsize != 1:
        return scores
    table = scores(np.arange(256, dtype=np.uint8).view(detail["dtype"]))
    return lambda raw: table[raw.view(np.uint8)]


def int8_input(detail: dict[str, Any]) -> Any:
    """For an int8 input of scale 1/128 and zero point 0, q = pixel - 128: the pixel's top
    bit flipped, no float at all (the shipped detectors are converted so). Else None."""
    scale, zero_point = detail["quantization"]
    if detail["dtype"] == np.int8 and abs(scale - 1 / 128) < 1e-7 and zero_point == 0:
        return lambda rgb: np.bitwise_xor(rgb, 0x80)[None].view(np.int8)
    return None


def _input_writer(detail: dict[str, Any]) -> Any:
    """RGB uint8 (H, W, 3) -> the model's input tensor: the bit flip where it applies, else
    through float32 as MediaPipe preprocesses (pixel / 127.5 - 1)."""
    dtype = detail["dtype"]
    scale, zero_point = detail["quantization"]
    fast = int8_input(detail)
    if fast is not None:
        return fast
    if dtype == np.float32:
        return lambda rgb: rgb.astype(np.float32)[None] / 127.5 - 1.0

    def quantized(rgb: np.ndarray) -> np.ndarray:
        x = rgb.astype(np.float32)[None] / 127.5 - 1.0
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(dtype)

    return quantized
