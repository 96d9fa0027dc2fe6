"""MediaPipe's SSD anchors, box decoding and weighted non-maximum suppression (numpy).

The full-range face model predicts, for each of 48x48 anchors (stride 4 on a 192x192
input, one fixed-size anchor per cell), a score logit and 16 regressors: box centre
offset, width, height, then six keypoints (x, y), all relative to the anchor.
"""

from __future__ import annotations

import numpy as np


def ssd_anchors(input_size: int, strides: tuple[int, ...], per_cell: tuple[int, ...]) -> np.ndarray:
    """Anchor centres (N, 2) in [0, 1], in the model's output order."""
    centres = []
    for stride, count in zip(strides, per_cell, strict=True):
        cells = int(np.ceil(input_size / stride))
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, count, axis=0))
    return np.concatenate(centres).astype(np.float32)


def decode(values: np.ndarray, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 16) regressors in units of the input side -> boxes (N, 4: x1, y1, x2, y2) and
    keypoints (N, 6, 2), both in [0, 1] coordinates of the model input."""
    cx = values[:, 0] + anchors[:, 0]
    cy = values[:, 1] + anchors[:, 1]
    half_w, half_h = values[:, 2] / 2, values[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    keypoints = values[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
    return boxes, keypoints


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(
    scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, iou_threshold: float
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's weighted NMS: each kept detection is the score-weighted mean of its cluster.

    Averaging the overlapping anchors' boxes (instead of keeping only the best one) makes
    boxes steadier from frame to frame and smooths int8 rounding of the regressors.
    """
    order = np.argsort(-scores)
    remaining = order
    kept = []
    while remaining.size:
        best = remaining[0]
        overlaps = box_iou(boxes[best], boxes[remaining])
        cluster = remaining[overlaps > iou_threshold]
        weights = scores[cluster][:, None]
        box = (boxes[cluster] * weights).sum(axis=0) / weights.sum()
        points = (keypoints[cluster] * weights[:, :, None]).sum(axis=0) / weights.sum()
        kept.append((float(scores[best]), box, points))
        remaining = remaining[overlaps <= iou_threshold]
    return kept
