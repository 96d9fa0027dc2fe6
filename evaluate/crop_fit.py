"""`python -m evaluate.crop_fit`: where the smile crop sits relative to the detector's box.

The smile model is trained on FER2013 crops, and the crop rule (`edge.perception.crop`)
must cut the same framing from the detector's box on a device. This puts FER+ Test faces,
scaled up, in the middle of grey frames, runs the shipped detector, and prints the medians
(and quartiles) of the FER crop's side over max(box width, box height) and of its centre's
vertical offset from the box centre in box heights: CROP_EXPANSION and CROP_CENTER_SHIFT_Y.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from edge.config.perception import DetectorConfig
from edge.perception.face_detector import FaceDetector
from training.ferplus import load_split

ROOT = Path(__file__).resolve().parents[1]
FERPLUS = ROOT.parent / "shared" / "datasets" / "ferplus"
FACE_SIDES = (120, 200)  # the FER crop's side in a 640x480 frame


def measure(detector: FaceDetector, faces: np.ndarray) -> dict[str, object]:
    """Per pasted FER crop with one face found: side ratio and centre shift."""
    ratios, shifts = [], []
    for index, face in enumerate(faces):
        side = FACE_SIDES[index % len(FACE_SIDES)]
        frame = np.full((480, 640), 128, np.uint8)
        x0, y0 = (640 - side) // 2, (480 - side) // 2
        frame[y0 : y0 + side, x0 : x0 + side] = cv2.resize(
            face, (side, side), interpolation=cv2.INTER_CUBIC
        )
        found = detector.detect(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
        if len(found) != 1:
            continue
        box = found[0].box
        ratios.append(side / max(box.width, box.height))
        shifts.append((y0 + side / 2 - box.center[1]) / box.height)
    return {
        "faces": len(faces),
        "measured": len(ratios),
        "expansion_median": round(float(np.median(ratios)), 3),
        "expansion_quartiles": [round(float(q), 3) for q in np.percentile(ratios, (25, 75))],
        "center_shift_y_median": round(float(np.median(shifts)), 3),
        "center_shift_y_quartiles": [round(float(q), 3) for q in np.percentile(shifts, (25, 75))],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluate.crop_fit", description=__doc__)
    parser.add_argument("--data", type=Path, default=FERPLUS)
    parser.add_argument("--faces", type=int, default=400)
    args = parser.parse_args(argv)
    split = load_split(args.data, "test")
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(split.images), min(args.faces, len(split.images)), replace=False)
    detector = FaceDetector(DetectorConfig(), root=ROOT)
    print(json.dumps(measure(detector, split.images[chosen]), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
