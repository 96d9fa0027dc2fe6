"""OpenCV's own YuNet: `cv2.FaceDetectorYN` on the float ONNX file, as a `detect` callable.

The reference the int8 file is gated and measured against: the same input (the frame's
longest side at 640 px, padded to multiples of 32 by `fit_input`), OpenCV's decoder and NMS.
numpy/OpenCV only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from edge.perception.yunet_model import NMS_IOU, WHOLE_FRAME_WIDTH, fit_input
from edge.types import Box, Face, Keypoints


def float_detector(onnx_path: Path, score_threshold: float) -> Callable[[np.ndarray], list[Face]]:
    """BGR frame -> faces in frame pixels, by OpenCV's FaceDetectorYN on the ONNX file."""
    detector = cv2.FaceDetectorYN.create(
        str(onnx_path), "", (WHOLE_FRAME_WIDTH, WHOLE_FRAME_WIDTH), score_threshold, NMS_IOU, 5000
    )

    def detect(frame_bgr: np.ndarray) -> list[Face]:
        if frame_bgr.ndim == 2:
            frame_bgr = cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
        image, scale = fit_input(frame_bgr, WHOLE_FRAME_WIDTH)
        detector.setInputSize((image.shape[1], image.shape[0]))
        _, rows = detector.detect(image)
        faces = []
        for row in rows if rows is not None else []:
            x, y, w, h = (float(v) / scale for v in row[:4])
            points = Keypoints(
                *((float(row[4 + 2 * i]) / scale, float(row[5 + 2 * i]) / scale) for i in range(5))
            )
            faces.append(Face(Box(x, y, x + w, y + h), float(row[14]), points))
        return faces

    return detect
