"""`python -m evaluate.detector_eval`: the detection stage measured the way a booth meets faces.

Prints, and with --json keeps, for the int8 stage and (--onnx) the float YuNet it comes from:
- near faces (WIDER zoom protocol, `evaluate.wider`): recall at IoU >= 0.5 per face size;
- groups (the seven WIDER group events): recall at IoU >= 0.4 for booth faces >= 32 and
  >= 48 px wide, and false detections (overlapping no labelled box at all: IoU < 0.2);
- faces-dlib (43 faces) and dogs.jpg, the blink video's frames with a face, the astronaut.

IoU is measured against WIDER's boxes after mapping the detector's box into the labelled
convention (`edge.perception.face_detector.BOX_FIT`, close to identity: YuNet was trained
on WIDER). `raw` figures, unmapped, are printed too. numpy/OpenCV only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge.config.perception import DetectorConfig
from edge.perception.face_detector import BOX_FIT, FaceDetector
from edge.progress import Progress
from edge.types import Box, Face
from evaluate.detection_eval import recall_report, video_frames
from evaluate.wider import (
    NEAR_SCALES,
    group_images,
    near_cases,
    near_faces,
    read_ground_truth,
    read_image,
)

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
Detect = Callable[[np.ndarray], Sequence[Face]]
GROUP_SIZES = (32, 48)
FALSE_IOU = 0.2


def labelled_box(box: Box) -> Box:
    """A detector box mapped to the labelled (WIDER) convention."""
    fw, fh, fdy = BOX_FIT
    cx, cy = box.center
    width, height = box.width * fw, box.height * fh
    cy += fdy * box.height
    return Box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def near_recall(detect: Detect, wider: Path, limit: int | None = None) -> dict[str, Any]:
    """Recall per face size on the WIDER zoom protocol (the first `limit` faces if given)."""
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
        hits[scale] += any(truth.iou(labelled_box(b)) >= 0.5 for b in boxes)
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


def stages(config: DetectorConfig, onnx: Path | None) -> dict[str, Detect]:
    """The int8 stage as `smilebooth score` runs it, and what it is measured against: the
    same int8 file without the second look, and OpenCV's run of the float ONNX file."""
    found: dict[str, Detect] = {"int8": FaceDetector(config, root=ROOT).detect}
    if onnx is not None:
        from convert.yunet_reference import float_detector

        single = dataclasses.replace(config, candidate_threshold=config.score_threshold)
        found["int8, no second look"] = FaceDetector(single, root=ROOT).detect
        found["float (FaceDetectorYN)"] = float_detector(onnx, config.score_threshold)
    return found


def evaluate(config: DetectorConfig, onnx: Path | None, media: Path, limit: int | None) -> dict:
    wider = media / "wider"
    report: dict[str, Any] = {}
    for name, detect in stages(config, onnx).items():
        print(f"== {name}", file=sys.stderr)
        report[name] = {"near": near_recall(detect, wider, limit)}
        print(json.dumps(report[name]["near"]), file=sys.stderr)
        report[name]["groups"] = group_recall(detect, wider, limit)
        print(json.dumps(report[name]["groups"]), file=sys.stderr)
        report[name].update(other_checks(detect, media))
    return report


def write_cards(report: dict[str, Any], config: DetectorConfig) -> None:
    """The stage's figures into the shipped card, and the human card beside it."""
    from convert.yunet_card import write_yunet_card
    from edge.perception.model_card import load_card

    model = ROOT / config.model if not Path(config.model).is_absolute() else Path(config.model)
    card = load_card(model)
    card["stage_metrics"] = {
        "what": "the detection stage as `smilebooth score` runs it (python -m "
        "evaluate.detector_eval --onnx ...), the same file without the second look, and "
        "OpenCV's FaceDetectorYN on the float ONNX file, all at the same score threshold. "
        "Near: the WIDER zoom protocol (503 unoccluded booth faces >= 100 px, IoU >= 0.5); "
        "groups: the seven group events, booth faces by box width, IoU >= 0.4; false: "
        "detections overlapping no labelled box (IoU < 0.2).",
        **report,
    }
    write_yunet_card(model, card)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluate.detector_eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default=DetectorConfig.model, help="int8 YuNet file")
    parser.add_argument("--score-threshold", type=float, default=DetectorConfig.score_threshold)
    parser.add_argument(
        "--candidate-threshold", type=float, default=DetectorConfig.candidate_threshold
    )
    parser.add_argument("--onnx", type=Path, help="YuNet ONNX file: also measure float")
    parser.add_argument("--media-dir", type=Path, default=MEDIA)
    parser.add_argument("--limit", type=int, help="only the first N faces/photos (quick look)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--write-cards", action="store_true", help="put the figures into the models' cards"
    )
    args = parser.parse_args(argv)
    config = DetectorConfig(
        model=args.model,
        score_threshold=args.score_threshold,
        candidate_threshold=args.candidate_threshold,
    )
    report = evaluate(config, args.onnx, args.media_dir, args.limit)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.write_cards:
        write_cards(report, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
