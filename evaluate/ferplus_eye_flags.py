"""`python -m evaluate.ferplus_eye_flags`: the FER+ smiling faces a person should look at.

FER+ labels expressions, not eyes, and a laugh often shuts the eyes. The group-decision
check (evaluate.group_frames) needs its "everyone smiling" faces to have open eyes, so each
smiling face of the Valid and Test pools is pasted alone into a group frame at 40 and 70 px
(the check's sizes) and read by both eye readers (the eye CNN and the face mesh); every face
either reads closed at either size is listed, with contact sheets (numbered, 128 px tiles)
in build/ferplus_eye_flags/ for a person to label in tests/data/ferplus_smiling_eyes.csv.
Faces neither reader doubts are kept as open without a look.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np

from edge.config import AppConfig
from edge.io.sources.base import resize_to_width
from edge.types import Box, Detail
from evaluate import group_frames

OUT = Path(__file__).resolve().parents[1] / "build" / "ferplus_eye_flags"
SIZES = (40, 70)
TILE = 128
SHEET_COLUMNS, SHEET_ROWS = 8, 6


def flagged(split: str, seed: int = 5) -> list[tuple[Path, list[str]]]:
    """(face, the readings that called it closed) of every doubted smiling face."""
    from edge.perception.pipeline import build_pipeline

    config = AppConfig()
    config = dataclasses.replace(config, source=dataclasses.replace(config.source, width=640))
    readers = {
        name: build_pipeline(
            dataclasses.replace(config, eyes=dataclasses.replace(config.eyes, reader=name))
        )
        for name in ("cnn", "mesh")
    }
    pools = group_frames.load_pools(split, eye_labels=Path("/dev/null"))
    rng = np.random.default_rng(seed)
    found = []
    for path in pools.smiling:
        face = group_frames.read_face(path)
        calls = []
        for height in SIZES:
            image = group_frames.backdrop(rng)
            (placed,) = group_frames.place(image, [face], [height], rng)
            view = resize_to_width(image, 640)
            scale = image.shape[1] / view.shape[1]
            box = Box(*placed)
            for name, pipeline in readers.items():
                faces = pipeline.process(view, Detail.of(image, (scale, scale))).faces
                match = max(faces, key=lambda f: f.face.box.iou(box), default=None)
                if match is not None and match.face.box.iou(box) >= 0.3 and match.eyes_open == 0:
                    calls.append(f"{name}@{height}px")
        if calls:
            found.append((path, calls))
    return found


def contact_sheets(paths: list[Path], folder: Path, stem: str) -> list[Path]:
    """Numbered tiles, SHEET_COLUMNS x SHEET_ROWS a sheet."""
    folder.mkdir(parents=True, exist_ok=True)
    per_sheet = SHEET_COLUMNS * SHEET_ROWS
    written = []
    for start in range(0, len(paths), per_sheet):
        tiles = []
        for number, path in enumerate(paths[start : start + per_sheet], start=start):
            tile = cv2.resize(group_frames.read_face(path), (TILE, TILE), cv2.INTER_CUBIC)
            cv2.putText(tile, str(number), (3, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255))
            tiles.append(tile)
        while len(tiles) % SHEET_COLUMNS:
            tiles.append(np.zeros((TILE, TILE, 3), np.uint8))
        rows = [
            np.hstack(tiles[i : i + SHEET_COLUMNS]) for i in range(0, len(tiles), SHEET_COLUMNS)
        ]
        sheet = folder / f"{stem}_{start // per_sheet}.png"
        cv2.imwrite(str(sheet), np.vstack(rows))
        written.append(sheet)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    listing = {}
    for split in ("valid", "test"):
        found = flagged(split)
        listing[split] = [
            {"image": str(path.relative_to(group_frames.FERPLUS)), "read_closed_by": calls}
            for path, calls in found
        ]
        sheets = contact_sheets([p for p, _ in found], args.out, split)
        print(f"{split}: {len(found)} smiling faces to look at; sheets: {len(sheets)}")
    (args.out / "flagged.json").write_text(json.dumps(listing, indent=1))
    print(f"list: {args.out / 'flagged.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
