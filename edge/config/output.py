"""Config sections of the outputs: photos on disk, reading image files, the status line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

EVENT_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class CaptureConfig:
    """Where and how photos are kept (they stay on the device)."""

    folder: str = field(default="captures", metadata={"doc": "folder for photos + sidecars"})
    event: str = field(
        default="",
        metadata={
            "doc": "the event's name (e.g. 'smith-wedding'): its photos go to <folder>/<event>/ "
            "with their own counters (photos, prints, shutter by score or button); empty: "
            "straight into folder",
        },
    )
    max_mb: float = field(
        default=2048.0,
        metadata={"doc": "disk budget; oldest photos are deleted beyond it", "min": 1},
    )
    jpeg_quality: int = field(default=92, metadata={"doc": "JPEG quality", "min": 10, "max": 100})
    min_free_mb: float = field(
        default=64.0,
        metadata={
            "doc": "free-space floor on the photos' disk; oldest photos are deleted to keep it "
            "(and to make room when the disk is full)",
            "min": 0,
        },
    )
    keep_newest: int = field(
        default=3,
        metadata={"doc": "photos never deleted by the budget or the free-space floor", "min": 1},
    )

    def validate(self) -> None:
        problem = folder_name_problem(self.folder)
        if problem:
            raise ValueError(f"folder {self.folder!r}: {problem}")
        if self.event and not EVENT_NAME.match(self.event):
            raise ValueError(
                f"event {self.event!r}: expected letters, digits, '-', '_' or '.' (at most 64, "
                "not starting with '.'), as it names a folder"
            )

    @property
    def event_folder(self) -> str:
        """Where this event's photos go: <folder>/<event>, or folder without an event."""
        return str(Path(self.folder) / self.event) if self.event else self.folder


def folder_name_problem(folder: str) -> str | None:
    """What makes a folder name unusable on any disk (config-time check, no I/O)."""
    if not folder:
        return "empty"
    if "\0" in folder:
        return "contains a NUL byte"
    return None


@dataclass(frozen=True)
class ImageConfig:
    """Reading photo files (`smilebooth score`, image folders)."""

    max_pixels: int = field(
        default=24_000_000,
        metadata={
            "doc": "largest image decoded (width x height); bigger JPEGs are decoded at 1/2, "
            "1/4 or 1/8 size to fit, other formats over it are refused",
            "min": 10_000,
            "max": 100_000_000,
        },
    )
    max_file_mb: float = field(
        default=50.0,
        metadata={
            "doc": "largest image file read (`score`, image folders); bigger files are "
            "skipped before a byte is read",
            "min": 0.01,
            "max": 1024,
        },
    )


@dataclass(frozen=True)
class StatusConfig:
    """The status line in the log, and how often the STATE event is re-sent."""

    interval_s: float = field(
        default=10.0, metadata={"doc": "seconds between status lines", "min": 0.1}
    )
    state_interval_s: float = field(
        default=60.0,
        metadata={"doc": "seconds between STATE events when nothing changed", "min": 1},
    )
    state_min_interval_s: float = field(
        default=1.0,
        metadata={
            "doc": "shortest gap between STATE events for a face-count change or a new "
            "reason the shutter waits (armed, threshold and phase changes are sent at once)",
            "min": 0,
        },
    )
