"""`smilebooth train`: train the smile model on FER+ and write a report beside it.

Or fine-tune it: `--init-from models/smile_float.keras` starts from the shipped weights
(convert.smile_float) and `--folder DIR` trains on the user's own labelled face crops
(training.smile_folder: DIR/none, mild, moderate, huge) instead of FER+.

Resumable: Keras' BackupAndRestore keeps the last finished epoch, so running the same
command again after an interruption continues where it stopped. Deterministic: one --seed
gives the same weights on the same machine. Progress is one line per epoch (verbose=2) so
logs stay readable under nohup.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge.perception.crop import CROP_SIZE
from edge.perception.labels import EMOTIONS, INTENSITY
from training import targets
from training.augment import AugmentConfig, augment_batch
from training.ferplus import FerPlusSplit, load_split
from training.model import ARCHITECTURES, build_model

log = logging.getLogger(__name__)
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "ferplus"
LOSS_WEIGHTS = {"emotions": 1.0, "intensity": 0.5, "smiling": 0.5}
# Folder crops are labelled by smile intensity only: no emotion target to learn from.
FOLDER_LOSS_WEIGHTS = {"emotions": 0.0, "intensity": 1.0, "smiling": 0.5}
FINE_TUNE_RATE = 3e-4  # default peak rate from --init-from (a tenth of a fresh start's)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FER+ folder")
    parser.add_argument("--fer2013-csv", type=Path, help="read pixels from this fer2013.csv")
    parser.add_argument("--out", type=Path, default=Path("build/smile"), help="output folder")
    parser.add_argument(
        "--architecture", choices=sorted(ARCHITECTURES), default="small", help="network size"
    )
    parser.add_argument("--epochs", type=int, default=100, help="epochs of the first cycle")
    parser.add_argument("--batch-size", type=int, default=128, help="images per step")
    parser.add_argument(
        "--learning-rate",
        type=float,
        help=f"peak learning rate (default 3e-3; {FINE_TUNE_RATE:g} with --init-from)",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        help="start from this .keras smile model's weights, e.g. models/smile_float.keras "
        "(the shipped model) or an earlier run's best.keras",
    )
    parser.add_argument(
        "--folder",
        type=Path,
        help="train on face crops in FOLDER/none, mild, moderate, huge instead of FER+ "
        "(one cycle; no --restarts or --finetune-epochs)",
    )
    parser.add_argument("--seed", type=int, default=20261124, help="seed of every random draw")
    parser.add_argument(
        "--distance-augment",
        type=float,
        nargs="?",
        const=1.0,
        default=0.0,
        metavar="STRENGTH",
        help="also train on faces as a group at a distance shows them: shrunk to 16-40 px "
        "and back, sensor noise, JPEG (training.augment.AugmentConfig.distance; "
        "STRENGTH scales them, 1 when left out)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny slice, 1 epoch (tests)")
    parser.add_argument(
        "--emotion-balance",
        type=float,
        default=0.0,
        help="power of the inverse-frequency class weights on the emotion loss: 0 trains "
        "on the plain vote distribution (what majority-label accuracy rewards), 1 fully "
        "balances the classes",
    )
    parser.add_argument(
        "--restart-epochs",
        type=int,
        default=12,
        help="then warm restarts on Train: each this many more epochs from the best model, "
        "the rate back up to a third of --learning-rate and decaying again; best.keras is "
        "replaced only by a better Valid score (0: none)",
    )
    parser.add_argument(
        "--restarts",
        type=int,
        default=0,
        help="how many warm restarts follow the first cycle (each from the best model so far)",
    )
    parser.add_argument(
        "--finetune-epochs",
        type=int,
        default=0,
        help="then continue this many epochs on Train+Valid at a low rate "
        "(the schedule was chosen on Valid; the result is final.keras)",
    )


def _weighted_losses(train: FerPlusSplit, emotion_balance: float) -> dict[str, Any]:
    """Losses with class weights folded in: imbalance handled without sample_weight plumbing.

    The rare intensity and smiling classes are up-weighted (their macro recall matters);
    the emotion head by default is not: its soft vote targets already carry the minority
    emotions, and weighting them trades majority-label accuracy for rare-class recall.
    """
    import tensorflow as tf

    emotion_w = tf.constant(
        targets.balanced_weights(
            targets.majority_emotion(train.votes), len(EMOTIONS), emotion_balance
        )
    )
    intensity_w = tf.constant(
        targets.balanced_weights(targets.intensity_targets(train.votes), len(INTENSITY), 0.6)
    )
    smiling_w = tf.constant(
        targets.balanced_weights(targets.smiling_targets(train.votes).astype(int), 2, 0.5)
    )

    def emotions_loss(y_true: Any, y_pred: Any) -> Any:
        weight = tf.gather(emotion_w, tf.argmax(y_true, axis=1))
        ce = -tf.reduce_sum(y_true * tf.math.log(tf.clip_by_value(y_pred, 1e-7, 1.0)), axis=1)
        return ce * weight

    def intensity_loss(y_true: Any, y_pred: Any) -> Any:
        labels = tf.cast(tf.reshape(y_true, [-1]), tf.int32)
        ce = tf.keras.losses.sparse_categorical_crossentropy(labels, y_pred)
        return ce * tf.gather(intensity_w, labels)

    def smiling_loss(y_true: Any, y_pred: Any) -> Any:
        y = tf.reshape(y_true, [-1])
        p = tf.clip_by_value(tf.reshape(y_pred, [-1]), 1e-7, 1 - 1e-7)
        bce = -(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
        return bce * tf.gather(smiling_w, tf.cast(y, tf.int32))

    return {"emotions": emotions_loss, "intensity": intensity_loss, "smiling": smiling_loss}


def _targets(split: FerPlusSplit) -> dict[str, np.ndarray]:
    return {
        "emotions": targets.emotion_targets(split.votes),
        "intensity": targets.intensity_targets(split.votes).astype(np.float32),
        "smiling": targets.smiling_targets(split.votes),
    }


class _BatchRandom:
    """Random numbers for one batch's augmentation, drawn from that batch's own seed.

    Stateless draws keyed by a per-batch seed give the same augmentation whichever order
    the parallel input pipeline prepares batches in; a stateful generator shared by
    parallel calls does not, and then two runs with the same --seed differ.
    """

    def __init__(self, batch_seed: Any) -> None:
        self._seed = batch_seed
        self._draws = 0

    def uniform(self, shape: Any, low: float, high: float) -> Any:
        import tensorflow as tf

        self._draws += 1  # each draw of the traced function gets its own stream
        seed = tf.stack([self._seed, tf.constant(self._draws, tf.int64)])
        return tf.random.stateless_uniform(shape, seed, low, high)


def make_dataset(
    split: FerPlusSplit,
    batch: int,
    training: bool,
    seed: int,
    config: AugmentConfig | None = None,
) -> Any:
    import tensorflow as tf

    images = split.images[..., None]
    data = tf.data.Dataset.from_tensor_slices((images, _targets(split)))
    if training:
        data = data.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch)
    augment = config or AugmentConfig()

    def scaled(x: Any, y: Any) -> Any:
        # edge.perception.crop.model_input, written in TensorFlow for the tf.data graph
        return tf.cast(x, tf.float32) / 255.0, y

    if not training:
        return data.map(scaled, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)

    def augmented(batch: Any, batch_seed: Any) -> Any:
        x, y = scaled(*batch)
        return augment_batch(x, augment, _BatchRandom(batch_seed)), y

    # One seed per batch, a new sequence each epoch, the same sequences in every run.
    batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    data = tf.data.Dataset.zip(data, batch_seeds)
    return data.map(augmented, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def augment_config(args: argparse.Namespace) -> AugmentConfig:
    strength = getattr(args, "distance_augment", 0.0)
    return AugmentConfig.distance(strength) if strength else AugmentConfig()


def cosine_schedule(epochs: int, base: float, warmup: int = 2) -> Any:
    """Linear warm-up for `warmup` epochs, then a cosine decay to 2 % of `base`."""

    def rate(epoch: int, _current: float = 0.0) -> float:
        if epoch < warmup:
            return base * (epoch + 1) / (warmup + 1)
        progress = (epoch - warmup) / max(1, epochs - warmup)
        return 0.02 * base + 0.98 * base * 0.5 * (1 + math.cos(math.pi * progress))

    return rate


def _keep_best_on_valid(out: Path, above: float | None = None, monitor: str = "") -> Any:
    """Saves OUT/best.keras whenever the Valid score beats its best (and `above`)."""
    import keras

    return keras.callbacks.ModelCheckpoint(
        str(out / "best.keras"),
        monitor=monitor or VALID_SCORE,
        mode="max",
        save_best_only=True,
        initial_value_threshold=above,
    )


class TrainArgumentError(ValueError):
    """A command-line choice that cannot work (a bad --init-from file, a bad combination)."""


VALID_SCORE = "val_emotions_categorical_accuracy"
# A folder has no emotion labels: its epochs are chosen on Valid smile intensity.
FOLDER_VALID_SCORE = "val_intensity_sparse_categorical_accuracy"


def training_data(args: argparse.Namespace) -> tuple[FerPlusSplit, FerPlusSplit]:
    """Train and Valid: FER+ (the default) or the labelled face crops of --folder."""
    if args.folder is None:
        return (
            load_split(args.data, "train", fer2013_csv=args.fer2013_csv),
            load_split(args.data, "valid", fer2013_csv=args.fer2013_csv),
        )
    if args.restarts or args.finetune_epochs:
        raise TrainArgumentError(
            "--folder trains one cycle: --restarts and --finetune-epochs are for FER+"
        )
    from training.smile_folder import load_smile_folder

    splits = load_smile_folder(args.folder)
    return splits["train"], splits["valid"]


def starting_model(args: argparse.Namespace) -> Any:
    """A fresh network, or (--init-from) a saved smile model with its weights."""
    if args.init_from is None:
        return build_model(args.architecture)
    import keras

    path = Path(args.init_from)
    if not path.is_file():
        raise TrainArgumentError(f"--init-from {path}: no such file")
    try:
        model = keras.models.load_model(path, compile=False)
    except (ValueError, OSError) as exc:
        raise TrainArgumentError(f"--init-from {path}: not a Keras model ({exc})") from exc
    heads = set(getattr(model, "output_names", None) or model.output)
    if tuple(model.input_shape[1:]) != (CROP_SIZE, CROP_SIZE, 1) or not heads >= set(LOSS_WEIGHTS):
        raise TrainArgumentError(
            f"--init-from {path}: input {model.input_shape}, outputs {sorted(heads)}; "
            f"expected a smile model (48x48x1 in; {', '.join(LOSS_WEIGHTS)} out)"
        )
    log.info("starting from %s", path)
    return model


def train(args: argparse.Namespace) -> Path:
    train_split, valid_split = training_data(args)  # bad data stops here, before TensorFlow
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    # Kernels with a deterministic variant use it: with the seeded input pipeline, the same
    # command trains the same weights on the same machine.
    tf.config.experimental.enable_op_determinism()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.learning_rate is None:
        args.learning_rate = FINE_TUNE_RATE if args.init_from else 3e-3
    epochs, batch = args.epochs, args.batch_size
    if args.smoke:
        rng = np.random.default_rng(args.seed)
        train_split = train_split.subset(
            rng.choice(len(train_split), min(512, len(train_split)), replace=False)
        )
        valid_split = valid_split.subset(np.arange(min(256, len(valid_split))))
        epochs, batch = 1, 64
        args.restart_epochs = min(args.restart_epochs, 1)
    log.info(
        "train %d images, valid %d; %s, %d epochs",
        len(train_split),
        len(valid_split),
        args.init_from or args.architecture,
        epochs,
    )
    model = starting_model(args)
    model.compile(
        optimizer=keras.optimizers.AdamW(args.learning_rate, weight_decay=1e-4),
        loss=_weighted_losses(train_split, args.emotion_balance),
        loss_weights=LOSS_WEIGHTS if args.folder is None else FOLDER_LOSS_WEIGHTS,
        metrics={
            "emotions": ["categorical_accuracy"],
            "smiling": ["binary_accuracy"],
            "intensity": ["sparse_categorical_accuracy"],
        },
    )
    callbacks = [
        # Kept when the cycle ends: a run stopped in the warm restart resumes there, not
        # from epoch 1 of this cycle.
        keras.callbacks.BackupAndRestore(str(cycle_files(out, 0)[0]), delete_checkpoint=False),
        keras.callbacks.LearningRateScheduler(cosine_schedule(epochs, args.learning_rate)),
        keras.callbacks.CSVLogger(str(cycle_files(out, 0)[1]), append=True),
        _keep_best_on_valid(
            out, monitor=VALID_SCORE if args.folder is None else FOLDER_VALID_SCORE
        ),
    ]
    started = time.monotonic()
    model.fit(
        make_dataset(train_split, batch, True, args.seed, augment_config(args)),
        shuffle=False,  # make_dataset shuffles, with its own seed
        epochs=epochs,
        verbose=2,
        validation_data=make_dataset(valid_split, 256, False, args.seed),
        callbacks=callbacks,
    )
    restarts = args.restarts if args.restart_epochs else 0
    for cycle in range(1, restarts + 1):
        warm_restart(out, train_split, valid_split, args, cycle)
    log.info("training took %.0f s", time.monotonic() - started)
    (out / "train_args.json").write_text(
        json.dumps({k: str(v) for k, v in vars(args).items() if k != "func"}, indent=2)
    )
    if args.finetune_epochs:
        return finetune(out / "best.keras", train_split, valid_split, args)
    return out / "best.keras"


def cycle_files(out: Path, cycle: int) -> tuple[Path, Path]:
    """Backup folder and history file of cycle 0 (the first), 1, 2... Each cycle has its
    own backup, so an interruption resumes inside the cycle it stopped in."""
    suffix = "" if cycle == 0 else "_restart" if cycle == 1 else f"_restart{cycle}"
    return out / f"checkpoints{suffix}", out / f"history{suffix}.csv"


def _best_valid_so_far(out: Path, cycles: int) -> float:
    """The best Valid emotion accuracy logged by cycles 0 .. cycles-1."""
    import csv

    scores = []
    for cycle in range(cycles):
        with cycle_files(out, cycle)[1].open() as handle:
            scores += [float(row[VALID_SCORE]) for row in csv.DictReader(handle)]
    return max(scores)


def warm_restart(
    out: Path,
    train_split: FerPlusSplit,
    valid_split: FerPlusSplit,
    args: argparse.Namespace,
    cycle: int = 1,
) -> None:
    """Another cosine cycle from the best model (SGDR): the rate rises again and decays,
    which moves the model out of its minimum into a better one (the first restart: Valid
    +0.5 points). best.keras changes only when Valid beats every earlier epoch."""
    import keras

    best = _best_valid_so_far(out, cycle)
    keras.utils.set_random_seed(args.seed + 2 * cycle)
    model = keras.models.load_model(out / "best.keras", compile=False)
    epochs, rate = args.restart_epochs, args.learning_rate / 3
    model.compile(
        optimizer=keras.optimizers.AdamW(rate, weight_decay=1e-4),
        loss=_weighted_losses(train_split, args.emotion_balance),
        loss_weights=LOSS_WEIGHTS,
        metrics={"emotions": ["categorical_accuracy"]},
    )
    backup, history = cycle_files(out, cycle)
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False),
        keras.callbacks.LearningRateScheduler(cosine_schedule(epochs, rate, warmup=0)),
        keras.callbacks.CSVLogger(str(history), append=True),
        _keep_best_on_valid(out, above=best),
    ]
    log.info("warm restart %d: %d epochs from Valid %.4f", cycle, epochs, best)
    model.fit(
        make_dataset(
            train_split, args.batch_size, True, args.seed + 2 * cycle, augment_config(args)
        ),
        shuffle=False,
        epochs=epochs,
        verbose=2,
        validation_data=make_dataset(valid_split, 256, False, args.seed),
        callbacks=callbacks,
    )


def finetune(
    best: Path, train_split: FerPlusSplit, valid_split: FerPlusSplit, args: argparse.Namespace
) -> Path:
    """A few more epochs on Train+Valid at a small, decaying rate, from the best model."""
    import keras

    model = keras.models.load_model(best, compile=False)
    both = FerPlusSplit(
        np.concatenate([train_split.images, valid_split.images]),
        np.concatenate([train_split.votes, valid_split.votes]),
        train_split.names + valid_split.names,
    )
    epochs = args.finetune_epochs
    rate = args.learning_rate / 10
    model.compile(
        optimizer=keras.optimizers.AdamW(rate, weight_decay=1e-4),
        loss=_weighted_losses(both, args.emotion_balance),
        loss_weights=LOSS_WEIGHTS,
    )
    schedule = keras.callbacks.LearningRateScheduler(
        lambda epoch, _lr: rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    )
    model.fit(
        make_dataset(both, args.batch_size, True, args.seed + 1, augment_config(args)),
        shuffle=False,
        epochs=epochs,
        verbose=2,
        callbacks=[schedule],
    )
    final = best.parent / "final.keras"
    model.save(final)
    return final
