"""Saving photos: JPEG + JSON sidecar, atomically, within a disk budget.

Each file is written to a hidden temporary name in the same folder, fsynced, then renamed
over its final name (and the folder fsynced), so a crash or power cut leaves either the
whole photo or nothing. The oldest photos (with their sidecars) go first when the folder
exceeds its budget. A full disk is reported to the caller, never raised into the loop.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureConfig:
    """Where and how photos are kept (they stay on the device)."""

    folder: str = field(default="captures", metadata={"doc": "folder for photos + sidecars"})
    max_mb: float = field(
        default=2048.0,
        metadata={"doc": "disk budget; oldest photos are deleted beyond it", "min": 1},
    )
    jpeg_quality: int = field(default=92, metadata={"doc": "JPEG quality", "min": 10, "max": 100})


class CaptureError(RuntimeError):
    """A photo could not be saved (disk full, permissions); nothing partial was left."""


@dataclass(frozen=True)
class Saved:
    photo: Path
    sidecar: Path
    bytes: int


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename over `path`, fsync the folder."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class PhotoStore:
    def __init__(self, config: CaptureConfig) -> None:
        self.config = config
        self.folder = Path(config.folder)
        self.saved = 0
        self.failed = 0

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob(".*.tmp"):  # from a crash before a rename
            leftover.unlink(missing_ok=True)

    def save(self, image: np.ndarray, sidecar: dict[str, Any], when: float | None = None) -> Saved:
        """Write photo + sidecar; CaptureError (with nothing left behind) if it cannot."""
        when = time.time() if when is None else when
        photo, meta = self._names(when)
        ok, encoded = cv2.imencode(
            ".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]
        )
        if not ok:
            raise CaptureError("JPEG encoding failed")
        data = encoded.tobytes()
        text = json.dumps({**sidecar, "photo": photo.name}, indent=2).encode()
        try:  # sidecar first: a photo on disk always has its sidecar
            write_atomically(meta, text)
            write_atomically(photo, data)
        except BaseException as exc:
            self.failed += 1
            with contextlib.suppress(OSError):
                meta.unlink(missing_ok=True)
            if not isinstance(exc, OSError):
                raise
            reason = "disk full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
            raise CaptureError(f"cannot save {photo}: {reason}") from exc
        self.saved += 1
        try:
            self.enforce_budget()
        except OSError as exc:  # the photo is safe; retention retries on the next one
            log.warning("disk budget not enforced: %s", exc)
        return Saved(photo, meta, len(data) + len(text))

    def _names(self, when: float) -> tuple[Path, Path]:
        """Sortable, unique names: oldest-first retention is a sort by name."""
        stem = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
        stem += f"-{int(when * 1000) % 1000:03d}"
        candidate, n = stem, 1
        while (self.folder / f"{candidate}.jpg").exists():
            candidate, n = f"{stem}-{n}", n + 1
        return self.folder / f"{candidate}.jpg", self.folder / f"{candidate}.json"

    def enforce_budget(self) -> list[Path]:
        """Delete the oldest photos (and sidecars) until the folder fits its budget."""
        photos = sorted(self.folder.glob("*.jpg"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        sizes = {p: p.stat().st_size + _size(p.with_suffix(".json")) for p in photos}
        total, limit, removed = sum(sizes.values()), self.config.max_mb * 1024 * 1024, []
        for photo in photos[:-1]:  # never delete the photo just taken
            if total <= limit:
                break
            total -= sizes[photo]
            photo.unlink(missing_ok=True)
            photo.with_suffix(".json").unlink(missing_ok=True)
            removed.append(photo)
        if removed:
            log.info(
                "disk budget %.0f MB: removed %d oldest photo(s)", self.config.max_mb, len(removed)
            )
        return removed


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
