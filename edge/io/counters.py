"""Per-event counters: photos taken (by score, by the button, by the page or MQTT), prints.

They live beside the event's photos in `.event-counters` (JSON), rewritten atomically on every
change, so a restart (kill -9 included) finds them again. Each photo's sidecar carries its
number in the event; a kill between a photo and the counters' write is repaired at the
next start by counting the sidecars numbered past the file's count. Photos the disk
budget or the operator removed stay counted: the counters say what the event made, the
folder what is left of it. Prints are counted when CUPS accepts the job, with the copies
of each photo, so a per-photo copy limit survives a restart too.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from edge.io.atomic import write_atomically

log = logging.getLogger(__name__)

COUNTERS_FILE = ".event-counters"  # JSON; a dot-file, not *.json: never a photo or sidecar
# The trigger's reason -> the counter it adds to ("manual": the page or MQTT).
# A FAT-formatted USB stick keeps times to 2 s: a sidecar that close to the counters'
# last write is read again (its number says whether it was counted).
MTIME_SLACK_NS = 3_000_000_000
BY_REASON = {"score": "by_score", "button": "by_button", "manual": "by_remote"}
FIELDS = ("photos", "by_score", "by_button", "by_remote", "prints", "print_failures")


class EventCounters:
    """The counters of one event folder; thread-safe (the loop saves, the printer prints)."""

    def __init__(self, folder: Path, event: str) -> None:
        self.folder = folder
        self.event = event
        self.path = folder / COUNTERS_FILE
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(FIELDS, 0)
        self._copies: dict[str, int] = {}  # photo name -> copies printed

    def load(self) -> None:
        """Read the file (a missing or damaged one is rebuilt from the sidecars, said in
        the log), then count photos saved after its last write."""
        with self._lock:
            stored = self._read()
            if stored is None:
                self._counts = dict.fromkeys(FIELDS, 0)
                self._copies = {}
            else:
                self._counts, self._copies = stored
            newer = self._written_ns() - MTIME_SLACK_NS if stored is not None else None
            added = self._count_sidecars(after=self._counts["photos"], newer_ns=newer)
            if added:  # written with the next change: until then each start finds them again
                log.info("event counters: %d photo(s) found on disk after a stop", added)

    def next_number(self) -> int:
        """The number the next photo of the event gets (written into its sidecar)."""
        with self._lock:
            return self._counts["photos"] + 1

    def photo_saved(self, reason: str, number: int) -> None:
        """Count a photo whose files are on disk (its sidecar says `number`)."""
        with self._lock:
            self._counts["photos"] = max(self._counts["photos"], number)
            key = BY_REASON.get(reason)
            if key is not None:
                self._counts[key] += 1
            self._write()

    def printed(self, name: str, copies: int = 1) -> None:
        with self._lock:
            self._counts["prints"] += copies
            self._copies[name] = self._copies.get(name, 0) + copies
            self._write()

    def print_failed(self) -> None:
        with self._lock:
            self._counts["print_failures"] += 1
            self._write()

    def copies(self, name: str) -> int:
        """Copies of the photo `name` printed so far in this event."""
        with self._lock:
            return self._copies.get(name, 0)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"event": self.event, **self._counts}

    def _write(self) -> None:
        data = {"event": self.event, **self._counts, "copies": self._copies}
        try:
            write_atomically(self.path, json.dumps(data, indent=1).encode())
        except OSError as exc:  # the photo is safe; the next change writes them again
            log.warning("event counters not saved to %s: %s", self.path, exc)

    def _read(self) -> tuple[dict[str, int], dict[str, int]] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning(
                "event counters %s unreadable (%s): counted again from the photos", self.path, exc
            )
            return None
        if not isinstance(data, dict):
            log.warning("event counters %s: not a JSON object; counted again", self.path)
            return None
        counts = {key: _count(data.get(key)) for key in FIELDS}
        raw = data.get("copies")
        copies = {str(k): _count(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        return counts, copies

    def _count_sidecars(self, after: int, newer_ns: int | None) -> int:
        """Add the photos whose sidecar is numbered past `after` (or, with no counters file
        yet, every photo: a folder from an older version), and the photos a kill left
        without a sidecar since the file's last write; how many were added. Sidecars older
        than `newer_ns` were counted before the file was written: not read again."""
        added = self._count_bare_photos()
        for sidecar in sorted(self.folder.glob("*.json")):
            if sidecar.name.startswith(".") or not sidecar.with_suffix(".jpg").exists():
                continue
            if newer_ns is not None and _mtime_ns(sidecar) < newer_ns:
                continue
            try:
                meta = json.loads(sidecar.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            meta = meta if isinstance(meta, dict) else {}
            number = meta.get("number")
            if isinstance(number, int) and number <= after:
                continue
            if not isinstance(number, int):
                if after:  # counted before the numbers existed
                    continue
                number = self._counts["photos"] + 1
            self._counts["photos"] = max(self._counts["photos"], number)
            key = BY_REASON.get(str(meta.get("reason")))
            if key is not None:
                self._counts[key] += 1
            added += 1
        return added

    def _written_ns(self) -> int:
        """When the counters file was last written (-1: never)."""
        return _mtime_ns(self.path)

    def _count_bare_photos(self) -> int:
        """Photos without a sidecar (a kill between the two writes) newer than the file."""
        written = self._written_ns()
        added = 0
        for photo in self.folder.glob("*.jpg"):
            try:
                bare = not photo.with_suffix(".json").exists()
                if bare and photo.stat().st_mtime_ns > written:
                    self._counts["photos"] += 1
                    added += 1
            except OSError:
                continue
        return added


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
