"""FER+ loading: the FER2013 images with the FER+ annotators' votes.

Reads the layout the FER+ project's own tooling produces (FER2013Train/, FER2013Valid/,
FER2013Test/, each with label.csv and PNGs) and, alternatively, the original
fer2013.csv (emotion,pixels,Usage) together with fer2013new.csv. Bad input never becomes a
silent wrong label: malformed rows and missing images raise an error naming the file and
row; rows that cannot be used (votes that do not sum to 10, majority unknown/NF) are
skipped and counted.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge.perception.crop import CROP_SIZE
from edge.perception.labels import EMOTIONS, VOTE_COLUMNS

log = logging.getLogger(__name__)

SPLIT_FOLDERS = {"train": "FER2013Train", "valid": "FER2013Valid", "test": "FER2013Test"}
SPLIT_USAGE = {"train": "Training", "valid": "PublicTest", "test": "PrivateTest"}
VOTES_PER_IMAGE = 10


class FerPlusError(ValueError):
    """Input that cannot be read correctly; the message names the file and row."""


@dataclass
class FerPlusSplit:
    """One split in memory: images (N, 48, 48) uint8 and votes (N, 10) float32 shares."""

    images: np.ndarray
    votes: np.ndarray
    names: list[str]
    skipped: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def emotion_distribution(self) -> np.ndarray:
        """Votes over the 8 emotions only, renormalised to sum to 1."""
        emotion_votes = self.votes[:, : len(EMOTIONS)]
        return emotion_votes / np.maximum(emotion_votes.sum(axis=1, keepdims=True), 1e-9)

    @property
    def majority(self) -> np.ndarray:
        """Index of the most-voted of all 10 columns (ties: first column)."""
        return np.argmax(self.votes, axis=1)

    def subset(self, index: np.ndarray) -> FerPlusSplit:
        names = [self.names[i] for i in index]
        return FerPlusSplit(self.images[index], self.votes[index], names, Counter(self.skipped))


def parse_votes(cells: list[str], where: str) -> np.ndarray | None:
    """Ten vote counts -> shares; None when the row must be skipped (counted by caller)."""
    if len(cells) != len(VOTE_COLUMNS):
        raise FerPlusError(f"{where}: expected {len(VOTE_COLUMNS)} vote columns, got {len(cells)}")
    try:
        counts = np.array([int(c) for c in cells], dtype=np.float32)
    except ValueError as exc:
        raise FerPlusError(f"{where}: vote counts must be integers: {cells}") from exc
    if (counts < 0).any():
        raise FerPlusError(f"{where}: negative vote count: {cells}")
    if counts.sum() != VOTES_PER_IMAGE:
        return None
    return counts / VOTES_PER_IMAGE


def _read_png(path: Path, where: str) -> np.ndarray:
    if not path.is_file():
        raise FerPlusError(f"{where}: image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FerPlusError(f"{where}: not a readable image: {path}")
    if image.shape != (CROP_SIZE, CROP_SIZE):
        image = cv2.resize(image, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
    return image


def _keep(votes: np.ndarray | None, skipped: Counter[str], drop_unusable: bool) -> bool:
    if votes is None:
        skipped["votes_not_10"] += 1
        return False
    if drop_unusable and int(np.argmax(votes)) >= len(EMOTIONS):
        skipped["majority_unknown_or_nf"] += 1
        return False
    return True


def load_folder_split(root: Path, split: str, drop_unusable: bool = True) -> FerPlusSplit:
    """Read FER2013<Split>/label.csv and its PNGs."""
    folder = Path(root) / SPLIT_FOLDERS[split]
    label_file = folder / "label.csv"
    if not label_file.is_file():
        raise FerPlusError(f"{label_file}: label file not found (is {root} a FER+ folder?)")
    images, votes_list, names, skipped = [], [], [], Counter()
    with label_file.open(newline="") as handle:
        for row_number, row in enumerate(csv.reader(handle), start=1):
            where = f"{label_file}:{row_number}"
            if not row:
                continue
            if len(row) != 2 + len(VOTE_COLUMNS):
                raise FerPlusError(f"{where}: expected 12 columns, got {len(row)}: {row}")
            votes = parse_votes(row[2:], where)
            if not _keep(votes, skipped, drop_unusable):
                log.debug("%s: skipped (%s)", where, row[2:])
                continue
            images.append(_read_png(folder / row[0], where))
            votes_list.append(votes)
            names.append(row[0])
    return _finish(images, votes_list, names, skipped, str(label_file))


def load_csv_split(
    fer2013_csv: Path, ferplus_csv: Path, split: str, drop_unusable: bool = True
) -> FerPlusSplit:
    """Read the original fer2013.csv pixels with the votes of fer2013new.csv (row-aligned)."""
    usage = SPLIT_USAGE[split]
    images, votes_list, names, skipped = [], [], [], Counter()
    with (
        Path(fer2013_csv).open(newline="") as pixels_handle,
        Path(ferplus_csv).open(newline="") as votes_handle,
    ):
        pixel_rows, vote_rows = csv.DictReader(pixels_handle), csv.DictReader(votes_handle)
        _require_columns(fer2013_csv, pixel_rows.fieldnames, ("pixels", "Usage"))
        _require_columns(ferplus_csv, vote_rows.fieldnames, ("Usage", "Image name", *VOTE_COLUMNS))
        for row_number, (pixel_row, vote_row) in enumerate(
            zip(pixel_rows, vote_rows, strict=False), start=2
        ):
            where = f"{ferplus_csv}:{row_number}"
            if pixel_row["Usage"] != vote_row["Usage"]:
                raise FerPlusError(
                    f"{where}: Usage {vote_row['Usage']!r} differs from {fer2013_csv}:"
                    f"{row_number} ({pixel_row['Usage']!r}); the files are not row-aligned"
                )
            if vote_row["Usage"] != usage:
                continue
            if not vote_row["Image name"]:
                skipped["no_image_in_ferplus"] += 1
                continue
            votes = parse_votes([vote_row[c] for c in VOTE_COLUMNS], where)
            if not _keep(votes, skipped, drop_unusable):
                continue
            images.append(_parse_pixels(pixel_row["pixels"], f"{fer2013_csv}:{row_number}"))
            votes_list.append(votes)
            names.append(vote_row["Image name"])
    return _finish(images, votes_list, names, skipped, str(ferplus_csv))


def _require_columns(path: Path, found: list[str] | None, wanted: tuple[str, ...]) -> None:
    missing = [c for c in wanted if c not in (found or [])]
    if missing:
        raise FerPlusError(f"{path}:1: missing column(s) {missing}; header is {found}")


def _parse_pixels(text: str, where: str) -> np.ndarray:
    try:
        values = np.array(text.split(), dtype=np.int32)
    except ValueError as exc:
        raise FerPlusError(f"{where}: pixels must be integers") from exc
    if values.size != CROP_SIZE * CROP_SIZE or values.min() < 0 or values.max() > 255:
        raise FerPlusError(f"{where}: expected 2304 pixel values in 0..255, got {values.size}")
    return values.astype(np.uint8).reshape(CROP_SIZE, CROP_SIZE)


def _finish(images, votes_list, names, skipped, source: str) -> FerPlusSplit:
    if skipped:
        log.info("%s: skipped %s", source, dict(skipped))
    if not images:
        raise FerPlusError(f"{source}: no usable rows")
    return FerPlusSplit(np.stack(images), np.stack(votes_list), names, skipped)


def load_split(
    root: Path, split: str, drop_unusable: bool = True, fer2013_csv: Path | None = None
) -> FerPlusSplit:
    """The folder layout by default; the CSV pair when fer2013_csv is given."""
    if split not in SPLIT_FOLDERS:
        raise FerPlusError(f"unknown split {split!r}; expected one of {sorted(SPLIT_FOLDERS)}")
    if fer2013_csv is not None:
        return load_csv_split(fer2013_csv, Path(root) / "fer2013new.csv", split, drop_unusable)
    return load_folder_split(Path(root), split, drop_unusable)
