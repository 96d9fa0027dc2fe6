"""The same `smilebooth train` command trains the same weights (needs TensorFlow)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.paths import FERPLUS, ROOT, require

pytest.importorskip("tensorflow", reason="the train extra is not installed")
pytestmark = [pytest.mark.train]


def _epoch(dataset) -> np.ndarray:
    return np.concatenate([np.asarray(images) for images, _ in dataset])


def test_augmented_batches_repeat_across_runs_and_change_every_epoch() -> None:
    from training.ferplus import load_split
    from training.train import make_dataset

    split = load_split(require(FERPLUS), "valid").subset(np.arange(96))
    first = make_dataset(split, 32, True, seed=5)
    again = make_dataset(split, 32, True, seed=5)
    other_seed = make_dataset(split, 32, True, seed=6)

    epoch_one, epoch_two = _epoch(first), _epoch(first)
    np.testing.assert_array_equal(epoch_one, _epoch(again))
    np.testing.assert_array_equal(epoch_two, _epoch(again))
    assert not np.array_equal(epoch_one, epoch_two), "epoch 2 repeated epoch 1"
    assert not np.array_equal(epoch_one, _epoch(other_seed))
    # augmented, not just shuffled: pixels differ from every original crop
    originals = split.images.astype(np.float32) / 255.0
    assert not any(np.allclose(epoch_one[0, ..., 0], crop) for crop in originals)


def test_distance_augmentation_repeats_and_softens_faces() -> None:
    """--distance-augment: faces shrunk and brought back, noisy, some batches JPEG; the same
    seed gives the same batches, and the images lose fine detail (what a small face does)."""
    from training.augment import AugmentConfig
    from training.ferplus import load_split
    from training.train import make_dataset

    split = load_split(require(FERPLUS), "valid").subset(np.arange(96))
    distance = AugmentConfig.distance()
    one = _epoch(make_dataset(split, 32, True, seed=5, config=distance))
    np.testing.assert_array_equal(
        one, _epoch(make_dataset(split, 32, True, seed=5, config=distance))
    )
    plain = _epoch(make_dataset(split, 32, True, seed=5))
    assert one.shape == plain.shape and one.min() >= 0.0 and one.max() <= 1.0

    def detail(images: np.ndarray) -> float:  # high-frequency energy: mean |Laplacian|
        lap = 4 * images[:, 1:-1, 1:-1] - images[:, :-2, 1:-1] - images[:, 2:, 1:-1]
        return float(np.abs(lap - images[:, 1:-1, :-2] - images[:, 1:-1, 2:]).mean())

    assert not np.array_equal(one, plain)
    shrunk = _epoch(make_dataset(split, 32, True, 5, AugmentConfig(shrink_probability=1.0)))
    assert detail(shrunk) < 0.85 * detail(plain)


@pytest.mark.slow
def test_the_same_command_trains_the_same_weights(tmp_path) -> None:
    import keras

    data = require(FERPLUS)
    weights = []
    for name in ("one", "two"):
        out = tmp_path / name
        command = ["train", "--smoke", "--restarts", "0", "--out", str(out), "--data", str(data)]
        subprocess.run(
            [sys.executable, "-m", "edge.cli", *command],
            cwd=ROOT,
            check=True,
            timeout=600,
            capture_output=True,
        )
        weights.append(keras.models.load_model(out / "best.keras", compile=False).get_weights())
    for left, right in zip(*weights, strict=True):
        np.testing.assert_array_equal(left, right)
