"""One MediaPipe-style SSD face model: letterbox -> invoke -> decoded faces in frame pixels.

Both shipped detectors (full range, 192x192, and short range, 128x128) are run through this
class; `face_detector` (beside it) decides which runs where. The card says how the converter bounded
the head outputs (the decoder) and which anchor grid the model predicts on; the original
MediaPipe float files, which have no card, are recognised by their anchor count.
"""

from __future__ import annotations

from collections.abc import Sequence
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

# Anchor grids of the MediaPipe face models: the input side and the anchors they predict on.
FULL_RANGE_GRID: dict[str, Any] = {"input_size": 192, "strides": [4], "per_cell": [1]}
SHORT_RANGE_GRID: dict[str, Any] = {"input_size": 128, "strides": [8, 16], "per_cell": [2, 6]}


def grid_anchors(grid: dict[str, Any]) -> np.ndarray:
    return ssd_anchors(int(grid["input_size"]), tuple(grid["strides"]), tuple(grid["per_cell"]))


# The grids by the number of anchors a model outputs (2304 and 896): how a card-less
# original MediaPipe file is recognised.
ANCHOR_GRIDS: dict[int, dict[str, Any]] = {
    len(grid_anchors(grid)): grid for grid in (FULL_RANGE_GRID, SHORT_RANGE_GRID)
}


@dataclass(frozen=True)
class Head:
    """One output of a face model, per anchor: its role, width and what it holds."""

    role: str
    width: int
    what: str


# The two outputs of every MediaPipe face model (and of the int8 files made from them):
# box centre, size and six keypoints (x, y) per anchor, and one score logit per anchor.
REGRESSORS = Head("regressors", 4 + 2 * len(KEYPOINT_NAMES), "box and keypoint regressors")
SCORES = Head("scores", 1, "score logits")
HEADS = (REGRESSORS, SCORES)


def find_heads(
    outputs: Sequence[tuple[str, Sequence[int]]],
    source: str,
    names: dict[str, str] | None = None,
) -> dict[str, int]:
    """Where each head is among a model's (name, shape) outputs: {role: position}.

    By name where the file's names are known (`names`: role -> output name), else by
    width; the shape (1, anchors, width) is checked either way. A model shaped otherwise
    is a ValueError naming the source, the head expected and the outputs it has."""
    found: dict[str, int] = {}
    listed = ", ".join(f"{name!r} {list(shape)}" for name, shape in outputs) or "none"
    for head in HEADS:
        expected = f"(1, anchors, {head.width})"
        if names is not None:
            wanted = names[head.role]
            matches = [i for i, (name, _) in enumerate(outputs) if name == wanted]
            looked_for = f"an output named {wanted!r} ({head.what}, {expected})"
        else:
            matches = [
                i for i, (_, shape) in enumerate(outputs) if list(shape)[-1:] == [head.width]
            ]
            looked_for = f"one output of shape {expected} ({head.what})"
        shape = list(outputs[matches[0]][1]) if len(matches) == 1 else []
        if len(matches) != 1 or len(shape) != 3 or shape[0] != 1 or shape[2] != head.width:
            raise ValueError(f"{source}: expected {looked_for}; its outputs are {listed}")
        found[head.role] = matches[0]
    return found


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
    if height == width == size:  # already the model's input (a search's packed candidates)
        return frame_rgb, Letterbox(1.0, 0.0, 0.0, size)
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
        heads = find_heads([(d["name"], d["shape"]) for d in outputs], str(self.path))
        self._regressors = outputs[heads[REGRESSORS.role]]
        self._scores = outputs[heads[SCORES.role]]
        self.size = int(self._input["shape"][1])
        count = int(self._scores["shape"][1])
        grid = self.card.get("anchors") or ANCHOR_GRIDS.get(count)
        if grid is None:
            raise ValueError(f"{self.path}: {count} anchors, and no anchor grid in a card")
        self.anchors = grid_anchors(grid)
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
        bgr: bool = False,
    ) -> list[Face]:
        """Faces in `rgb` (a frame or a region cut from one at `offset`), frame pixels.
        `bgr`: the image is BGR, swapped to RGB only once at the model's input size."""
        square, box = letterbox(rgb, self.size)
        if bgr:
            square = cv2.cvtColor(square, cv2.COLOR_BGR2RGB)
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


# The shipped int8 detectors' input quantization: q = pixel - 128, standing for q / 128.
INT8_INPUT_SCALE = 1 / 128
INT8_INPUT_ZERO_POINT = 0


def mediapipe_input(square_rgb: np.ndarray) -> np.ndarray:
    """MediaPipe's own float preprocessing (its float files expect it): pixel / 127.5 - 1."""
    return square_rgb.astype(np.float32)[None] / 127.5 - 1.0


def int8_input_values(square_rgb: np.ndarray) -> np.ndarray:
    """The float values the shipped int8 input stands for, (pixel - 128) / 128: what the
    converter calibrates on, so that the int8 input is exactly pixel - 128 (`int8_input`)."""
    return (square_rgb.astype(np.float32)[None] - 128.0) / 128.0


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
    if (
        detail["dtype"] == np.int8
        and abs(scale - INT8_INPUT_SCALE) < 1e-7
        and zero_point == INT8_INPUT_ZERO_POINT
    ):
        return lambda rgb: np.bitwise_xor(rgb, 0x80)[None].view(np.int8)
    return None


def _input_writer(detail: dict[str, Any]) -> Any:
    """RGB uint8 (H, W, 3) -> the model's input tensor: the bit flip where it applies, else
    through float32 as MediaPipe preprocesses (`mediapipe_input`)."""
    dtype = detail["dtype"]
    scale, zero_point = detail["quantization"]
    fast = int8_input(detail)
    if fast is not None:
        return fast
    if dtype == np.float32:
        return mediapipe_input

    def quantized(rgb: np.ndarray) -> np.ndarray:
        x = mediapipe_input(rgb)
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(dtype)

    return quantized
