"""`python -m evaluate.mesh_eyes_real`: the mesh eye reader against the eye CNN on real
footage, both through the device's own pipeline (`smilebooth score`'s, and the live one).

- blink_portrait.mp4 against its hand labels (tests/data/blink_portrait_labels.csv): frame
  accuracy and blinks caught (a frame reads closed when its face's eyes_open is 0);
- the six-person faces-dlib photo: eyes_open of each face, on the photo pass and on every
  frame of the live pipeline fed the photo 30 times;
- groups of open-eyed smiling faces (faces-eyes Test half, UTKFace faces that the shipped
  smile model reads smiling), 2-6 people at 30-80 px in 640x480 frames: the share of frames
  in which no face reads closed (a face read closed holds the shutter with
  trigger.block_on_closed_eyes).
- smiles on WIDER group faces (131 labelled): the smile model, the mesh's mouthSmile and
  their mean, each with its threshold chosen on Valid, scored on Test.
WIDER group faces' eyes: `python -m evaluate.group_faces_eval --eyes-reader mesh`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.config import AppConfig
from edge.perception.pipeline import Pipeline, build_pipeline
from evaluate.eyes_real import (
    BLINK_LABELS,
    BLINK_VIDEO,
    GROUP_PHOTO,
    read_blink_labels,
    read_video,
    runs,
)
from evaluate.faces_eyes_split import is_eye_training, is_test
from evaluate.mesh_eyes_eval import DATA, FRAME, background, faces


def config_for(reader: str) -> AppConfig:
    config = AppConfig()
    return dataclasses.replace(config, eyes=dataclasses.replace(config.eyes, reader=reader))


def blink_figures(pipeline: Pipeline, video: Path = BLINK_VIDEO) -> dict[str, Any]:
    labels = read_blink_labels(BLINK_LABELS)
    frames = read_video(video)
    if len(frames) != len(labels.closed):
        raise ValueError(f"{video}: {len(frames)} frames, labels: {len(labels.closed)}")
    closed = []
    for frame in frames:
        found = pipeline.process(frame).faces
        closed.append(bool(found) and max(found, key=lambda f: f.face.box.area).eyes_open == 0)
    predicted = np.array(closed)
    right = predicted == labels.closed
    caught = [bool(predicted[a : b + 1].any()) for a, b in runs(labels.closed)]
    return {
        "frames": len(frames),
        "frame_accuracy": round(float(right.mean()), 4),
        "blinks_caught": f"{sum(caught)}/{len(caught)}",
        "false_closed_frames": int((predicted & ~labels.closed).sum()),
        "missed_closed_frames": int((~predicted & labels.closed).sum()),
    }


def six_person(reader: str, live_frames: int = 30) -> dict[str, Any]:
    image = cv2.imread(str(GROUP_PHOTO))
    if image is None:
        raise ValueError(f"{GROUP_PHOTO}: cannot be read")
    photo = build_pipeline(config_for(reader))
    result = photo.process(image)
    live = build_pipeline(config_for(reader), live=True)
    per_frame = [sum(f.eyes_open for f in live.process(image).faces) for _ in range(live_frames)]
    return {
        "photo_eyes_open": [f.eyes_open for f in sorted(result.faces, key=lambda f: f.face.box.x1)],
        "photo_open_eyes": sum(f.eyes_open for f in result.faces),
        "live_open_eyes_min_max": [min(per_frame), max(per_frame)],
        "live_frames": live_frames,
    }


def smiling_open_faces(limit: int = 300, part: str = "test") -> list[np.ndarray]:
    """Open-eyed faces of `part` (test: the held-back half; valid: the Valid faces the eye
    CNN did not train on) that the shipped pipeline reads smiling, at full size."""
    pipeline = build_pipeline(config_for("cnn"), with_detector=False)
    chosen = []
    for path, is_open in faces(DATA):
        wanted = is_test(path) if part == "test" else not is_test(path)
        if not is_open or not wanted or is_eye_training(path):
            continue
        image = cv2.imread(str(path))
        if image is not None and pipeline.process_crop(image).faces[0].smiling:
            chosen.append(image)
        if len(chosen) >= limit:
            break
    return chosen


def group_frames(people: list[np.ndarray], count: int = 150, seed: int = 3) -> list[np.ndarray]:
    """Frames of 2-6 of the faces side by side, each 30-80 px high, on the textured grey."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        n = int(rng.integers(2, 7))
        frame = background(int(rng.integers(1000))).copy()
        slot = FRAME[0] // n
        for k, index in enumerate(rng.choice(len(people), n, replace=False)):
            size = int(rng.integers(30, min(81, slot - 8)))
            face = cv2.resize(people[index], (size, size), interpolation=cv2.INTER_AREA)
            x = k * slot + int(rng.integers(0, slot - size))
            y = int(rng.integers(60, FRAME[1] - size - 60))
            frame[y : y + size, x : x + size] = face
        frames.append(frame)
    return frames


