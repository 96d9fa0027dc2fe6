"""Group frames composed from labelled faces, for the group-decision check.

A 1920x1080 frame holds 2-6 people whose faces are 30-80 px high in the 640-wide view the
models see (a group at about 1.5-4 m), each face a labelled one from ../shared:

- smiling / not smiling: FER+ Test faces by their happiness votes (of 10 annotators: at
  least SMILING_VOTES say happiness, or none do and at least STRAIGHT_VOTES say neutral);
- eyes closed: faces of ../shared/datasets/faces-eyes/closed (CEW), the held-back half of
  faces-eyes (evaluate.faces_eyes_split.is_test); the "valid" frames that anything is chosen
  on take FER+ Valid and the Valid faces the eye CNN did not train on. One split for
  faces-eyes everywhere: the eye CNN trains on, and the mesh rule is chosen on, Valid
  faces only, so none of them can flatter this check's Test figures.

FER+ has no eye labels, and many of its laughing faces have their eyes shut or behind
sunglasses: an "everyone smiling with open eyes" frame must not hold them. Every smiling
face that either eye reader (CNN, mesh) read closed, pasted alone at 40 and 70 px, was
looked at by a person and labelled in tests/data/ferplus_smiling_eyes.csv (open, closed,
hidden: sunglasses or a hand, unsure); only those labelled open stay in the smiling pool
(`python -m evaluate.ferplus_eye_flags` lists the faces to look at).

Faces sit in one or two rows on a soft grey-brown backdrop with a gentle light gradient,
each face on a head-and-shoulders silhouette of a random skin-neutral tone (a bare square
face on flat grey is not what a detector sees in a booth). numpy/OpenCV only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from evaluate.faces_eyes_split import is_eye_training, is_test

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
FERPLUS = SHARED / "ferplus"
SPLIT_FOLDERS = {"valid": "FER2013Valid", "test": "FER2013Test"}
CLOSED_EYES = SHARED / "faces-eyes" / "closed"
FRAME = (1920, 1080)  # width, height
VIEW_WIDTH = 640  # the models' view: face heights are given in its pixels
EYE_LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "ferplus_smiling_eyes.csv"
SMILING_VOTES = 7
STRAIGHT_VOTES = 6
FACE_PX = (30, 80)  # face height in the 640-wide view

Kind = Literal["everyone_smiling", "one_not_smiling", "one_eyes_closed"]
KINDS: tuple[Kind, ...] = ("everyone_smiling", "one_not_smiling", "one_eyes_closed")


@dataclass(frozen=True)
class FacePools:
    smiling: list[Path]
    straight: list[Path]
    closed: list[Path]


@dataclass(frozen=True)
class GroupFrame:
    kind: Kind
    image: np.ndarray  # BGR, FRAME
    people: int
    face_px: tuple[int, ...]  # each face's height in the 640-wide view
    odd_one: int | None  # index (left to right) of the face that should hold the shutter
    boxes: tuple[tuple[float, float, float, float], ...]  # each face in the 640-wide view
    labels: tuple[str, ...]  # each face: "smiling", "straight" or "closed"


def load_pools(
    split: str = "test", closed: Path = CLOSED_EYES, eye_labels: Path = EYE_LABELS
) -> FacePools:
    """The labelled faces of a split ("valid" or "test"); a missing folder is named."""
    ferplus = FERPLUS / SPLIT_FOLDERS[split]
    labels = ferplus / "label.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"{labels}: FER+ labels not found (see ../shared/datasets)")
    if not closed.is_dir():
        raise FileNotFoundError(f"{closed}: faces-eyes closed faces not found")
    smiling, straight = [], []
    eyes = read_eye_labels(eye_labels)
    with labels.open() as handle:
        for row in csv.reader(handle):
            votes = [int(v) for v in row[2:12]]
            neutral, happiness, unknown, not_face = votes[0], votes[1], votes[8], votes[9]
            if unknown or not_face:
                continue
            if happiness >= SMILING_VOTES:
                if eyes.get(f"{SPLIT_FOLDERS[split]}/{row[0]}", "open") == "open":
                    smiling.append(ferplus / row[0])
            elif happiness == 0 and neutral >= STRAIGHT_VOTES:
                straight.append(ferplus / row[0])
    shut = sorted(p for p in closed.glob("*.jpg") if in_split(p, split))
    return FacePools(smiling, straight, shut)


EYE_STATES = ("open", "closed", "hidden", "unsure")


def read_eye_labels(path: Path = EYE_LABELS) -> dict[str, str]:
    """FER+ image (`FER2013Test/fer0032222.png`) -> its eyes as a person saw them."""
    labels = {}
    with path.open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if row["eyes"] not in EYE_STATES:
                raise ValueError(f"{path}:{line}: eyes must be one of {', '.join(EYE_STATES)}")
            labels[row["image"]] = row["eyes"]
    return labels


def in_split(closed_face: Path, split: str) -> bool:
    """Whether a faces-eyes face belongs to `split`: test, the held-back half; valid, the
    Valid faces whose eyes the eye CNN did not train on."""
    if split == "test":
        return is_test(closed_face)
    return not is_test(closed_face) and not is_eye_training(closed_face)


def compose(kind: Kind, pools: FacePools, rng: np.random.Generator) -> GroupFrame:
    """One group frame of `kind`: everyone smiling, or one person not smiling / eyes shut."""
    people = int(rng.integers(2, 7))
    odd = None if kind == "everyone_smiling" else int(rng.integers(0, people))
    faces, labels = [], []
    for i in range(people):
        pool, label = pools.smiling, "smiling"
        if i == odd:
            pool, label = (
                (pools.straight, "straight")
                if kind == "one_not_smiling"
                else (pools.closed, "closed")
            )
        faces.append(read_face(pool[int(rng.integers(0, len(pool)))]))
        labels.append(label)
    base = rng.uniform(*FACE_PX)  # one distance for the group, each face a little off it
    heights = [int(np.clip(base * rng.uniform(0.85, 1.15), *FACE_PX)) for _ in faces]
    image = backdrop(rng)
    boxes = place(image, faces, heights, rng)
    return GroupFrame(kind, image, people, tuple(heights), odd, boxes, tuple(labels))


def read_face(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    return image


def backdrop(rng: np.random.Generator) -> np.ndarray:
    """A plain wall with a light gradient, in a random warm grey."""
    width, height = FRAME
    tone = rng.uniform(90, 170, 3)
    ramp = np.linspace(0.85, 1.1, width, dtype=np.float32)[None, :, None]
    wall = np.ones((height, width, 3), np.float32) * tone * ramp
    return np.clip(wall, 0, 255).astype(np.uint8)


def place(
    image: np.ndarray, faces: list[np.ndarray], heights: list[int], rng: np.random.Generator
) -> tuple[tuple[float, float, float, float], ...]:
    """Faces left to right, spread over the frame, on shoulders, in one or two rows; each
    face's box in the 640-wide view."""
    scale = FRAME[0] / VIEW_WIDTH
    boxes = []
    count = len(faces)
    slot = FRAME[0] / count
    for i, (face, height) in enumerate(zip(faces, heights, strict=True)):
        side = round(height * scale)
        cx = int(slot * (i + 0.5) + rng.uniform(-0.15, 0.15) * slot)
        cx = int(np.clip(cx, side, FRAME[0] - side))  # the whole face inside the frame
        row = 0 if count < 4 else i % 2
        cy = int(FRAME[1] * (0.38 + 0.12 * row) + rng.uniform(-0.04, 0.04) * FRAME[1])
        body = tuple(int(v) for v in rng.uniform(40, 200, 3))
        shoulders = (cx, cy + int(side * 1.2))
        cv2.ellipse(image, shoulders, (int(side * 0.95), int(side * 0.6)), 0, 180, 360, body, -1)
        cv2.rectangle(
            image,
            (cx - int(side * 0.95), shoulders[1]),
            (cx + int(side * 0.95), FRAME[1]),
            body,
            -1,
        )
        hair = tuple(int(v) for v in rng.uniform(20, 90, 3))
        head = (int(side * 0.62), int(side * 0.66))
        cv2.ellipse(image, (cx, cy - side // 10), head, 0, 0, 360, hair, -1)
        patch = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        x1, y1 = cx - side // 2, cy - side // 2
        blend_in(image, patch, x1, y1)
        boxes.append((x1 / scale, y1 / scale, (x1 + side) / scale, (y1 + side) / scale))
    return tuple(boxes)


def blend_in(image: np.ndarray, patch: np.ndarray, x1: int, y1: int) -> None:
    """Paste with an oval, feathered edge, so no square outline frames the face."""
    side = patch.shape[0]
    mask = np.zeros((side, side), np.float32)
    axes = (int(side * 0.48), int(side * 0.5))
    cv2.ellipse(mask, (side // 2, side // 2), axes, 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, side * 0.04))[..., None]
    region = image[y1 : y1 + side, x1 : x1 + side].astype(np.float32)
    mixed = region * (1 - mask) + patch.astype(np.float32) * mask
    image[y1 : y1 + side, x1 : x1 + side] = np.clip(mixed, 0, 255).astype(np.uint8)
