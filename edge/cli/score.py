"""`smilebooth score PATH...`: score photos (or folders of photos), one JSON line per image.

Each line says whether the booth would fire on the image (`ready`: the trigger rule on this
one frame, no hold) and, when not, why and which face (`reason`, `held_by`: the face's
index in `faces`; `message`: the page's words).

Unreadable or non-image files are reported on stderr and skipped; the others are still
scored, and the exit status is 1 at the end if anything was skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edge import exit_codes
from edge.annotate import annotate
from edge.config import AppConfig, ConfigError
from edge.config.command import add_config_argument, config_from_argument
from edge.config.engine import printable
from edge.config.output import ImageConfig
from edge.decide.explain import words
from edge.decide.rule import judge, photo_views
from edge.io import image_io
from edge.io.image_io import IMAGE_SUFFIXES
from edge.io.serialize import frame_to_dict
from edge.perception.pipeline import Pipeline
from edge.progress import Progress
from edge.types import FrameResult

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="images or folders of images")
    add_config_argument(parser)
    parser.add_argument(
        "--annotate",
        type=Path,
        metavar="DIR",
        help="write each image with boxes, keypoints, smile and score drawn",
    )
    parser.add_argument(
        "--mesh",
        action="store_true",
        help="add each face's mesh (478 points, 52 blendshapes) to the JSON, read for it "
        "where the eyes did not need it; needs eyes.reader mesh or cnn+mesh (big: ~10 KB a "
        "face)",
    )
    parser.add_argument(
        "--crops",
        action="store_true",
        help="each image is one face crop already cut: no face detection",
    )


def iter_images(paths: list[Path]) -> Iterator[Path]:
    """Files as given; folders expanded to their image files, sorted, recursively."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path


def read_image(
    path: Path, config: ImageConfig | None = None
) -> tuple[np.ndarray | None, str | None]:
    """(image, None) or (None, reason): never raises for a bad file."""
    result = image_io.read_image(path, config or ImageConfig())
    return result.image, result.problem


def readiness(result: FrameResult, config: AppConfig) -> dict[str, object]:
    """Would the booth fire on this frame, and if not, why (the words the page uses)."""
    trigger = config.trigger
    views = photo_views(result.faces, config.scoring)
    verdict = judge(
        result.group.score, views, trigger.threshold, trigger, config.smile.smiling_threshold
    )
    return {
        "ready": verdict.ready,
        "reason": verdict.reason,
        "held_by": verdict.held_by,
        "message": words(verdict, len(result.faces), trigger),
    }


def score_paths(
    pipeline: Pipeline,
    args: argparse.Namespace,
    config: ImageConfig | None = None,
    app: AppConfig | None = None,
) -> int:
    failures = 0
    if args.annotate:
        args.annotate.mkdir(parents=True, exist_ok=True)
    images = list(iter_images(args.paths))
    progress = Progress(len(images), "scoring")  # a terminal only: nothing in a pipe
    for path in images:
        shown = printable(str(path))  # a file name's ESC or CR never reaches the terminal
        progress.step(printable(path.name))
        read = image_io.read_image(path, config or ImageConfig())
        image = read.image
        if image is None:
            progress.clear()
            print(f"smilebooth score: {shown}: skipped: {read.problem}", file=sys.stderr)
            failures += 1
            continue
        if read.warning:
            progress.clear()
            print(f"smilebooth score: {shown}: warning: {read.warning}", file=sys.stderr)
        if read.reduced > 1:
            progress.clear()
            print(
                f"smilebooth score: {shown}: decoded at 1/{read.reduced} size "
                "(over images.max_pixels)",
                file=sys.stderr,
            )
        result = pipeline.process_crop(image) if args.crops else pipeline.process(image)
        if getattr(args, "mesh", False):
            result = pipeline.with_meshes(image, result)
        line = {"image": str(path), **frame_to_dict(result, getattr(args, "mesh", False))}
        if not args.crops:  # a crop is one face, not a frame the booth would see
            line.update(readiness(result, app or AppConfig()))
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        if args.annotate:
            target = args.annotate / (path.stem + ".jpg")
            target.write_bytes(image_io.encode_jpeg(annotate(image, result)))
    progress.close()
    if failures:
        print(f"smilebooth score: {failures} file(s) could not be scored", file=sys.stderr)
    return exit_codes.SOME_FAILED if failures else exit_codes.OK


def score_command(args: argparse.Namespace) -> int:
    from edge.perception.model_card import ModelCardError
    from edge.perception.pipeline import build_pipeline

    try:
        config = config_from_argument(args.config)
        if getattr(args, "mesh", False) and config.eyes.reader == "cnn":
            raise ConfigError(["--mesh: needs eyes.reader mesh or cnn+mesh (it is cnn)"])
        pipeline = build_pipeline(config, with_detector=not args.crops)
    except ConfigError as exc:
        print(f"smilebooth score: invalid configuration:\n{exc}", file=sys.stderr)
        return exit_codes.CONFIG
    except (ModelCardError, FileNotFoundError, RuntimeError) as exc:
        print(f"smilebooth score: cannot load the models: {exc}", file=sys.stderr)
        return exit_codes.MODELS
    return score_paths(pipeline, args, config.images, config)
