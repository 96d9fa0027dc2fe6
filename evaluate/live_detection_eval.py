"""`python -m evaluate.live_detection_eval`: the live loop's detection schedule on moving faces.

The photo figures (`evaluate.detector_eval`) measure one thorough pass per photo; the live
loop tracks faces with a cheap pass and searches for new ones now and then
(`edge.perception.detection_schedule`). This pans a 16:9 window across each WIDER group
photo (30 frames, left to right, 640 px wide, the labelled boxes moved with it), runs a
fresh live schedule over the frames and prints recall at IoU >= 0.4 for booth faces >= 32
and >= 48 px wholly in the frame, and false detections (overlapping no labelled box:
IoU < 0.2) per 100 frames; with --eyes also the live loop's eyes on group photos held
still (against the photo pass) and on the blink video (against its labels). For an
earlier schedule, copy this file into a checkout of that commit and run it there
(a135a3d, the thorough pass every 10th frame: 88.7 / 87.7 %, 9.3 false per 100 frames on
the first 100 photos). numpy/OpenCV only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.config.perception import DetectorConfig
from edge.perception.detection_schedule import ScheduledDetector
from edge.perception.face_detector import FaceDetector
from edge.progress import Progress
from edge.types import Box
from evaluate.detector_eval import FALSE_IOU, GROUP_SIZES, MEDIA, _matched_truth, labelled_box
from evaluate.wider import WiderImage, group_images, read_image

FRAMES = 30
WIDTH = 640


def panned(photo: np.ndarray, image: WiderImage, frames: int = FRAMES):
    """(frame, labelled boxes in it, booth face wholly inside?) along a left-to-right pan
    of a window 3/4 of the photo wide, 16:9 (or the photo's height), brought to WIDTH."""
    height, width = photo.shape[:2]
    window_w = int(width * 0.75)
    window_h = min(height, int(window_w * 9 / 16))
    y0 = (height - window_h) // 2
    scale = WIDTH / window_w
    size = (WIDTH, round(window_h * scale))
    for k in range(frames):
        x0 = int((width - window_w) * k / (frames - 1))
        window = photo[y0 : y0 + window_h, x0 : x0 + window_w]
        frame = cv2.resize(window, size, interpolation=cv2.INTER_AREA)
        truth, booth = [], []
        for face in image.faces:
            b = face.box
            box = Box(
                (b.x1 - x0) * scale, (b.y1 - y0) * scale, (b.x2 - x0) * scale, (b.y2 - y0) * scale
            )
            inside = box.x1 >= 0 and box.y1 >= 0 and box.x2 <= size[0] and box.y2 <= size[1]
            truth.append(box)
            booth.append(face.booth and inside)
        yield frame, truth, booth


class _Tally:
    """Recall by face size and false detections over panned frames, for one detector."""

    def __init__(self) -> None:
        self.faces = {size: 0 for size in GROUP_SIZES}
        self.found = {size: 0 for size in GROUP_SIZES}
        self.false = self.frames = 0

    def add(self, faces: Any, truth: list[Box], booth: list[bool]) -> None:
        boxes = [labelled_box(face.box) for face in faces]
        matched = _matched_truth(truth, boxes, 0.4)
        for i, box in enumerate(truth):
            for size in GROUP_SIZES:
                if booth[i] and box.width >= size:
                    self.faces[size] += 1
                    self.found[size] += i in matched
        self.false += sum(1 for b in boxes if max((t.iou(b) for t in truth), default=0) < FALSE_IOU)
        self.frames += 1

    def report(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "recall": {
                f">={s}px": round(100 * self.found[s] / max(1, self.faces[s]), 1)
                for s in GROUP_SIZES
            },
            "faces": {f">={s}px": self.faces[s] for s in GROUP_SIZES},
            "false_per_100_frames": round(100 * self.false / max(1, self.frames), 1),
        }


def evaluate(
    config: DetectorConfig, wider: Path, photos: int | None, photo_pass: bool = True
) -> dict[str, Any]:
    """The live schedule on panned group photos and, on the very same frames, the photo
    pass (`FaceDetector.detect` on each frame alone): what the schedule gives up."""
    detector = FaceDetector(config, root=Path(__file__).resolve().parents[1])
    live_tally, photo_tally = _Tally(), _Tally()
    images = group_images(wider)[:photos]
    progress = Progress(len(images), "panned group photos")
    for image in images:
        progress.step(image.path.name)
        live = ScheduledDetector(detector, config.thorough_every, config.track_every)
        for frame, truth, booth in panned(read_image(image.path), image):
            live_tally.add(live.detect(frame), truth, booth)
            if photo_pass:
                photo_tally.add(detector.detect(frame), truth, booth)
    progress.close()
    report = {"photos": len(images), **live_tally.report()}
    if photo_pass:
        report["photo_pass"] = photo_tally.report()
    return report


def still_group_eyes(
    config: Any, photos: int = 80, frames: int = 12, noise: float = 0.0, skip_still: bool = True
) -> dict[str, Any]:
    """Group photos (faces-dlib and the first `photos` WIDER group photos, at 640 px, two
    faces >= 32 px or more) held still for `frames` live frames: the share of faces whose
    eyes_open on the frames after the first equals the photo pass's. `noise`: each frame
    gets Gaussian noise of this many grey levels (a camera's frames are never identical;
    without noise a look skipped on an unchanged square repeats the photo pass exactly)."""
    from edge.perception.pipeline import build_pipeline
    from evaluate.detection_eval import faces_dlib

    images = [read_image(item.path) for item in faces_dlib(MEDIA)]
    images += [read_image(image.path) for image in group_images(MEDIA / "wider")[:photos]]
    photo = build_pipeline(config)
    rng = np.random.default_rng(0)
    same = total = used = 0
    for image in images:
        if image.shape[1] > WIDTH:
            size = (WIDTH, round(image.shape[0] * WIDTH / image.shape[1]))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        truth = [f for f in photo.process(image).faces if f.face.box.width >= 32]
        if len(truth) < 2:
            continue
        used += 1
        live = build_pipeline(config, live=True)
        live.parts.detector.skip_still = skip_still
        for n in range(frames):
            frame = image
            if noise:
                grain = rng.normal(0.0, noise, image.shape)
                frame = np.clip(image + grain, 0, 255).astype(np.uint8)
            seen = live.process(frame).faces
            if n == 0:
                continue  # the first frame is the photo pass itself
            for face in truth:
                match = max(seen, key=lambda f: f.face.box.iou(face.face.box), default=None)
                if match is not None and match.face.box.iou(face.face.box) >= 0.5:
                    total += 1
                    same += match.eyes_open == face.eyes_open
    return {
        "photos": used,
        "noise": noise,
        "skip_still": skip_still,
        "faces_compared": total,
        "eyes_as_photo_pass": round(100 * same / max(1, total), 1),
    }


def blink_live(config: Any) -> dict[str, Any]:
    """The blink video's hand labels against the live loop's eyes (evaluate.eyes_real
    measures the photo pass)."""
    from edge.perception.pipeline import build_pipeline
    from evaluate.eyes_real import BLINK_VIDEO, read_blink_labels, read_video, runs

    labels = read_blink_labels()
    live = build_pipeline(config, live=True)
    closed = []
    for frame in read_video(BLINK_VIDEO):
        faces = sorted(live.process(frame).faces, key=lambda f: -f.face.box.area)
        closed.append(bool(faces) and faces[0].eyes_open == 0)
    predicted = np.array(closed)
    right = predicted == labels.closed
    caught = [bool(predicted[a : b + 1].any()) for a, b in runs(labels.closed)]
    return {
        "frame_accuracy": round(100 * float(right.mean()), 2),
        "blinks_caught": f"{sum(caught)}/{len(caught)}",
        "false_closed_frames": int((predicted & ~labels.closed).sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluate.live_detection_eval")
    parser.add_argument("--wider", type=Path, default=MEDIA / "wider")
    parser.add_argument("--photos", type=int, default=100, help="the first N group photos")
    parser.add_argument(
        "--eyes", action="store_true", help="also the eyes: still group photos, blink video"
    )
    args = parser.parse_args(argv)
    print(json.dumps(evaluate(DetectorConfig(), args.wider, args.photos)))
    if args.eyes:
        from edge.config import AppConfig

        for noise in (0.0, 2.0):
            for skip in (True, False):
                groups = still_group_eyes(AppConfig(), noise=noise, skip_still=skip)
                print(json.dumps({"still_groups": groups}))
        print(json.dumps({"blink_video_live": blink_live(AppConfig())}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
