"""Eyes cut from faces-eyes for the eye CNN: only from its training faces, never a Test one,
and joined to the eye crops the way `train eyes --extra-data` says."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np

from evaluate.faces_eyes_split import is_eye_training, is_test
from evaluate.mesh_eyes_eval import balanced_interval, faces, figures, part_mask
from tests.paths import SHARED, require
from training.faces_eyes_crops import cut_eyes
from training.folders import split_of
from training.train_eyes import splits, with_extra

FACES_EYES = SHARED / "datasets" / "faces-eyes"


def test_the_eye_cnn_trains_on_a_quarter_of_the_faces_and_never_a_test_one() -> None:
    items = faces(require(FACES_EYES))
    training = [path for path, _ in items if is_eye_training(path)]
    assert not any(is_test(path) for path in training)
    assert 0.2 < len(training) / len(items) < 0.3
    for label in (True, False):  # both kinds of eyes, in about the same share
        of_kind = [path for path, is_open in items if is_open is label]
        share = sum(is_eye_training(path) for path in of_kind) / len(of_kind)
        assert 0.2 < share < 0.3


def test_valid_figures_leave_out_the_eye_cnn_training_faces() -> None:
    readings = {
        "test": np.array([True, False, False, False]),
        "eye_training": np.array([False, True, False, False]),
    }
    assert part_mask(readings, "test").tolist() == [True, False, False, False]
    assert part_mask(readings, "valid").tolist() == [False, False, True, True]
    assert part_mask(readings, "valid half").tolist() == [False, True, True, True]


def test_eyes_are_cut_from_the_training_faces_only_into_their_label(tmp_path: Path) -> None:
    items = faces(require(FACES_EYES))
    chosen = []
    for label in (True, False):
        of_kind = [path for path, is_open in items if is_open is label]
        chosen += [p for p in of_kind if is_eye_training(p)][:3]
        chosen += [p for p in of_kind if not is_eye_training(p)][:3]
    data = tmp_path / "faces-eyes"
    for path in chosen:
        (data / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, data / path.parent.name / path.name)
    out = tmp_path / "crops"
    cut, missed = cut_eyes(data, out)
    assert cut + missed == 6 and missed <= 1
    written = sorted(out.rglob("*.png"))
    assert len(written) == 2 * cut
    stems = {p.parent.name + "/" + p.stem.rsplit("-", 1)[0] for p in written}
    expected = {p.parent.name + "/" + p.stem for p in chosen if is_eye_training(p)}
    assert stems <= expected and len(stems) == cut
    for crop in written:
        image = cv2.imread(str(crop), cv2.IMREAD_GRAYSCALE)
        assert image is not None and image.shape[0] == image.shape[1] >= 24


def _folder(root: Path, count: int) -> Path:
    rng = np.random.default_rng(0)
    for label in ("open", "closed"):
        (root / label).mkdir(parents=True)
        for n in range(count):
            pixels = rng.integers(0, 255, (30, 30), dtype=np.uint8)
            cv2.imwrite(str(root / label / f"{label}-{n}.png"), pixels)
    return root


def test_extra_data_joins_training_but_its_valid_share_only_the_epoch_choice(
    tmp_path: Path,
) -> None:
    main = splits(_folder(tmp_path / "main", 20))
    extra = _folder(tmp_path / "extra", 40)
    extra_paths = sorted(extra.rglob("*.png"))
    in_valid = [p for p in extra_paths if split_of(p) == "valid"]
    train, valid = with_extra(main, [extra], weight=2)
    assert len(valid) == len(main["valid"]) + len(in_valid)
    assert len(train) == len(main["train"]) + 2 * (len(extra_paths) - len(in_valid))
    assert not set(in_valid) & set(train.paths)
    assert set(in_valid) <= set(valid.paths)
    for labelled in (train, valid):  # every image keeps its folder's label
        names = [labelled.classes[i] for i in labelled.labels]
        assert names == [p.parent.name for p in labelled.paths]


def test_a_file_that_is_not_an_image_stops_the_cut_with_its_name(tmp_path: Path, capsys) -> None:
    from training.faces_eyes_crops import main

    name = next(f"face_{i}.jpg" for i in range(10_000) if is_eye_training(Path(f"face_{i}.jpg")))
    (tmp_path / "open").mkdir()
    (tmp_path / "closed").mkdir()
    (tmp_path / "open" / name).write_text("not a picture")
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert f"open/{name}: cannot be read as an image" in capsys.readouterr().err


def test_the_balanced_interval_holds_the_figure_and_narrows_with_more_faces() -> None:
    rng = np.random.default_rng(1)
    intervals = []
    for faces_per_kind in (150, 1500):
        truth = np.r_[np.ones(faces_per_kind, bool), np.zeros(faces_per_kind, bool)]
        # 98 % of open faces read open (2 eyes), 5 % of closed ones (else 0 open eyes)
        read = np.where(truth, rng.random(len(truth)) < 0.98, rng.random(len(truth)) < 0.05)
        eyes_open = read.astype(int) * 2
        low, high = balanced_interval(eyes_open, truth)
        balanced = figures(eyes_open, truth)["balanced"]
        assert low < balanced < high
        assert balanced_interval(eyes_open, truth) == (low, high)  # fixed seed: repeatable
        intervals.append(high - low)
    assert 0.02 < intervals[0] < 0.08 and intervals[1] < intervals[0] / 2.5
    nothing_closed = balanced_interval(np.array([2, 2]), np.array([True, True]))
    assert all(np.isnan(nothing_closed))
