"""Saving photos: JPEG + JSON sidecar, atomically, within a disk budget.

Each file is written to a hidden temporary name in the same folder, fsynced, then renamed
over its final name (and the folder fsynced), so a crash or power cut leaves either the
whole photo or nothing. The photo is written before its sidecar: a kill between the two
leaves a photo without metadata (still worth keeping), never metadata without a photo;
a sidecar left by older versions without its photo is removed at start. The oldest photos
(with their sidecars) go first when the folder exceeds its budget or the disk's free space
falls under its floor; on a full disk they are freed the same way and the save retried
once. A folder that cannot be used (read-only, missing on a read-only mount) disables
captures, reported, and is retried on the next photo: scoring never stops for it.

Each JPEG carries EXIF (edge.io.exif: date with its UTC offset, camera, software), and each
photo is counted in its event's counters (edge.io.counters), its number in its sidecar.
With `capture.event` set, the folder is <folder>/<event>.
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

from edge.config.output import CaptureConfig, folder_name_problem
from edge.io.atomic import write_atomically
from edge.io.counters import EventCounters
from edge.io.exif import CameraInfo, exif_segment, with_exif

log = logging.getLogger(__name__)


ROOM_SLACK = 64 * 1024  # bytes freed beyond a photo's size after ENOSPC


class CaptureError(RuntimeError):
    """A photo could not be saved (disk full, permissions); nothing partial was left."""


def folder_problem(folder: str | Path) -> str | None:
    """What makes an existing path unusable as the photo folder now (start-up check)."""
    path = Path(folder)
    problem = folder_name_problem(str(folder))
    if problem:
        return problem
    try:
        if path.exists() and not path.is_dir():
            return "exists and is not a folder"
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


@dataclass(frozen=True)
class Saved:
    photo: Path
    sidecar: Path
    size: int  # bytes written, photo and sidecar
    jpeg: bytes = field(default=b"", repr=False)  # the photo as written (for MQTT images)


class PhotoStore:
    def __init__(self, config: CaptureConfig) -> None:
        self.config = config
        self.folder = Path(config.event_folder)
        self.counters = EventCounters(self.folder, config.event)
        self.saved = 0
        self.failed = 0
        self.ready = False  # open() succeeded; else save() tries again first

    def open(self) -> None:
        """Create the folder, clear what a kill left; CaptureError (named) when unusable."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not os.access(self.folder, os.W_OK | os.X_OK):
                raise OSError(errno.EACCES, "not writable", str(self.folder))
            for leftover in self.folder.glob(".*.tmp"):  # from a crash before a rename
                leftover.unlink(missing_ok=True)
            for sidecar in self.folder.glob("*.json"):  # a photo whose sidecar outlived it
                if not sidecar.name.startswith(".") and not sidecar.with_suffix(".jpg").exists():
                    sidecar.unlink(missing_ok=True)
                    log.info("removed orphan sidecar %s", sidecar.name)
            self.counters.load()
        except (OSError, ValueError) as exc:
            self.ready = False
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CaptureError(
                f"photo folder {self.folder} unusable ({reason}): captures are off "
                "until it works; scoring goes on"
            ) from exc
        self.ready = True

    def save(
        self,
        image: np.ndarray,
        sidecar: dict[str, Any],
        when: float | None = None,
        camera: CameraInfo | None = None,
    ) -> Saved:
        """Write photo (with EXIF) + sidecar (with the event and the photo's number in it),
        count it; CaptureError (with nothing left behind) if it cannot."""
        if not self.ready:
            try:
                self.open()
            except CaptureError:
                self.failed += 1
                raise
        when = time.time() if when is None else when
        photo, meta = self._names(when)
        ok, encoded = cv2.imencode(
            ".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]
        )
        if not ok:
            raise CaptureError("JPEG encoding failed")
        height, width = image.shape[:2]
        data = with_exif(encoded.tobytes(), exif_segment(when, (width, height), camera))
        number = self.counters.next_number()
        event = {"event": self.config.event, "number": number}
        text = json.dumps({**sidecar, **event, "photo": photo.name}, indent=2).encode()
        try:
            self._write_pair(photo, data, meta, text)
        except OSError as exc:
            if exc.errno != errno.ENOSPC or not self.make_room(len(data) + len(text)):
                self.failed += 1
                reason = "disk full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
                raise CaptureError(f"cannot save {photo}: {reason}") from exc
            try:  # room was made: once more
                self._write_pair(photo, data, meta, text)
            except OSError as again:
                self.failed += 1
                why = "disk full" if again.errno == errno.ENOSPC else again.strerror or str(again)
                raise CaptureError(f"cannot save {photo}: {why}") from again
        except BaseException:
            self.failed += 1
            raise
        self.saved += 1
        self.counters.photo_saved(str(sidecar.get("reason", "")), number)
        try:
            self.enforce_budget()
        except OSError as exc:  # the photo is safe; retention retries on the next one
            log.warning("disk budget not enforced: %s", exc)
        return Saved(photo, meta, len(data) + len(text), data)

    def _write_pair(self, photo: Path, data: bytes, meta: Path, text: bytes) -> None:
        """Photo first, then its sidecar; on failure neither is left."""
        try:
            write_atomically(photo, data)
            write_atomically(meta, text)
        except BaseException:
            with contextlib.suppress(OSError):
                photo.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                meta.unlink(missing_ok=True)
            raise

    def make_room(self, needed: int) -> bool:
        """After ENOSPC: delete oldest photos (never the newest keep_newest) until `needed`
        bytes plus the free-space floor are free; True when anything was deleted. The slack
        covers what the bytes alone miss: whole disk blocks per file, the event counters."""
        return bool(self._retain(extra_free=needed + ROOM_SLACK))

    def _names(self, when: float) -> tuple[Path, Path]:
        """Sortable, unique names: oldest-first retention is a sort by name."""
        stem = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
        stem += f"-{int(when * 1000) % 1000:03d}"
        candidate, n = stem, 1
        while (self.folder / f"{candidate}.jpg").exists():
            candidate, n = f"{stem}-{n}", n + 1
        return self.folder / f"{candidate}.jpg", self.folder / f"{candidate}.json"

    def enforce_budget(self) -> list[Path]:
        """Delete the oldest photos (and sidecars) until the folder fits its budget and the
        disk keeps its free-space floor."""
        return self._retain(extra_free=0)

    def _retain(self, extra_free: int) -> list[Path]:
        photos = sorted(self.folder.glob("*.jpg"), key=_age)
        sizes = {p: _size(p) + _size(p.with_suffix(".json")) for p in photos}
        total, limit, removed = sum(sizes.values()), self.config.max_mb * 1024 * 1024, []
        floor = self.config.min_free_mb * 1024 * 1024 + extra_free
        free = _free_bytes(self.folder)
        for photo in photos[: max(0, len(photos) - self.config.keep_newest)]:
            if total <= limit and free >= floor:
                break
            total -= sizes[photo]
            photo.with_suffix(".share").unlink(missing_ok=True)  # the web page's share link
            photo.unlink(missing_ok=True)
            photo.with_suffix(".json").unlink(missing_ok=True)
            removed.append(photo)
            free = _free_bytes(self.folder)
        if removed:
            log.info(
                "disk budget %.0f MB / free floor %.0f MB: removed %d oldest photo(s)",
                self.config.max_mb,
                self.config.min_free_mb,
                len(removed),
            )
        return removed


def _age(path: Path) -> tuple[int, str]:
    try:
        return path.stat().st_mtime_ns, path.name
    except FileNotFoundError:
        return 0, path.name


def _free_bytes(folder: Path) -> int:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return 1 << 62  # unknown: the budget alone decides
    return stats.f_bavail * stats.f_frsize


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
