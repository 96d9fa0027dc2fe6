"""`python -m convert.group_eyes_eval [--eyes-model F]`: the eye reading on real group faces.

The eye dataset's Test crops are close-ups shrunk to booth sizes; a booth's group faces are
not (blur, JPEG, smiles, glasses, heads turned). `tests/data/wider_group_eye_labels.csv`
holds faces of WIDER group photos labelled open or closed by eye: 240 faces drawn at
random (seed 7) from the 638 that the photo pass finds >= 32 px wide in group photos 80
onwards at 640 px (the first 80 are the live evaluation's still groups), 98 of them judged
(94 open, 11 of those behind glasses, 4 closed); the rest could not be (profile, looking
down, sunglasses, blur, not a face). Each row's box is where the photo pass found the face
at 640 px. Printed for Valid and Test (half the photos each, by a hash of the photo's name:
choose on Valid, report Test) and both: the share of open eyes read open, by face width
and glasses, and the faces read as a blink (both eyes closed). numpy/OpenCV only.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.wider import read_image
from edge.types import Box

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "wider_group_eye_labels.csv"
WIDER_IMAGES = ROOT.parent / "shared" / "media" / "wider" / "images"
WIDTH = 640
FACE_WIDTHS = ((32, 48), (48, 80), (80, 10_000))


@dataclass(frozen=True)
class LabelledFace:
    photo: str  # event folder / file name under WIDER's images
    box: Box  # where the photo pass finds the face, in the photo at WIDTH px
    open: bool
    glasses: bool


def read_labels(path: Path = LABELS) -> list[LabelledFace]:
    """The committed CSV (photo,x1,y1,x2,y2,eyes,glasses); a bad row names its line."""
    faces = []
    with path.open() as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if row["eyes"] not in ("open", "closed") or row["glasses"] not in ("0", "1"):
                raise ValueError(f"{path}:{line}: eyes must be open/closed, glasses 0/1")
            box = Box(*(float(row[k]) for k in ("x1", "y1", "x2", "y2")))
            faces.append(
                LabelledFace(row["photo"], box, row["eyes"] == "open", row["glasses"] == "1")
            )
    return faces


def split_of(face: LabelledFace) -> str:
    """ "valid" or "test", by the photo (its faces stay together)."""
    return "valid" if hashlib.sha256(face.photo.encode()).digest()[0] % 2 == 0 else "test"


def at_width(image: np.ndarray) -> np.ndarray:
    if image.shape[1] <= WIDTH:
        return image
    size = (WIDTH, round(image.shape[0] * WIDTH / image.shape[1]))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def readings(config: Any, faces: list[LabelledFace], images: Path = WIDER_IMAGES) -> list[int]:
    """eyes_open of each labelled face in the photo pass (-1: no face found there)."""
    from edge.perception.pipeline import build_pipeline

    photo = build_pipeline(config)
    found: dict[str, Any] = {}
    counts = []
    for face in faces:
        if face.photo not in found:
            found[face.photo] = photo.process(at_width(read_image(images / face.photo))).faces
        match = max(found[face.photo], key=lambda f: f.face.box.iou(face.box), default=None)
        ok = match is not None and match.face.box.iou(face.box) >= 0.5
        counts.append(match.eyes_open if ok and match is not None else -1)
    return counts


def report(faces: list[LabelledFace], counts: list[int]) -> dict[str, Any]:
    """Open eyes read open, overall, by face width and by glasses; blinks read on open and
    closed faces; faces no longer found where they were labelled."""

    def open_eyes(keep: Any) -> str:
        chosen = [c for f, c in zip(faces, counts, strict=True) if f.open and c >= 0 and keep(f)]
        return f"{100 * sum(chosen) / max(1, 2 * len(chosen)):.1f} % of {2 * len(chosen)}"

    def blinks(is_open: bool) -> str:
        chosen = [c for f, c in zip(faces, counts, strict=True) if f.open == is_open and c >= 0]
        return f"{sum(c == 0 for c in chosen)}/{len(chosen)}"

    by_width = {
        f"{lo}-{hi if hi < 10_000 else ''}px": open_eyes(
            lambda f, lo=lo, hi=hi: lo <= f.box.width < hi
        )
        for lo, hi in FACE_WIDTHS
    }
    return {
        "open_eyes_read_open": open_eyes(lambda f: True),
        "by_face_width": by_width,
        "glasses": open_eyes(lambda f: f.glasses),
        "no_glasses": open_eyes(lambda f: not f.glasses),
        "open_faces_read_as_a_blink": blinks(True),
        "closed_faces_read_as_a_blink": blinks(False),
        "not_found": sum(c < 0 for c in counts),
    }


def main(argv: list[str] | None = None) -> int:
    from edge.config import AppConfig

    parser = argparse.ArgumentParser(prog="python -m convert.group_eyes_eval")
    parser.add_argument("--eyes-model", type=Path, help="an eye-state .tflite (default: shipped)")
    args = parser.parse_args(argv)
    config = AppConfig()
    if args.eyes_model is not None:
        config = dataclasses.replace(
            config, eyes=dataclasses.replace(config.eyes, model=str(args.eyes_model))
        )
    faces = read_labels()
    counts = readings(config, faces)
    for part in ("valid", "test"):
        chosen = [i for i, face in enumerate(faces) if split_of(face) == part]
        figures = report([faces[i] for i in chosen], [counts[i] for i in chosen])
        print(json.dumps({part: figures}))
    print(json.dumps({"all": report(faces, counts)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
