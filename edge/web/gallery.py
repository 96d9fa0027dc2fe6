"""The capture folder as the web page sees it: list, serve, thumbnail, delete.

Names from a URL are checked before any path is built: a plain photo name (no folder part,
no dot-files), a regular file (no symlink, which could point out of the folder), and a path
that resolves inside the folder. Anything else is "no such photo": the page never learns
what exists outside.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np

from edge.config.output import ImageConfig
from edge.io import image_io

PHOTO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\.jpg$")
THUMB_WIDTH = 320
THUMB_CACHE = 64  # thumbnails kept in memory (~15 kB each)
THUMB_MAKERS = 2
# A thumbnail's source, decoded reduced by libjpeg (1/2 to 1/8): a 12 MP photo is read at
# 1000x750 (2 MB), not in full (36 MB), for a 320-pixel-wide result.
THUMB_DECODE = ImageConfig(max_pixels=2_000_000)


class NoSuchPhotoError(LookupError):
    """The name is not a photo of the capture folder."""


@dataclass(frozen=True)
class PhotoEntry:
    name: str
    modified: float
    size: int
    score: float | None
    faces: int | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "modified": self.modified,
            "size": self.size,
            "score": self.score,
            "faces": self.faces,
            "reason": self.reason,
        }


class JpegCache:
    """Encoded pictures by (photo name, its mtime), the least recently used dropped past
    `size`: a photo rewritten on disk gets a new key, a deleted one ages out. Thread-safe
    (the server answers from a thread pool)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, float], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, float]) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: tuple[str, float], data: bytes) -> None:
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def narrowed_jpeg(image: np.ndarray, width: int, quality: int) -> bytes:
    """The picture at most `width` wide (area-shrunk, aspect kept), as JPEG."""
    height, current = image.shape[:2]
    if current > width:
        size = (width, max(1, round(height * width / current)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image_io.encode_jpeg(image, quality=quality)


class Gallery:
    """Read and delete access to the photos (and their sidecars) in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._thumbs = JpegCache(THUMB_CACHE)
        # Thumbnails made at once: a stranger asking for 40 at a time holds 2 decodes.
        self._making = threading.BoundedSemaphore(THUMB_MAKERS)

    def photos(self) -> list[PhotoEntry]:
        """Every photo, newest first, with the scores its sidecar holds."""
        if not self.folder.is_dir():
            return []
        entries = []
        for path in self.folder.iterdir():
            try:  # a photo deleted while the folder is listed is left out, not an error
                if not PHOTO_NAME.match(path.name) or path.is_symlink() or not path.is_file():
                    continue
                stat = path.stat()
            except OSError:
                continue
            meta = self._sidecar(path)
            smoothed = meta.get("smoothed")
            if not isinstance(smoothed, dict):
                smoothed = {}
            entries.append(
                PhotoEntry(
                    path.name,
                    stat.st_mtime,
                    stat.st_size,
                    _number(meta.get("score")),
                    _integer(smoothed.get("faces")),
                    meta.get("reason") if isinstance(meta.get("reason"), str) else None,
                )
            )
        return sorted(entries, key=lambda e: (e.modified, e.name), reverse=True)

    def photo(self, name: str) -> Path:
        """The photo's path; NoSuchPhotoError for anything but a photo of this folder."""
        if not PHOTO_NAME.match(name):
            raise NoSuchPhotoError(name)
        path = self.folder / name
        if path.is_symlink() or not path.is_file():
            raise NoSuchPhotoError(name)
        if path.resolve().parent != self.folder.resolve():
            raise NoSuchPhotoError(name)
        return path

    def open_photo(self, name: str) -> tuple[BinaryIO, int]:
        """(open file, size): once open, a delete cannot pull the file from under a reader
        (the old check-then-serve gave a 500 when a photo was deleted in between)."""
        path = self.photo(name)
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise NoSuchPhotoError(name) from exc
        handle = os.fdopen(descriptor, "rb")
        return handle, os.fstat(descriptor).st_size

    def sidecar(self, name: str) -> dict[str, Any]:
        return self._sidecar(self.photo(name))

    def thumbnail(self, name: str) -> bytes:
        """A small JPEG of the photo, made once per photo version and kept a while."""
        handle, _ = self.open_photo(name)
        with handle, self._making:
            key = (name, os.fstat(handle.fileno()).st_mtime)
            cached = self._thumbs.get(key)
            if cached is not None:
                return cached
            data = handle.read(int(image_io.DEFAULT_IMAGES.max_file_mb * 1024 * 1024) + 1)
            read = image_io.decode_image(data, THUMB_DECODE)
        if read.image is None:
            raise NoSuchPhotoError(name)
        data = narrowed_jpeg(read.image, THUMB_WIDTH, quality=80)
        self._thumbs.put(key, data)
        return data

    def delete(self, name: str) -> None:
        """The photo, its sidecar and its share link (revoked); NoSuchPhotoError when the
        name is not a photo here."""
        path = self.photo(name)
        path.with_suffix(".share").unlink(missing_ok=True)  # its share link goes first
        path.with_suffix(".json").unlink(missing_ok=True)
        try:
            path.unlink()
        except FileNotFoundError as exc:  # deleted by another request meanwhile
            raise NoSuchPhotoError(name) from exc

    @staticmethod
    def _sidecar(photo: Path) -> dict[str, Any]:
        meta = photo.with_suffix(".json")
        if meta.is_symlink() or not meta.is_file():
            return {}
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
