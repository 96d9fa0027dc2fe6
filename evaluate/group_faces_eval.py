"""`python -m evaluate.group_faces_eval [--eyes-model F] [--eyes-reader R]`: eyes and smiles
on real group faces.

The eye dataset's Test crops are close-ups shrunk to booth sizes and FER+ faces are 48 px
close-ups; a booth's group faces are neither (blur, JPEG, heads turned, glasses, small).
`tests/data/wider_group_face_labels.csv` holds faces of WIDER group photos labelled by eye:
240 faces drawn at random (seed 7) from the 638 that the photo pass finds >= 32 px wide in
group photos 80 onwards at 640 px (the first 80 are the live evaluation's still groups);
98 with eyes that could be judged (94 open, 11 of those behind glasses, 4 closed) and 131
whose smile could (78 smiling, 53 not); the rest could not be (profile, looking down,
sunglasses, blur, not a face). Each row's box is where the photo pass found the face at
640 px; an empty field is "not judged". Printed for Valid and Test (half the photos each,
by a hash of the photo's name: choose on Valid, report Test) and both, with the eyes cut
from the 640 px frame and from the original photo (1.6x: WIDER's are 1024 px wide), as
the live loop cuts small faces' eyes from a camera's full-resolution frame: the share of
open eyes read open, by face width and glasses, the faces read as a blink (both eyes
closed), and how the `smiling` flag and the smile weight agree with the smile labels.
numpy/OpenCV only.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.io.sources.base import resize_to_width
from edge.types import Box, Detail, FaceScore
from evaluate.wider import read_image

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "wider_group_face_labels.csv"
WIDER_IMAGES = ROOT.parent / "shared" / "media" / "wider" / "images"
WIDTH = 640
FACE_WIDTHS = ((32, 48), (48, 80), (80, 10_000))


@dataclass(frozen=True)
class LabelledFace:
    photo: str  # event folder / file name under WIDER's images
    box: Box  # where the photo pass finds the face, in the photo at WIDTH px
    eyes_open: bool | None  # None: not judged
    glasses: bool
    smiling: bool | None


def read_labels(path: Path = LABELS) -> list[LabelledFace]:
    """The committed CSV (photo,x1,y1,x2,y2,eyes,glasses,smiling); a bad row names its line."""
    faces = []
    with path.open() as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            eyes, smiling = row["eyes"], row["smiling"]
            if eyes not in ("open", "closed", "") or smiling not in ("yes", "no", ""):
                raise ValueError(
                    f"{path}:{line}: eyes must be open/closed/empty, smiling yes/no/empty"
                )
            if row["glasses"] not in ("0", "1"):
                raise ValueError(f"{path}:{line}: glasses must be 0 or 1")
            box = Box(*(float(row[k]) for k in ("x1", "y1", "x2", "y2")))
            faces.append(
                LabelledFace(
                    row["photo"],
                    box,
                    None if not eyes else eyes == "open",
                    row["glasses"] == "1",
                    None if not smiling else smiling == "yes",
                )
            )
    return faces


def split_of(face: LabelledFace) -> str:
    """ "valid" or "test", by the photo (its faces stay together)."""
    return "valid" if hashlib.sha256(face.photo.encode()).digest()[0] % 2 == 0 else "test"


def readings(
    config: Any, faces: list[LabelledFace], images: Path = WIDER_IMAGES, detail: bool = False
) -> list[FaceScore | None]:
    """The photo pass's reading of each labelled face (None: no face found there) on the
    photo at WIDTH px; `detail`: with the original photo as the full-resolution frame, as
    the live loop has a camera's (small faces' eyes are cut there)."""
    from edge.perception.pipeline import build_pipeline

    photo = build_pipeline(config)
    found: dict[str, tuple[FaceScore, ...]] = {}
    scores: list[FaceScore | None] = []
    for face in faces:
        if face.photo not in found:
            original = read_image(images / face.photo)
            frame = resize_to_width(original, WIDTH)
            scale = original.shape[1] / frame.shape[1], original.shape[0] / frame.shape[0]
            full = Detail.of(original, scale) if detail else None
            found[face.photo] = photo.process(frame, full).faces
        match = max(found[face.photo], key=lambda f: f.face.box.iou(face.box), default=None)
        scores.append(match if match is not None and match.face.box.iou(face.box) >= 0.5 else None)
    return scores


def report(faces: list[LabelledFace], scores: list[FaceScore | None]) -> dict[str, Any]:
    """Open eyes read open (overall, by face width, by glasses), blinks read on open and
    closed faces, the smiling flag against the labels, faces no longer found."""
    pairs = [(f, s) for f, s in zip(faces, scores, strict=True) if s is not None]

    def open_eyes(keep: Callable[[LabelledFace], bool]) -> str:
        read = [s.eyes_open for f, s in pairs if f.eyes_open and keep(f)]
        return f"{100 * sum(read) / max(1, 2 * len(read)):.1f} % of {2 * len(read)}"

    def blinks(is_open: bool) -> str:
        read = [s.eyes_open for f, s in pairs if f.eyes_open is is_open]
        return f"{sum(count == 0 for count in read)}/{len(read)}"

    by_width = {
        f"{lo}-{hi if hi < 10_000 else ''}px": open_eyes(
            lambda f, lo=lo, hi=hi: lo <= f.box.width < hi
        )
        for lo, hi in FACE_WIDTHS
    }
    smiles = [(f.smiling, s) for f, s in pairs if f.smiling is not None]

    def flagged(label: bool) -> str:
        read = [s.smiling for smiling, s in smiles if smiling is label]
        return f"{sum(read)}/{len(read)}"

    def mean_weight(label: bool) -> float | None:
        weights = [s.smile_weight for smiling, s in smiles if smiling is label]
        return round(float(np.mean(weights)), 3) if weights else None

    return {
        "open_eyes_read_open": open_eyes(lambda f: True),
        "by_face_width": by_width,
        "glasses": open_eyes(lambda f: f.glasses),
        "no_glasses": open_eyes(lambda f: not f.glasses),
        "open_faces_read_as_a_blink": blinks(True),
        "closed_faces_read_as_a_blink": blinks(False),
        "smiling_faces_flagged_smiling": flagged(True),
        "other_faces_flagged_smiling": flagged(False),
        "smile_weight_mean_smiling_other": [mean_weight(True), mean_weight(False)],
        "not_found": len(faces) - len(pairs),
    }


def main(argv: list[str] | None = None) -> int:
    from edge.config import AppConfig

    parser = argparse.ArgumentParser(prog="python -m evaluate.group_faces_eval")
    parser.add_argument("--eyes-model", type=Path, help="an eye-state .tflite (default: shipped)")
    parser.add_argument(
        "--eyes-reader",
        choices=("cnn", "mesh", "cnn+mesh"),
        help="eyes.reader (default: the config's)",
    )
    args = parser.parse_args(argv)
    config = AppConfig()
    if args.eyes_reader is not None:
        config = dataclasses.replace(
            config, eyes=dataclasses.replace(config.eyes, reader=args.eyes_reader)
        )
    if args.eyes_model is not None:
        config = dataclasses.replace(
            config, eyes=dataclasses.replace(config.eyes, model=str(args.eyes_model))
        )
    faces = read_labels()
    for detail in (False, True):
        scores = readings(config, faces, detail=detail)
        eyes_from = "original photo" if detail else f"{WIDTH} px frame"
        for part in ("valid", "test", "all"):
            chosen = [i for i, face in enumerate(faces) if part in ("all", split_of(face))]
            figures = report([faces[i] for i in chosen], [scores[i] for i in chosen])
            print(json.dumps({"eyes_from": eyes_from, part: figures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
