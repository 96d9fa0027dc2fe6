"""Say when `capture.min_free_mb` is a large share of the photos' disk.

Why: the floor is kept by deleting the oldest photos, so on a small disk (a 128 MB card
partition, a tmpfs) the default 64 MB floor leaves room for a handful of photos and the
booth silently keeps only the newest few. The floor is not scaled behind the operator's
back (it protects the system's own writes); `run` and `validate-config` say so instead.
"""

from __future__ import annotations

import os
from pathlib import Path

LARGE_SHARE = 0.25  # a floor over a quarter of the disk is worth a warning


def floor_warning(folder: str, min_free_mb: float) -> str | None:
    """A one-line warning when the floor is over LARGE_SHARE of the disk holding `folder`
    (or its nearest existing parent: the folder may not exist yet); None otherwise."""
    path = Path(folder).absolute()
    try:
        while not path.exists() and path != path.parent:
            path = path.parent
        stats = os.statvfs(path)
    except OSError:
        return None
    total = stats.f_blocks * stats.f_frsize
    floor = min_free_mb * 1024 * 1024
    if total <= 0 or floor <= total * LARGE_SHARE:
        return None
    return (
        f"capture.min_free_mb ({min_free_mb:g} MB) is {floor / total:.0%} of the "
        f"{total / 1024 / 1024:.0f} MB disk holding {folder}: the oldest photos are deleted "
        "to keep it free, so few photos will be kept (lower it for a small disk)"
    )
