"""The smile model measured through the device's own path: detector -> crop rule -> model.

FER+ Test crops are tightly registered faces; on a device the crop comes from the face
detector's box. This puts each Test face into a frame (scaled up, centred on a mid-grey
canvas), runs the shipped int8 detector, cuts the crop with `edge.perception.crop` and runs the
shipped int8 smile model, then scores it against the votes exactly as the card does. The
registered crops of the same (detected) faces are scored alongside, so the gap is the cost
of the real framing alone. Numpy, OpenCV and the TFLite runtime only: no TensorFlow.

    python -m training.real_path                      # FER+ Test from ../shared, models/
    python -m training.real_path --limit 400 --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.config.perception import DetectorConfig
from edge.perception.crop import crop_face
from edge.perception.face_detector import FaceDetector
from edge.perception.smile_model import SmileModel
from edge.types import Box, Face
from training.evaluate import HEADLINE_KEYS, evaluate_heads, headline
from training.ferplus import FerPlusSplit, load_split
from training.train import DEFAULT_DATA

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Staging:
    """How a 48x48 FER face is put into a frame: upscaled to `face_px`, centred on a
    `frame_w` x `frame_h` canvas of grey `background` (a face at booth distance)."""

    face_px: int = 144
    frame_w: int = 480
    frame_h: int = 360
    background: int = 128

    def stage(self, face: np.ndarray) -> tuple[np.ndarray, Box]:
        """The BGR frame and where the registered face lies in it."""
        big = cv2.resize(face, (self.face_px, self.face_px), interpolation=cv2.INTER_CUBIC)
        canvas = np.full((self.frame_h, self.frame_w), self.background, np.uint8)
        x0, y0 = (self.frame_w - self.face_px) // 2, (self.frame_h - self.face_px) // 2
        canvas[y0 : y0 + self.face_px, x0 : x0 + self.face_px] = big
        placed = Box(x0, y0, x0 + self.face_px, y0 + self.face_px)
        return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR), placed


def the_staged_face(faces: tuple[Face, ...], placed: Box) -> Face | None:
    """The most confident detection whose centre lies on the pasted face, if any."""
    for face in faces:  # most confident first
        cx, cy = face.box.center
        if placed.x1 <= cx <= placed.x2 and placed.y1 <= cy <= placed.y2:
            return face
    return None


def measure(
    split: FerPlusSplit, detector: FaceDetector, smile: SmileModel, staging: Staging
) -> dict[str, Any]:
    """Metrics through the real path and on the registered crops of the detected faces."""
    real_rows, registered_rows, found = [], [], []
    box_to_face: list[float] = []
    for index, face_image in enumerate(split.images):
        frame, placed = staging.stage(face_image)
        face = the_staged_face(detector.detect(frame), placed)
        if face is None:
            continue
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        real_rows.append(smile.raw_outputs(crop_face(gray, face.box)))
        registered_rows.append(smile.raw_outputs(face_image))
        found.append(index)
        box_to_face.append(placed.width / max(face.box.width, face.box.height))
    if not found:
        raise RuntimeError("the detector found none of the staged faces")
    votes = split.votes[np.array(found)]

    def stacked(rows: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        return {name: np.stack([row[name] for row in rows]) for name in rows[0]}

    return {
        "images": len(split),
        "detected": len(found),
        "registered_side_over_detector_box_median": float(np.median(box_to_face)),
        "real_path": evaluate_heads(stacked(real_rows), votes),
        "registered_crops_of_detected": evaluate_heads(stacked(registered_rows), votes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.real_path", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FER+ folder")
    parser.add_argument("--smile", type=Path, default=ROOT / "models" / "smile_int8.tflite")
    parser.add_argument("--detector", type=Path, default=ROOT / "models" / "yunet_int8.tflite")
    parser.add_argument("--limit", type=int, help="only the first N Test images")
    parser.add_argument("--json", type=Path, help="also write the metrics here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    split = load_split(args.data, "test")
    if args.limit:
        split = split.subset(np.arange(min(args.limit, len(split))))
    staging = Staging()
    detector = FaceDetector(DetectorConfig(model=str(args.detector)), root=ROOT)
    result = measure(split, detector, SmileModel(args.smile), staging)
    result["staging"] = asdict(staging)
    result["models"] = {"smile": str(args.smile), "detector": str(args.detector)}
    print(f"detected {result['detected']}/{result['images']} staged Test faces")
    for key, title in (
        ("real_path", "real path (detector -> crop -> model)"),
        ("registered_crops_of_detected", "registered crops of the same faces"),
    ):
        print(f"{title}: {headline(result[key])}")
        result[key] = {metric: result[key][metric] for metric in (*HEADLINE_KEYS, "images")}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
