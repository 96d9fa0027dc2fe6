"""`python -m evaluate.smile_sizes_eval [--model F]`: smile accuracy by face size.

A group's faces are 30-80 px high in the 640-wide view; FER+ faces are 48 px close-ups.
Each FER+ face is shrunk (area averaging) to N px, as a face N px high is, then brought
back to the model's 48 px the way the crop does (`edge.perception.crop`: area
interpolation), clean and "camera" (sensor noise and JPEG at N px, as a compressed
stream has it). Printed per split (Valid to choose on, Test to report) and size
(24 / 32 / 48 / 72 px): the smiling head's accuracy against the FER+ majority (happiness
or not), and at 48 px clean the 8-emotion accuracy (the model card's figures). int8
.tflite through the device's own interpreter (edge.perception.smile_model).

`--full-frame K`: the camera's frame is K times the model's (1920 against 640: 3), and a
face whose crop would be enlarged is cut there (edge.perception.crop.crop_face_in_detail),
so a face N px high in the model's frame is shrunk to K x N px, not N.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from edge.perception.crop import CROP_SIZE
from edge.perception.smile_model import SmileModel

SIZES = (24, 32, 48, 72)
NOISE_SIGMA = 4.0
JPEG_QUALITY = 70
ROOT = Path(__file__).resolve().parents[1]


def at_size(
    face: np.ndarray, size: int, camera: bool, rng: np.random.Generator, full_frame: float = 1.0
) -> np.ndarray:
    """A 48 px face as the crop sees it when the face is `size` px high in the frame
    (cut from a `full_frame` times larger camera frame when it is under the crop's size)."""
    if size < CROP_SIZE:
        size = round(size * full_frame)
    small = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
    if camera:
        noisy = small.astype(np.float32) + rng.normal(0, NOISE_SIGMA, small.shape)
        small = np.clip(noisy, 0, 255).astype(np.uint8)
        ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError("OpenCV cannot encode JPEG")
        small = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    return cv2.resize(small, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)


def measure(
    model: SmileModel, images: np.ndarray, votes: np.ndarray, full_frame: float = 1.0
) -> dict[str, object]:
    """Smiling accuracy per size, clean and camera; emotion accuracy at 48 px clean."""
    from training.targets import majority_emotion, smiling_targets

    truth = smiling_targets(votes).astype(bool)
    emotions = majority_emotion(votes)
    figures: dict[str, object] = {"images": len(images)}
    for camera in (False, True):
        rng = np.random.default_rng(0)
        for size in SIZES:
            right = emotion_right = 0
            for face, smiling, emotion in zip(images, truth, emotions, strict=True):
                outputs = model.raw_outputs(at_size(face, size, camera, rng, full_frame))
                right += bool(outputs["smiling"].reshape(-1)[0] >= 0.5) == smiling
                emotion_right += int(np.argmax(outputs["emotions"])) == emotion
            key = f"{'camera' if camera else 'clean'}_{size}px"
            figures[f"smiling_{key}"] = round(100 * right / len(images), 2)
            if size == 48 and not camera:
                figures["emotion_clean_48px"] = round(100 * emotion_right / len(images), 2)
    return figures


def main(argv: list[str] | None = None) -> int:
    from training.ferplus import load_split

    parser = argparse.ArgumentParser(prog="python -m evaluate.smile_sizes_eval")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "smile_int8.tflite")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/datasets/ferplus")
    parser.add_argument("--splits", nargs="+", default=["valid", "test"])
    parser.add_argument(
        "--full-frame",
        type=float,
        default=1.0,
        help="the camera frame's size over the model's (3 for 1920 against 640; 1: none)",
    )
    args = parser.parse_args(argv)
    model = SmileModel(args.model)
    for split in args.splits:
        data = load_split(args.data, split)
        figures = measure(model, data.images, data.votes, args.full_frame)
        line = {"model": str(args.model), "split": split, "full_frame": args.full_frame}
        print(json.dumps({**line, **figures}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
