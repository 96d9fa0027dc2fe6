"""`python -m training.faces_eyes_crops --out DIR`: eye crops from whole faces, for the eye CNN.

The eye dataset's 1,452 crops are close-ups; the CNN's remaining mistake on whole faces
(faces-eyes) is reading some closed eyes in the wild (CEW) as surely open, and that holds
the cnn+mesh reader below the mesh's own accuracy (docs/face-mesh.md). This cuts both eyes
of every faces-eyes face in the eye CNN's training part (evaluate.faces_eyes_split's
`is_eye_training`: a quarter of the faces, never a Test one) the way the device does: the
face pasted at its own size into a frame, found by the shipped detector, its eyes cut by
edge.cli.crops' run-time framing at native resolution. Written as DIR/open/ and
DIR/closed/ (the folder's label), ready for `smilebooth train eyes --extra-data DIR`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

from edge.cli.crops import eye_crops
from edge.config.perception import DetectorConfig
from edge.io.image_io import read_image
from edge.perception.crop import to_gray
from edge.perception.eye_crop import EYES
from edge.perception.face_detector import FaceDetector
from evaluate.faces_eyes_split import is_eye_training
from evaluate.mesh_eyes_eval import DATA, ROOT, background, faces, paste, pasted_face

LARGEST_PASTE = 400  # px high: the frame is 640x480


def cut_eyes(data: Path, out: Path) -> tuple[int, int]:
    """(faces cut, faces the detector missed) of the eye-training faces; crops under out."""
    detector = FaceDetector(DetectorConfig(), root=ROOT)
    base = background()
    for label in ("open", "closed"):
        (out / label).mkdir(parents=True, exist_ok=True)
    cut = missed = 0
    for path, is_open in faces(data):
        if not is_eye_training(path):
            continue
        read = read_image(path)  # bytes decoded: cv2.imread crashes on some file names
        if read.image is None:
            raise ValueError(f"{path}: cannot be read as an image ({read.problem})")
        image = read.image
        frame, truth = paste(image, min(image.shape[0], LARGEST_PASTE), path, base)
        face = pasted_face(detector, frame, truth)
        if face is None:
            missed += 1
            continue
        label = "open" if is_open else "closed"
        for which, crop in zip(EYES, eye_crops(to_gray(frame), face), strict=False):
            cv2.imwrite(str(out / label / f"{path.stem}-{which}.png"), crop)
        cut += 1
    return cut, missed


def main(argv: list[str] | None = None) -> int:
    """Cut, print what was cut; a file that is not an image stops it with its name (2)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="faces-eyes (open/, closed/)")
    parser.add_argument("--out", type=Path, default=Path("build/faces-eyes-crops"))
    args = parser.parse_args(argv)
    try:
        cut, missed = cut_eyes(args.data, args.out)
    except (ValueError, FileNotFoundError) as exc:
        print(f"faces_eyes_crops: {exc}", file=sys.stderr)
        return 2
    print(f"cut the eyes of {cut} faces into {args.out} ({missed} faces not found)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