def group_figures(pipeline: Pipeline, frames: list[np.ndarray]) -> dict[str, Any]:
    blocked = 0
    for frame in frames:
        if any(f.eyes_open == 0 for f in pipeline.process(frame).faces):
            blocked += 1
    return {
        "frames": len(frames),
        "not_blocked": round(1 - blocked / len(frames), 4),
        "blocked_frames": blocked,
    }


def smile_fusion() -> dict[str, Any]:
    """Is the mesh's mouthSmile worth fusing with the smile model? Accuracy against the
    WIDER smile labels, thresholds chosen on Valid, figures on Test."""
    from edge.perception.face_mesh import blendshape
    from evaluate.group_faces_eval import read_labels, readings, split_of

    labelled = read_labels()
    rows = [
        (split_of(face), face.smiling, score.smile.smile_probability, score.mesh)
        for face, score in zip(labelled, readings(config_for("mesh"), labelled), strict=True)
        if score is not None and face.smiling is not None and score.mesh is not None
    ]
    readers = {
        "smile_model": lambda p, m: p,
        "mouthSmile": lambda p, m: (
            (blendshape(m, "mouthSmileLeft") + blendshape(m, "mouthSmileRight")) / 2
        ),
    }
    readers["mean"] = lambda p, m: (readers["smile_model"](p, m) + readers["mouthSmile"](p, m)) / 2

    def accuracy(part: str, read: Any, threshold: float) -> float:
        right = [(read(p, m) > threshold) == label for s, label, p, m in rows if s == part]
        return round(float(np.mean(right)), 4)

    result: dict[str, Any] = {"faces": {p: sum(r[0] == p for r in rows) for p in ("valid", "test")}}
    for name, read in readers.items():
        grid = [float(t) for t in np.arange(0.025, 0.975, 0.025)]
        threshold = max(grid, key=lambda t, read=read: accuracy("valid", read, t))
        result[name] = {
            "threshold": round(threshold, 3),
            "valid": accuracy("valid", read, threshold),
            "test": accuracy("test", read, threshold),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", default="mesh,cnn,cnn+mesh")
    parser.add_argument("--skip", default="", help="comma list of blink,six,group,smile")
    parser.add_argument(
        "--part",
        choices=("test", "valid"),
        default="test",
        help="the groups' faces: faces-eyes Test, or the Valid faces the eye CNN did not train on",
    )
    args = parser.parse_args(argv)
    skip = set(args.skip.split(","))
    frames = [] if "group" in skip else group_frames(smiling_open_faces(part=args.part))
    for reader in args.readers.split(","):
        figures: dict[str, Any] = {"reader": reader}
        pipeline = build_pipeline(config_for(reader))
        if "blink" not in skip:
            figures["blink_portrait"] = blink_figures(pipeline)
        if "six" not in skip:
            figures["six_person"] = six_person(reader)
        if frames:
            figures["smiling_open_groups"] = group_figures(pipeline, frames)
        print(json.dumps(figures), flush=True)
    if "smile" not in skip:
        print(json.dumps({"smile_fusion_wider": smile_fusion()}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
