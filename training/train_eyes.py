"""`smilebooth train eyes`: the eye-state model from a folder of labelled eye crops.

DATA/open/ and DATA/closed/ (any image files; label = folder name, so users can add their
own eyes, e.g. cut by `smilebooth crops --eyes`). Split by a hash of the file name: Train
is augmented into booth-like crops, the epoch is chosen on Valid (eye widths 5-40 px),
Test is only read by the report and by convert. Resumable (BackupAndRestore keeps the last
finished epoch); --init-from starts from an earlier model's weights (a fine-tune).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge.perception.crop import model_input
from training.eyes_data import EyeAugment, augmented_set, eval_set
from training.eyes_eval import CLASSES
from training.folders import LabelledImages, load_folder, split_of
from training.train import cosine_schedule

log = logging.getLogger(__name__)
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "eyes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder with open/, closed/"
    )
    parser.add_argument(
        "--extra-data",
        type=Path,
        action="append",
        default=[],
        help="also train on this folder with open/, closed/ (repeatable): all of it but its "
        "Valid share, which joins the epoch choice; its Test share is held back by its source "
        "(e.g. eyes cut from faces-eyes by `python -m training.faces_eyes_crops`)",
    )
    parser.add_argument(
        "--extra-weight",
        type=int,
        default=1,
        help="each --extra-data image gives this many times --copies training crops",
    )
    parser.add_argument("--out", type=Path, default=Path("build/eyes"), help="output folder")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--copies", type=int, default=16, help="augmented crops per image")
    parser.add_argument(
        "--centre-shift",
        type=float,
        default=EyeAugment.centre_shift,
        help="sd of the crop-centre shift (keypoint error), in crop sides",
    )
    parser.add_argument(
        "--min-eye-width",
        type=float,
        default=EyeAugment.eye_width[0],
        help="smallest eye width (px) training shrinks to",
    )
    parser.add_argument(
        "--narrow-probability",
        type=float,
        default=0.35,
        help="share of training crops whose eye is narrowed (lid band squeezed)",
    )
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--init-from", type=Path, help="start from this .keras model's weights")
    parser.add_argument("--smoke", action="store_true", help="tiny slice, 1 epoch (tests)")


def splits(data: Path) -> dict[str, LabelledImages]:
    everything = load_folder(data, CLASSES)
    return {name: everything.split(name) for name in ("train", "valid", "test")}


def with_extra(
    parts: dict[str, LabelledImages], extra: list[Path], weight: int = 1
) -> tuple[LabelledImages, LabelledImages]:
    """(train, valid): the main data's, plus each extra folder's images, their Valid share
    to valid and the rest to train, `weight` times over (an extra folder's own held-back
    faces never reach it: its source keeps them, as faces-eyes keeps its Test half)."""
    train, valid = parts["train"], parts["valid"]
    for folder in extra:
        more = load_folder(folder, CLASSES)
        keep = [i for i, p in enumerate(more.paths) if split_of(p) != "valid"]
        train = train.joined(more.subset(keep * weight))
        valid = valid.joined(more.split("valid"))
    return train, valid


def as_input(crops: np.ndarray) -> np.ndarray:
    """uint8 (N, S, S) -> float (N, S, S, 1) in 0..1: the int8 model's float contract."""
    return model_input(crops[..., None])


def _as_json(value: Any) -> Any:
    """An argument as the card shows it: numbers and flags as they are, paths as text."""
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    return value if isinstance(value, bool | int | float) or value is None else str(value)


def _model(args: argparse.Namespace) -> Any:
    import keras

    from training.eyes_model import build_eye_model

    if args.init_from is None:
        return build_eye_model()
    log.info("starting from %s", args.init_from)
    return keras.models.load_model(args.init_from, compile=False)


def train_eyes(args: argparse.Namespace) -> Path:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    train, valid = with_extra(splits(args.data), args.extra_data, args.extra_weight)
    epochs, copies = args.epochs, args.copies
    if args.smoke:
        train, valid, epochs, copies = train.subset(range(64)), valid.subset(range(32)), 1, 2
    augment = EyeAugment(
        eye_width=(args.min_eye_width, EyeAugment.eye_width[1]),
        centre_shift=args.centre_shift,
        narrow_probability=args.narrow_probability,
    )
    x_train, y_train = augmented_set(train.images, train.labels, copies, args.seed, augment)
    x_valid, y_valid, _ = eval_set(valid.images, valid.labels)
    log.info("train %d crops of %d images, valid %d crops", len(x_train), len(train), len(x_valid))
    model = _model(args)
    model.compile(
        optimizer=keras.optimizers.AdamW(args.learning_rate, weight_decay=1e-4),
        loss="binary_crossentropy",
        metrics=["binary_accuracy"],
    )
    callbacks = [
        keras.callbacks.BackupAndRestore(str(out / "checkpoints"), delete_checkpoint=False),
        keras.callbacks.LearningRateScheduler(
            cosine_schedule(epochs, args.learning_rate, warmup=1)
        ),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        keras.callbacks.ModelCheckpoint(
            str(out / "best.keras"), monitor="val_loss", mode="min", save_best_only=True
        ),
    ]
    started = time.monotonic()
    model.fit(
        as_input(x_train),
        y_train.astype(np.float32),
        batch_size=args.batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=2,
        validation_data=(as_input(x_valid), y_valid.astype(np.float32)),
        callbacks=callbacks,
    )
    log.info("training took %.0f s", time.monotonic() - started)
    (out / "train_args.json").write_text(
        json.dumps({k: _as_json(v) for k, v in vars(args).items() if k != "func"}, indent=2)
    )
    return out / "best.keras"
