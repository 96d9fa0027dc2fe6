"""Config sections of the outputs: photos on disk, reading image files, the status line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CaptureConfig:
    """Where and how photos are kept (they stay on the device)."""

    folder: str = field(default="captures", metadata={"doc": "folder for photos + sidecars"})
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
