"""The FER+ loader on the real layout, on the original CSV pair, and on broken inputs."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.paths import FERPLUS, require
from training.ferplus import FerPlusError, load_split
from training.targets import intensity_targets, majority_emotion, smiling_targets


def test_real_test_split_loads_with_counted_skips() -> None:
    split = load_split(require(FERPLUS), "test")
    assert split.images.shape == (3545, 48, 48)
    assert split.images.dtype == np.uint8
    assert split.skipped == {"majority_unknown_or_nf": 28}
    np.testing.assert_allclose(split.votes.sum(axis=1), 1.0, atol=1e-6)
    with (FERPLUS / "FER2013Test" / "label.csv").open() as handle:
        first_row = next(csv.reader(handle))
    votes = np.array([int(v) for v in first_row[2:]]) / 10
    index = split.names.index(first_row[0])
    np.testing.assert_allclose(split.votes[index], votes)


def test_train_split_skips_the_row_whose_votes_do_not_sum_to_ten(tmp_path) -> None:
    """The real train labels have one row whose votes do not sum to 10: it, with five
    good rows beside it (their real images), is skipped and counted, the rest loaded."""
    lines = (require(FERPLUS) / "FER2013Train" / "label.csv").read_text().splitlines()
    assert len(lines) == 28558
    odd = [n for n, line in enumerate(lines) if sum(map(int, line.split(",")[-10:])) != 10]
    assert len(odd) == 1
    good = [n for n in range(len(lines)) if n not in odd][:5]
    _copy_split(tmp_path, sorted(good + odd), "FER2013Train")
    split = load_split(tmp_path, "train", drop_unusable=False)
    assert split.skipped["votes_not_10"] == 1
    assert len(split) == 5


def test_targets_follow_the_documented_bins() -> None:
    votes = np.zeros((5, 10), np.float32)
    for row, happy in enumerate((0, 2, 5, 8, 10)):
        votes[row, 1] = happy / 10
        votes[row, 0] = (10 - happy) / 10
    assert intensity_targets(votes).tolist() == [0, 1, 2, 3, 3]
    assert smiling_targets(votes).tolist() == [0, 0, 0, 1, 1]  # 5-5 tie: neutral wins
    assert majority_emotion(votes).tolist() == [0, 0, 0, 1, 1]


def _copy_split(
    tmp_path: Path, rows: list[int] | None = None, folder: str = "FER2013Valid"
) -> Path:
    """A split folder of the chosen rows of the real one (default: the first six)."""
    source = require(FERPLUS) / folder
    target = tmp_path / folder
    target.mkdir()
    every = (source / "label.csv").read_text().splitlines()
    lines = [every[n] for n in (range(6) if rows is None else rows)]
    for line in lines:
        name = line.split(",")[0]
        shutil.copy(source / name, target / name)
    (target / "label.csv").write_text("\n".join(lines) + "\n")
    return target


def _rewrite_row(folder: Path, row: int, new_line: str) -> None:
    lines = (folder / "label.csv").read_text().splitlines()
    lines[row] = new_line
    (folder / "label.csv").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("row", "make_line", "message"),
    [
        (2, lambda name: f'{name},"(0, 0, 48, 48)",4,0,0', "expected 12 columns"),
        (3, lambda name: f'{name},"(0, 0, 48, 48)",4,x,0,1,3,2,0,0,0,0', "must be integers"),
        (1, lambda name: f'{name},"(0, 0, 48, 48)",14,-4,0,0,0,0,0,0,0,0', "negative vote"),
        (4, lambda name: 'missing.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,0', "image not found"),
    ],
)
def test_broken_rows_name_the_file_and_row(tmp_path, row, make_line, message) -> None:
    folder = _copy_split(tmp_path)
    name = (folder / "label.csv").read_text().splitlines()[row].split(",")[0]
    _rewrite_row(folder, row, make_line(name))
    with pytest.raises(FerPlusError, match=message) as error:
        load_split(tmp_path, "valid")
    assert f"label.csv:{row + 1}:" in str(error.value)


def test_votes_not_summing_to_ten_are_skipped_and_counted(tmp_path) -> None:
    folder = _copy_split(tmp_path)
    name = (folder / "label.csv").read_text().splitlines()[2].split(",")[0]
    _rewrite_row(folder, 2, f'{name},"(0, 0, 48, 48)",4,0,0,1,3,0,0,0,0,0')
    split = load_split(tmp_path, "valid", drop_unusable=False)
    assert len(split) == 5
    assert split.skipped["votes_not_10"] == 1
    assert name not in split.names


def test_corrupt_image_is_an_error(tmp_path) -> None:
    folder = _copy_split(tmp_path)
    name = (folder / "label.csv").read_text().splitlines()[0].split(",")[0]
    (folder / name).write_bytes(b"not a png")
    with pytest.raises(FerPlusError, match=r"label\.csv:1: not a readable image"):
        load_split(tmp_path, "valid")


def test_original_csv_pair_gives_the_same_split(tmp_path) -> None:
    """fer2013.csv (pixels) + fer2013new.csv (votes), built from the real folder images."""
    root = require(FERPLUS)
    with (root / "fer2013new.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    chosen = [r for r in rows if r["Usage"] == "PublicTest"][:20] + rows[:5]
    with (tmp_path / "fer2013new.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(chosen)
    with (tmp_path / "fer2013.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        for row in chosen:
            folder = "FER2013Valid" if row["Usage"] == "PublicTest" else "FER2013Train"
            image = cv2.imread(str(root / folder / row["Image name"]), cv2.IMREAD_GRAYSCALE)
            writer.writerow([0, " ".join(map(str, image.reshape(-1))), row["Usage"]])
    split = load_split(tmp_path, "valid", fer2013_csv=tmp_path / "fer2013.csv")
    folder_split = load_split(root, "valid")
    for name, image in zip(split.names, split.images, strict=True):
        np.testing.assert_array_equal(image, folder_split.images[folder_split.names.index(name)])
    assert 0 < len(split) <= 20


def test_misaligned_csv_pair_is_an_error(tmp_path) -> None:
    (tmp_path / "fer2013new.csv").write_text(
        "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,"
        "unknown,NF\nPublicTest,fer1.png,10,0,0,0,0,0,0,0,0,0\n"
    )
    (tmp_path / "fer2013.csv").write_text("emotion,pixels,Usage\n0,1 2 3,Training\n")
    with pytest.raises(FerPlusError, match="not row-aligned"):
        load_split(tmp_path, "valid", fer2013_csv=tmp_path / "fer2013.csv")
