"""The YuNet face model: frame -> int8 input -> invoke -> decoded faces in frame pixels.

YuNet (OpenCV Zoo, MIT) is anchor-free: at strides 8, 16 and 32 each cell of the input
predicts a score, a box and five keypoints. The shipped int8 file (`convert.yunet`) outputs,
per stride, the map of cls x obj (the score is its square root), the box map (centre offset
in cells, log width and height in strides) and the keypoint map (offsets in cells). Its
input takes any size that is a multiple of 32: one interpreter is kept per input size in
use, so the whole frame (640 px wide), a tracked face's square (TRACK_SIZE) and a doubtful
face's second look (CONFIRM_SIZE) each keep theirs and nothing is re-allocated from one
frame to the next.

Decoding follows OpenCV's `cv::FaceDetectorYN` (the reference it is tested against): a cell
(r, c) at stride s gives centre ((c + dx) s, (r + dy) s), size (exp(dw) s, exp(dh) s),
keypoints ((c + kx) s, (r + ky) s); boxes over the score threshold go through plain NMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.perception.model_card import load_card, open_checked
from edge.perception.runtime import dequantize, make_interpreter
from edge.types import Box, Face, Keypoints

STRIDES = (8, 16, 32)
INPUT_MULTIPLE = 32  # the input's sides must be multiples of the largest stride
WHOLE_FRAME_WIDTH = 640  # the whole-frame pass: the frame's longest side at this size
# A tracked face's square (2.2 face sizes) at this size, the face ~87 px. On 100 WIDER
# group photos panned as video, 128 / 160 / 192: faces >= 32 px found 95.4 / 95.5 / 95.9 %,
# >= 48 px 93.5 / 93.8 / 94.7 %, 13.2 / 13.2 / 11.1 false per 100 frames, eyes read as the
# photo pass reads them on still groups 77.7 / 78.0 / 79.4 %; 0.15 / 0.23 / 0.33 ms a look.
TRACK_SIZE = 192
# A doubtful face's second look in the thorough pass: its square at this size, the face
# ~58 px, where YuNet scores a real face surely and a dog's face under 0.3.
CONFIRM_SIZE = 128
NMS_IOU = 0.3  # FaceDetectorYN's default
PAD_VALUE = 0  # FaceDetectorYN pads the bottom and right with black


def fit_input(frame_bgr: np.ndarray, longest: int) -> tuple[np.ndarray, float]:
    """The frame scaled so its longest side is `longest` (if it is not already), padded
    bottom and right to multiples of INPUT_MULTIPLE: (input image, model px per frame px)."""
    height, width = frame_bgr.shape[:2]
    scale = longest / max(height, width)
    if abs(scale - 1.0) > 1e-6:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame_bgr = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_LINEAR)
    h, w = frame_bgr.shape[:2]
    pad_h, pad_w = -h % INPUT_MULTIPLE, -w % INPUT_MULTIPLE
    if pad_h or pad_w:
        frame_bgr = cv2.copyMakeBorder(
            frame_bgr, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
        )
    return frame_bgr, scale


@dataclass(frozen=True)
class _Outputs:
    """The nine output tensors' details, by stride: (score, box, points)."""

    by_stride: dict[int, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]


def _find_outputs(details: list[dict[str, Any]], height: int, width: int, source: str) -> _Outputs:
    """Which output is which, by shape: (1, H/s, W/s, 1 | 4 | 10) for s in STRIDES."""
    found: dict[int, dict[int, dict[str, Any]]] = {}
    for detail in details:
        shape = [int(v) for v in detail["shape"]]
        if len(shape) != 4 or shape[3] not in (1, 4, 10) or shape[1] == 0:
            continue
        stride = height // shape[1]
        found.setdefault(stride, {})[shape[3]] = detail
    by_stride = {}
    for stride in STRIDES:
        maps = found.get(stride, {})
        if sorted(maps) != [1, 4, 10]:
            shapes = [list(d["shape"]) for d in details]
            raise ValueError(
                f"{source}: expected score (1), box (4) and keypoint (10) maps at stride "
                f"{stride} for a {width}x{height} input; its outputs are {shapes}"
            )
        by_stride[stride] = (maps[1], maps[4], maps[10])
    return _Outputs(by_stride)


class _SizedInterpreter:
    """One interpreter with its input fixed at one size, and its outputs found."""

    def __init__(self, path: Path, threads: int, height: int, width: int) -> None:
        self.interpreter = make_interpreter(path, threads)
        detail = self.interpreter.get_input_details()[0]
        self.interpreter.resize_tensor_input(detail["index"], [1, height, width, 3], strict=False)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.outputs = _find_outputs(
            self.interpreter.get_output_details(), height, width, str(path)
        )
        self.shape = (height, width)


