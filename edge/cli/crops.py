"""`smilebooth crops SOURCE... --out DIR`: cut eye and face crops the way the device does.

Faces come from the device's own detector (config.yaml's detector section) and are cut by
edge.perception.crop / edge.perception.eye_crop, the functions the live loop uses, so crops
sorted into open/ and closed/ (or smile classes) train a model on exactly the framing it
will see.
Eye crops keep their native resolution (training shrinks them to booth sizes itself);
face crops are the smile model's 48x48 input.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from edge.cli.score import iter_images
from edge.config import ConfigError
from edge.config.command import add_config_argument, config_from_argument
from edge.io.image_io import read_image
from edge.io.video import video_frames
from edge.perception.crop import crop_face, to_gray
from edge.perception.eye_crop import EYE_CROP_SIZE, EYES, crop_eye, eye_geometry
from edge.types import Face

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", type=Path, help="photos, folders or video files")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/eyes/, OUT/faces/")
    parser.add_argument("--eyes", action="store_true", help="cut eye crops")
    parser.add_argument("--faces", action="store_true", help="cut face crops")
    parser.add_argument("--every", type=int, default=1, help="video: every Nth frame")
    add_config_argument(parser)


def frames_of(path: Path, every: int) -> Iterator[tuple[str, np.ndarray]]:
    """(name, BGR image) of a photo, or of every `every`-th frame of a video."""
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        read = read_image(path)  # bytes decoded: cv2.imread crashes on some file names
        if read.image is None:
            raise ValueError(f"{path}: cannot be read as an image ({read.problem})")
        yield path.stem, read.image
        return
    decoded = 0
    for index, frame in video_frames(path, every):
        decoded += 1
        yield f"{path.stem}-{index:05d}", frame
    if decoded == 0:
        raise ValueError(f"{path}: no frame could be decoded")


def eye_crops(gray: np.ndarray, face: Face) -> list[np.ndarray]:
    """Both eyes at the run-time framing, at their native size (at least the model's)."""
    geometry = eye_geometry(face)
    if geometry is None or face.keypoints is None:
        return []
    side, angle = geometry
    size = max(EYE_CROP_SIZE, round(side))
    points = (face.keypoints.right_eye, face.keypoints.left_eye)
    return [crop_eye(gray, point, side, angle, size) for point in points]


def write_crops(
    name: str, image: np.ndarray, faces: tuple[Face, ...], out: Path, eyes: bool, whole_faces: bool
) -> int:
    gray = to_gray(image)
    written = 0
    for number, face in enumerate(faces):
        if whole_faces:
            cv2.imwrite(str(out / "faces" / f"{name}-f{number}.png"), crop_face(gray, face.box))
            written += 1
        if eyes:
            for which, crop in zip(EYES, eye_crops(gray, face), strict=False):
                cv2.imwrite(str(out / "eyes" / f"{name}-f{number}-{which}.png"), crop)
                written += 1
    return written


def crops_command(args: argparse.Namespace) -> int:
    from edge.perception.pipeline import build_face_detector

    eyes, faces = args.eyes, args.faces
    if not eyes and not faces:
        eyes = faces = True
    try:
        config = config_from_argument(args.config).detector
    except ConfigError as exc:
        print(f"smilebooth crops: {exc}", file=sys.stderr)
        return 2
    detector = build_face_detector(config)
    for kind, wanted in (("eyes", eyes), ("faces", faces)):
        if wanted:
            (args.out / kind).mkdir(parents=True, exist_ok=True)
    written = failed = 0
    for path in iter_images(args.sources) if args.sources else []:
        try:
            for name, image in frames_of(path, max(1, args.every)):
                found = tuple(
                    f
                    for f in detector.detect(image)
                    if max(f.box.width, f.box.height) >= config.min_face_px
                )
                written += write_crops(name, image, found, args.out, eyes, faces)
        except ValueError as exc:
            print(f"smilebooth crops: {exc}", file=sys.stderr)
            failed += 1
    log.info("wrote %d crops to %s", written, args.out)
    return 1 if failed else 0
