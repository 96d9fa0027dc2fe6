"""What `convert face-detector` measures on the saved int8 file, and the card it writes.

numpy/OpenCV only (no TensorFlow): the int8 file runs through the edge app's own
FaceDetector, next to the float original, on real photos and videos.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.detection_eval import agreement, faces_dlib, recall_report, video_frames
from edge.face_detector import FaceDetector
from edge.model_card import sha256_of


def score_bias(int8: FaceDetector, original: FaceDetector, frames: list[np.ndarray]) -> float:
    """Median (float - int8) score logit where the float model is near a decision: how far
    int8 scores drift from float ones (reported in the card; near 0 is what we want)."""
    differences = []
    for frame in frames:
        float_scores, int8_scores = original._run(frame)[1], int8._run(frame)[1]
        float_logits = _logit(float_scores)
        near = (float_logits > -2.0) & (float_logits < 8.0)
        differences.append(float_logits[near] - _logit(int8_scores[near]))
    return float(np.median(np.concatenate(differences)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def latency_ms(detector: FaceDetector, image: np.ndarray, runs: int = 200) -> dict[str, float]:
    """p50/p95 of one invoke and of a whole detect() call on a real photo."""
    interpreter = detector._interpreter
    for _ in range(10):
        detector.detect(image)
    invokes, detects = [], []
    for _ in range(runs):
        started = time.perf_counter()
        interpreter.invoke()
        invokes.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        detector.detect(image)
        detects.append((time.perf_counter() - started) * 1000)
    return {
        "invoke_p50": float(np.percentile(invokes, 50)),
        "invoke_p95": float(np.percentile(invokes, 95)),
        "detect_p50": float(np.percentile(detects, 50)),
        "detect_p95": float(np.percentile(detects, 95)),
        "image": f"{image.shape[1]}x{image.shape[0]}",
    }


def measure(int8: FaceDetector, original: FaceDetector, media: Path) -> dict[str, Any]:
    photos = [cv2.imread(str(item.path)) for item in faces_dlib(media)]
    frames = (
        photos
        + video_frames(media / "video" / "crowd_1080p.mp4", every=10)
        + video_frames(media / "video" / "stage_360p.mp4", every=25)
    )
    blink = video_frames(media / "video" / "blink_portrait.mp4")
    return {
        "faces_dlib_recall": {
            "int8": recall_report(int8.detect, media),
            "float": recall_report(original.detect, media),
        },
        "int8_vs_float": agreement(original.detect, int8.detect, frames),
        "blink_portrait_frames_with_a_face": {
            "int8": sum(1 for frame in blink if int8.detect(frame)),
            "float": sum(1 for frame in blink if original.detect(frame)),
            "frames": len(blink),
        },
        "score_threshold": int8.score_threshold,
    }


def build_card(
    path: Path, source: dict[str, str], decoder: dict[str, Any], extra: dict[str, Any]
) -> dict[str, Any]:
    from edge.runtime import make_interpreter

    interpreter = make_interpreter(path)
    detail = interpreter.get_input_details()[0]
    outputs = {
        d["name"]: {
            "shape": [int(v) for v in d["shape"]],
            "dtype": d["dtype"].__name__,
            "quantization": list(d["quantization"]),
        }
        for d in interpreter.get_output_details()
    }
    return {
        "name": "MediaPipe face detection, full range, full int8",
        "file": path.name,
        "sha256": sha256_of(path),
        "size_bytes": path.stat().st_size,
        "source": source,
        "input": {
            "shape": [int(v) for v in detail["shape"]],
            "dtype": detail["dtype"].__name__,
            "quantization": list(detail["quantization"]),
            "preprocessing": "RGB, letterboxed (scaled to fit, centred, black borders) to "
            "192x192; float input pixel/127.5 - 1, int8 via the tensor's "
            "quantization",
        },
        "outputs": outputs,
        **extra,
        "decoder": {
            **decoder,
            **extra.get("decoder", {}),
            "anchors": "48x48, stride 4, 1 per cell",
            "keypoints": [
                "right_eye",
                "left_eye",
                "nose_tip",
                "mouth_center",
                "right_ear",
                "left_ear",
            ],
        },
    }


def write_markdown(card: dict[str, Any], path: Path, bounds: tuple[float, float]) -> None:
    regressor_bound, logit_bound = bounds
    m = card["metrics"]
    recall, agree, blink = (
        m["faces_dlib_recall"],
        m["int8_vs_float"],
        m["blink_portrait_frames_with_a_face"],
    )
    lat = card["latency_ms"]
    path.write_text(
        f"# Face detector card\n\n`{card['file']}` — sha256 `{card['sha256']}`, "
        f"{card['size_bytes']} bytes, full int8 (int8 input, outputs, weights, activations).\n\n"
        f"- Source: `{card['source']['member']}` from the `{card['source']['package']}` wheel "
        f"(sha256 `{card['source']['member_sha256'][:16]}…`), rebuilt from its own tensors "
        f"(rebuild error: {card['rebuild_check']}).\n"
        f"- Input: {card['input']['shape']} int8; {card['input']['preprocessing']}.\n"
        f"- Outputs: each head's last convolution rescaled onto [0, 6] with a fused RELU6: "
        f"regressors bounded to ±{regressor_bound} × 192 px, score logits to ±{logit_bound}; "
        f"the decoder undoes it with the card's `decoder` constants.\n"
        f"- Calibration: 160 real frames from ../shared/media (photos and videos); activation "
        f"ranges then clipped to the 0.1/99.9 % percentiles of 60 of them "
        f"(convert/tflite_calibration.py). Median float − int8 logit near decisions: "
        f"{card['median_float_minus_int8_logit']:.2f}.\n\n"
        f"| measured (threshold {m['score_threshold']}) | float original | int8 (this file) |\n"
        f"|---|---|---|\n"
        f"| faces-dlib recall at IoU ≥ 0.4 | {recall['float']['found']}/{recall['float']['faces']}"
        f" | {recall['int8']['found']}/{recall['int8']['faces']} |\n"
        f"| extra detections on faces-dlib | {recall['float']['extra_detections']} | "
        f"{recall['int8']['extra_detections']} |\n"
        f"| faces on dogs.jpg | {recall['float']['dogs_detections']} | "
        f"{recall['int8']['dogs_detections']} |\n"
        f"| blink_portrait.mp4 frames with a face | {blink['float']}/{blink['frames']} | "
        f"{blink['int8']}/{blink['frames']} |\n\n"
        f"int8 vs float boxes on {agree['images']} real images and frames: {agree['matched']} "
        f"matched, mean IoU {agree['mean_iou']:.3f} (min {agree['min_iou']:.3f}), "
        f"{agree['missing']} missing, {agree['extra']} extra.\n\n"
        f"Latency ({card['latency_runtime']}, this machine, {lat['image']} photo): invoke p50 "
        f"{lat['invoke_p50']:.2f} ms, whole detect() p50 {lat['detect_p50']:.2f} ms.\n\n"
        f"Reproduce: `{card['reproduce']}`\n"
    )