class YuNetModel:
    """Faces (frame pixels) for a BGR frame or a region of one."""

    def __init__(self, model_path: str | Path, threads: int = 1, verify: bool = True) -> None:
        self.path = Path(model_path)
        probe, self.card = open_checked(self.path, threads, verify)
        if not verify and self.path.with_suffix(".card.json").exists():
            self.card = load_card(self.path)
        detail = probe.get_input_details()[0]
        if detail["dtype"] != np.int8 or tuple(detail["quantization"]) != (1.0, -128):
            raise ValueError(
                f"{self.path}: expected an int8 BGR input with scale 1 and zero point -128 "
                f"(int8 = pixel - 128), found {np.dtype(detail['dtype']).name} "
                f"{detail['quantization']}"
            )
        del probe
        self.threads = threads
        self._sized: dict[str, _SizedInterpreter] = {}
        self._tables: dict[tuple[float, int], np.ndarray] = {}
        self.invokes = 0

    def _interpreter(self, role: str, height: int, width: int) -> _SizedInterpreter:
        """The interpreter kept for `role` ("whole" or "look"), at this input size (made
        again only when the size changes: a new source, a photo of another shape)."""
        sized = self._sized.get(role)
        if sized is None or sized.shape != (height, width):
            sized = _SizedInterpreter(self.path, self.threads, height, width)
            self._sized[role] = sized
        return sized

    def _score_table(self, detail: dict[str, Any]) -> np.ndarray:
        """Raw int8 score product -> score: sqrt(clamp(product, 0, 1)), once per scale."""
        scale, zero_point = detail["quantization"]
        key = (float(scale), int(zero_point))
        if key not in self._tables:
            raw = np.arange(-128, 128, dtype=np.int8)
            product = dequantize(raw, detail).clip(0.0, 1.0)
            table = np.sqrt(product).astype(np.float32)
            self._tables[key] = np.roll(table, -128)  # index by the byte's uint8 view
        return self._tables[key]

    def detect(
        self,
        image_bgr: np.ndarray,
        score_threshold: float,
        role: str = "whole",
        scale: float = 1.0,
        offset: tuple[float, float] = (0.0, 0.0),
    ) -> list[Face]:
        """Faces in `image_bgr`, an input-ready image (sides multiples of 32, from
        `fit_input` or a resized square): boxes mapped back by 1/scale and moved by
        `offset` into the frame's pixels."""
        height, width = image_bgr.shape[:2]
        sized = self._interpreter(role, height, width)
        tensor = np.bitwise_xor(image_bgr, 0x80)[None].view(np.int8)
        sized.interpreter.set_tensor(sized.input["index"], tensor)
        sized.interpreter.invoke()
        self.invokes += 1
        boxes, scores, points = [], [], []
        get = sized.interpreter.get_tensor
        for stride, (score_d, box_d, point_d) in sized.outputs.by_stride.items():
            raw = get(score_d["index"])[0, :, :, 0]
            score = self._score_table(score_d)[raw.view(np.uint8)]
            rows, cols = np.nonzero(score >= score_threshold)
            if not rows.size:
                continue
            b = dequantize(get(box_d["index"])[0, rows, cols], box_d)
            k = dequantize(get(point_d["index"])[0, rows, cols], point_d)
            cx, cy = (cols + b[:, 0]) * stride, (rows + b[:, 1]) * stride
            w, h = np.exp(b[:, 2]) * stride, np.exp(b[:, 3]) * stride
            boxes.append(np.stack([cx - w / 2, cy - h / 2, w, h], axis=1))
            kx = (k[:, 0::2] + cols[:, None]) * stride
            ky = (k[:, 1::2] + rows[:, None]) * stride
            points.append(np.stack([kx, ky], axis=2))
            scores.append(score[rows, cols])
        if not boxes:
            return []
        return _nms_faces(
            np.concatenate(boxes), np.concatenate(scores), np.concatenate(points), scale, offset
        )


def _nms_faces(
    boxes: np.ndarray,
    scores: np.ndarray,
    points: np.ndarray,
    scale: float,
    offset: tuple[float, float],
) -> list[Face]:
    """Plain NMS (as FaceDetectorYN), then input pixels -> frame pixels."""
    keep = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), 0.0, NMS_IOU)
    ox, oy = offset
    faces = []
    for i in np.asarray(keep, dtype=int).reshape(-1):
        x, y, w, h = (float(v) / scale for v in boxes[i])
        keypoints = Keypoints(
            *((float(px) / scale + ox, float(py) / scale + oy) for px, py in points[i])
        )
        faces.append(Face(Box(x + ox, y + oy, x + w + ox, y + h + oy), float(scores[i]), keypoints))
    return faces


__all__ = ["CONFIRM_SIZE", "STRIDES", "TRACK_SIZE", "WHOLE_FRAME_WIDTH", "YuNetModel", "fit_input"]
