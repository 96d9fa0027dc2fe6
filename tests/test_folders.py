"""The folder-of-class-subfolders loader on real crops and on broken input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.paths import SHARED, require
from training.folders import FolderDataError, load_folder, split_of

EYES = SHARED / "datasets" / "eyes"
CLASSES = ("closed", "open")


def small_folder(tmp_path: Path, per_class: int = 3) -> Path:
    """A copy of a few real crops per class."""
    source = require(EYES)
    root = tmp_path / "eyes"
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for path in sorted((source / name).iterdir())[:per_class]:
            shutil.copy(path, root / name / path.name)
    return root


def test_labels_are_the_folder_names(tmp_path) -> None:
    data = load_folder(small_folder(tmp_path), CLASSES)
    assert len(data) == 6
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert all(p.parent.name == CLASSES[y] for p, y in zip(data.paths, data.labels, strict=True))
    assert all(image.ndim == 2 and image.dtype == np.uint8 for image in data.images)


def test_the_real_dataset_splits_by_file_name() -> None:
    data = load_folder(require(EYES), CLASSES)
    assert len(data) == 1452 and data.labels.sum() == 726
    parts = {name: data.split(name) for name in ("train", "valid", "test")}
    assert sum(len(p) for p in parts.values()) == len(data)
    names = [{p.name for p in part.paths} for part in parts.values()]
    assert not (names[0] & names[1]) and not (names[0] & names[2]) and not (names[1] & names[2])
    assert 0.15 < len(parts["test"]) / len(data) < 0.25
    # the split depends on the name only: the same file lands in the same split anywhere
    assert split_of(Path("a/open_0001.jpg")) == split_of(Path("b/open_0001.jpg"))


def test_a_non_image_in_a_class_folder_is_named(tmp_path) -> None:
    root = small_folder(tmp_path)
    (root / "open" / "notes.txt").write_text("not an eye")
    with pytest.raises(FolderDataError, match=r"open/notes\.txt: not an image file"):
        load_folder(root, CLASSES)


def test_a_corrupt_image_is_named(tmp_path) -> None:
    root = small_folder(tmp_path)
    (root / "closed" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(FolderDataError, match=r"closed/broken\.jpg: cannot be decoded"):
        load_folder(root, CLASSES)


def test_an_empty_class_folder_is_named(tmp_path) -> None:
    root = small_folder(tmp_path)
    for path in (root / "closed").iterdir():
        path.unlink()
    with pytest.raises(FolderDataError, match=r"eyes/closed: class folder is empty"):
        load_folder(root, CLASSES)


def test_a_missing_class_folder_or_root_is_named(tmp_path) -> None:
    root = small_folder(tmp_path)
    shutil.rmtree(root / "open")
    with pytest.raises(FolderDataError, match=r"eyes/open: class folder missing"):
        load_folder(root, CLASSES)
    with pytest.raises(FolderDataError, match="nowhere: not a folder"):
        load_folder(tmp_path / "nowhere", CLASSES)
