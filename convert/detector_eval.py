"""`python -m convert.detector_eval`: the detection stage measured the way a booth meets faces.

Prints, and with --json keeps, for the int8 stage and the float originals it comes from:
- near faces (WIDER zoom protocol, `convert.wider`): recall at IoU >= 0.5 per face size;
- groups (the seven WIDER group events): recall at IoU >= 0.4 for booth faces >= 32 and
  >= 48 px wide, and false detections (overlapping no labelled box at all: IoU < 0.2);
- faces-dlib (43 faces) and dogs.jpg, the blink video's frames with a face, the astronaut.

IoU is measured against WIDER's boxes after mapping the detector's box into the labelled
convention (`edge.perception.face_detector.BOX_FIT`): MediaPipe's boxes are wider and shorter than
WIDER's, which alone caps a perfect detection's IoU near 0.7. `raw` figures, unmapped, are
printed too. numpy/OpenCV only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from convert.detection_eval import recall_report, video_frames
from convert.wider import (
    NEAR_SCALES,
    group_images,
    near_cases,
    near_faces,
    read_ground_truth,
    read_image,
)
from edge.config.perception import DetectorConfig
from edge.perception.face_detector import BOX_FIT, FaceDetector
from edge.progress import Progress
from edge.types import Box, Face

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
Detect = Callable[[np.ndarray], Sequence[Face]]
GROUP_SIZES = (32, 48)
FALSE_IOU = 0.2


def labelled_box(box: Box, convention: str = "full_range") -> Box:
    """A box in one model's convention (the stage's is the full-range model's) mapped to
    the labelled (WIDER) convention."""
    fw, fh, fdy = BOX_FIT[convention]
    cx, cy = box.center
    width, height = box.width * fw, box.height * fh
    cy += fdy * box.height
    return Box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def near_recall(
    detect: Detect, wider: Path, limit: int | None = None, convention: str = "full_range"
) -> dict[str, Any]:
    """Recall per face size on the WIDER zoom protocol (the first `limit` faces if given);
    `convention`: whose box convention `detect` returns (`BOX_FIT`)."""
    hits = {s: 0 for s in NEAR_SCALES}
    raw = {s: 0 for s in NEAR_SCALES}
    totals = {s: 0 for s in NEAR_SCALES}
    cases = len(near_faces(read_ground_truth(wider))) * len(NEAR_SCALES)
    progress = Progress(cases if limit is None else limit * len(NEAR_SCALES), "near faces")
    for index, (scale, crop, truth) in enumerate(near_cases(wider)):
        if limit is not None and index >= limit * len(NEAR_SCALES):
            break
        progress.step()
        boxes = [face.box for face in detect(crop)]
        hits[scale] += any(truth.iou(labelled_box(b, convention)) >= 0.5 for b in boxes)
        raw[scale] += any(truth.iou(b) >= 0.5 for b in boxes)
        totals[scale] += 1
    progress.close()
    return {
        "faces": totals[NEAR_SCALES[0]],
        "recall": {f"{s:.0%}": round(100 * hits[s] / totals[s], 1) for s in NEAR_SCALES},
        "recall_raw_boxes": {f"{s:.0%}": round(100 * raw[s] / totals[s], 1) for s in NEAR_SCALES},
    }


def group_recall(detect: Detect, wider: Path, limit: int | None = None) -> dict[str, Any]:
    found = {size: 0 for size in GROUP_SIZES}
    faces = {size: 0 for size in GROUP_SIZES}
    false, photos, seconds = 0, 0, 0.0
    photos_to_do = group_images(wider)[:limit]
    progress = Progress(len(photos_to_do), "group photos")
    for image in photos_to_do:
        progress.step(image.path.name)
        photo = read_image(image.path)
        started = time.perf_counter()
        boxes = [labelled_box(face.box) for face in detect(photo)]
        seconds += time.perf_counter() - started
        photos += 1
        truth = [face.box for face in image.faces]
        matched = _matched_truth(truth, boxes, 0.4)
        for i, face in enumerate(image.faces):
            for size in GROUP_SIZES:
                if face.booth and face.box.width >= size:
                    faces[size] += 1
                    found[size] += i in matched
        false += sum(1 for b in boxes if max((t.iou(b) for t in truth), default=0) < FALSE_IOU)
    progress.close()
    return {
        "photos": photos,
        "recall": {f">={s}px": round(100 * found[s] / max(1, faces[s]), 1) for s in GROUP_SIZES},
        "faces": {f">={s}px": faces[s] for s in GROUP_SIZES},
        "false_detections": false,
        "ms_per_photo": round(1000 * seconds / max(1, photos), 1),
    }


def _matched_truth(truth: Sequence[Box], found: Sequence[Box], threshold: float) -> set[int]:
    pairs = sorted(
        ((t.iou(f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)), reverse=True
    )
    used_t: set[int] = set()
    used_f: set[int] = set()
    for iou, i, j in pairs:
        if iou >= threshold and i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
    return used_t


def other_checks(detect: Detect, media: Path) -> dict[str, Any]:
    blink = video_frames(media / "video" / "blink_portrait.mp4")
    astronaut = read_image(ROOT / "samples" / "astronaut.jpg")
    dlib = recall_report(detect, media)
    return {
        "faces_dlib": {k: dlib[k] for k in ("found", "faces", "extra_detections")},
        "dogs_detections": dlib["dogs_detections"],
        "blink_portrait_frames_with_a_face": f"{sum(1 for f in blink if detect(f))}/{len(blink)}",
        "astronaut_faces": len(detect(astronaut)),
    }


def float_originals(wheel: Path, folder: Path) -> tuple[Path, Path]:
    """MediaPipe's own float files, out of the wheel."""
    from convert.detector_specs import FULL_RANGE, SHORT_RANGE

    paths = []
    with zipfile.ZipFile(wheel) as archive:
        for spec in (FULL_RANGE, SHORT_RANGE):
            path = folder / Path(spec.member).name
            path.write_bytes(archive.read(spec.member))
            paths.append(path)
    return paths[0], paths[1]


