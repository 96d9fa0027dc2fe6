"""Every test in this folder carries the `reliability` marker: `pytest -m reliability` runs
the fault-injection suite on its own, `-m "not reliability"` leaves it out."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.reliability)
