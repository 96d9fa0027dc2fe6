"""How ../shared/datasets/faces-eyes is split, by a hash of each file's name, for every
check that uses it: one split, so a face that trains the eye CNN or chooses the mesh rule
is never in anyone's held-back figures."""

from __future__ import annotations

import hashlib
from pathlib import Path


def name_hash(path: Path) -> int:
    """A stable number from the file's name (not its folder: moving the data keeps it)."""
    return int(hashlib.md5(path.name.encode()).hexdigest()[:8], 16)


def is_test(path: Path) -> bool:
    """Half the faces, by name: held back for the final figures."""
    return name_hash(path) % 2 == 1


def is_eye_training(path: Path) -> bool:
    """Half of the Valid faces, by name: the eye CNN trains on their eyes
    (training.faces_eyes_crops), so the CNN's and cnn+mesh's Valid figures leave them out."""
    return not is_test(path) and (name_hash(path) // 2) % 2 == 0