def stages(config: DetectorConfig, wheel: Path | None, folder: Path) -> dict[str, FaceDetector]:
    found = {"int8": FaceDetector(config, root=ROOT)}
    if wheel is not None:
        full, short = float_originals(wheel, folder)
        float_config = dataclasses.replace(config, model=str(full), short_range_model=str(short))
        found["float"] = FaceDetector(float_config, verify=False)
        for name, model in (("full_range", full), ("short_range", short)):
            single = dataclasses.replace(
                config, model=str(model), short_range_model="", tiles=False
            )
            found[f"float {name} alone"] = FaceDetector(single, verify=False)
    return found


def evaluate(config: DetectorConfig, wheel: Path | None, media: Path, limit: int | None) -> dict:
    wider = media / "wider"
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, stage in stages(config, wheel, Path(folder)).items():
            print(f"== {name}", file=sys.stderr)
            report[name] = {"near": near_recall(stage.detect, wider, limit)}
            print(json.dumps(report[name]["near"]), file=sys.stderr)
            if "alone" in name:
                continue
            report[name]["groups"] = group_recall(stage.detect, wider, limit)
            print(json.dumps(report[name]["groups"]), file=sys.stderr)
            report[name].update(other_checks(stage.detect, media))
    return report


def write_cards(report: dict[str, Any], config: DetectorConfig) -> None:
    """The stage's figures into both shipped cards, and a human card beside each."""
    from convert.detector_card import write_detector_card
    from edge.perception.model_card import load_card

    for path in (config.model, config.short_range_model):
        model = ROOT / path if not Path(path).is_absolute() else Path(path)
        card = load_card(model)
        card["stage_metrics"] = {
            "what": "the detection stage as `smilebooth score` runs it (both int8 models, "
            "tiles, confirmation; python -m convert.detector_eval), next to the same stage "
            "on MediaPipe's float originals",
            **report,
        }
        write_detector_card(model, card)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convert.detector_eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default=DetectorConfig.model, help="full-range int8 file")
    parser.add_argument("--short-range-model", default=DetectorConfig.short_range_model)
    parser.add_argument("--no-tiles", action="store_true", help="thorough pass without tiles")
    parser.add_argument("--score-threshold", type=float, default=DetectorConfig.score_threshold)
    parser.add_argument("--wheel", type=Path, help="mediapipe 0.10.14 wheel: also measure float")
    parser.add_argument("--media-dir", type=Path, default=MEDIA)
    parser.add_argument("--limit", type=int, help="only the first N faces/photos (quick look)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--write-cards", action="store_true", help="put the figures into the models' cards"
    )
    args = parser.parse_args(argv)
    config = DetectorConfig(
        model=args.model,
        short_range_model=args.short_range_model,
        tiles=not args.no_tiles,
        score_threshold=args.score_threshold,
    )
    report = evaluate(config, args.wheel, args.media_dir, args.limit)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.write_cards:
        write_cards(report, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
