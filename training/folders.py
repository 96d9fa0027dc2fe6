"""A folder of class subfolders -> labelled images: how a user brings their own data.

ROOT/open/*.jpg, ROOT/closed/*.png ...: the label is the subfolder's name. Any model that
trains on labelled crops (the eye-state model, a smile fine-tune) reads its data here, so
broken input is refused the same way everywhere: an unreadable file or an empty class
folder stops loading with an error that names it, rather than training on less data.
Splits are by a hash of the file name, so adding files never moves old ones between
train, valid and test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
SPLITS = ("train", "valid", "test")


class FolderDataError(ValueError):
    """The labelled folder is missing, empty or holds a file that is not a readable image."""


@dataclass(frozen=True)
class LabelledImages:
    """Gray uint8 images of any size, their class indices and file paths."""

    images: list[np.ndarray]
    labels: np.ndarray  # int, index into classes
    paths: list[Path]
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, keep: Sequence[int]) -> LabelledImages:
        return LabelledImages(
            [self.images[i] for i in keep],
            self.labels[list(keep)],
            [self.paths[i] for i in keep],
            self.classes,
        )

    def joined(self, other: LabelledImages) -> LabelledImages:
        """Both sets of images, in order (the classes must be the same)."""
        if other.classes != self.classes:
            raise FolderDataError(f"classes differ: {self.classes} and {other.classes}")
        return LabelledImages(
            self.images + other.images,
            np.concatenate([self.labels, other.labels]),
            self.paths + other.paths,
            self.classes,
        )

    def split(self, name: str, valid: float = 0.15, test: float = 0.2) -> LabelledImages:
        """The images whose file name hashes into split `name` (train, valid or test)."""
        return self.subset(
            [i for i, p in enumerate(self.paths) if split_of(p, valid, test) == name]
        )


def split_of(path: Path, valid: float = 0.15, test: float = 0.2) -> str:
    """train, valid or test, from the file name alone (stable as files are added)."""
    if name_fraction(path.name) < test:
        return "test"
    return "valid" if name_fraction(path.name) < test + valid else "train"


def name_fraction(name: str) -> float:
    """A file name -> a fixed number in [0, 1)."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def load_folder(root: Path, classes: Sequence[str]) -> LabelledImages:
    """Every image under root/<class>/, as gray uint8; FolderDataError names what is wrong."""
    root = Path(root)
    if not root.is_dir():
        raise FolderDataError(f"{root}: not a folder (expected subfolders {', '.join(classes)})")
    images: list[np.ndarray] = []
    labels: list[int] = []
    paths: list[Path] = []
    for index, name in enumerate(classes):
        folder = root / name
        if not folder.is_dir():
            raise FolderDataError(f"{folder}: class folder missing (expected one per class)")
        files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        if not files:
            raise FolderDataError(f"{folder}: class folder is empty")
        for path in files:
            images.append(read_gray(path))
            labels.append(index)
            paths.append(path)
    return LabelledImages(images, np.array(labels, dtype=np.int64), paths, tuple(classes))


def read_gray(path: Path) -> np.ndarray:
    """One image file as 2-D uint8 gray; anything else is a FolderDataError naming it."""
    if path.is_dir():
        raise FolderDataError(f"{path}: a folder inside a class folder (expected images only)")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise FolderDataError(
            f"{path}: not an image file (expected {', '.join(IMAGE_SUFFIXES)}); move it out"
        )
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if image is None or image.size == 0:
        raise FolderDataError(f"{path}: cannot be decoded as an image (corrupt or empty file)")
    return image
