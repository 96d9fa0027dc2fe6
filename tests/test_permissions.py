"""Photos under the service's UMask=0027: readable by the smilebooth group, by no one else."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np

from edge.config.output import CaptureConfig
from edge.io.capture import PhotoStore
from tests.paths import ROOT


def test_photos_are_group_readable_under_the_units_umask(tmp_path: Path) -> None:
    unit = (ROOT / "systemd" / "smilebooth.service").read_text()
    umask = int(re.search(r"^UMask=(\d+)$", unit, re.M).group(1), 8)
    assert umask == 0o027
    previous = os.umask(umask)
    try:
        store = PhotoStore(CaptureConfig(folder=str(tmp_path / "captures")))
        store.open()
        saved = store.save(np.full((64, 64, 3), 128, np.uint8), {"score": 0.9}, when=1.0)
    finally:
        os.umask(previous)
    for path, expected in (
        (tmp_path / "captures", 0o750),
        (saved.photo, 0o640),
        (saved.sidecar, 0o640),
    ):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_the_state_directory_is_open_to_the_group() -> None:
    unit = (ROOT / "systemd" / "smilebooth.service").read_text()
    assert re.search(r"^StateDirectoryMode=0750$", unit, re.M)
    assert re.search(r"^Group=smilebooth$", unit, re.M)
