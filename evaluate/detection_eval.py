"""Detection quality on real photos: faces-dlib recall, extra detections, float-vs-int8 match.

numpy/OpenCV only, so the tests can use it without TensorFlow.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.decide.matching import greedy_matches
from edge.io.video import video_frames as read_video
from edge.types import Box, Face

Detect = Callable[[np.ndarray], Sequence[Face]]


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    faces: tuple[Box, ...]


def read_imglab(xml_path: Path) -> list[LabelledImage]:
    """dlib imglab XML: <image file=...><box top left width height/>...</image>."""
    images = []
    for image in ET.parse(xml_path).getroot().iter("image"):
        boxes = []
        for box in image.iter("box"):
            if box.get("ignore") == "1":
                continue
            top, left = float(box.get("top")), float(box.get("left"))
            width, height = float(box.get("width")), float(box.get("height"))
            boxes.append(Box(left, top, left + width, top + height))
        images.append(LabelledImage(xml_path.parent / image.get("file"), tuple(boxes)))
    return images


def faces_dlib(media: Path) -> list[LabelledImage]:
    folder = media / "faces-dlib"
    return read_imglab(folder / "training.xml") + read_imglab(folder / "testing.xml")


def match(truth: Sequence[Box], found: Sequence[Box], threshold: float) -> list[float]:
    """Greedy one-to-one matching; returns the IoU of each matched truth box."""
    return [iou for _, _, iou in greedy_matches(truth, found, threshold)]


def recall_report(detect: Detect, media: Path, threshold: float = 0.4) -> dict[str, object]:
    """Recall on faces-dlib's 43 labelled faces, extra detections, and faces found on dogs."""
    found_total, truth_total, extras, per_image = 0, 0, 0, {}
    for item in faces_dlib(media):
        image = cv2.imread(str(item.path))
        boxes = [face.box for face in detect(image)]
        matched = match(item.faces, boxes, threshold)
        found_total += len(matched)
        truth_total += len(item.faces)
        extras += len(boxes) - len(matched)
        per_image[item.path.name] = {
            "faces": len(item.faces),
            "found": len(matched),
            "detections": len(boxes),
        }
    dogs = detect(cv2.imread(str(media / "faces-dlib" / "dogs.jpg")))
    return {
        "found": found_total,
        "faces": truth_total,
        "extra_detections": extras,
        "dogs_detections": len(dogs),
        "iou_threshold": threshold,
        "per_image": per_image,
    }


def agreement(
    reference: Detect, candidate: Detect, images: Sequence[np.ndarray]
) -> dict[str, float]:
    """How closely one detector's boxes match another's (e.g. int8 vs float) on real images."""
    ious, missing, extra = [], 0, 0
    for image in images:
        ref = [f.box for f in reference(image)]
        got = [f.box for f in candidate(image)]
        matched = match(ref, got, 0.3)
        ious += matched
        missing += len(ref) - len(matched)
        extra += len(got) - len(matched)
    return {
        "matched": len(ious),
        "mean_iou": float(np.mean(ious)) if ious else 0.0,
        "min_iou": float(np.min(ious)) if ious else 0.0,
        "missing": missing,
        "extra": extra,
        "images": len(images),
    }


def video_frames(path: Path, every: int = 1) -> list[np.ndarray]:
    """Every `every`-th frame of a video, in memory (the test videos are short)."""
    return [frame for _, frame in read_video(path, every)]
