"""A bounded sample of each fuzz suite (the full counts: `python -m tests.reliability.fuzz`,
which also prints the peak RSS): image files of every format with bombs, configs, raw web
requests with and without the token. Each must end with 0 tracebacks and 0 5xx, every
image scored or skipped with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import FACE_MODEL, SMILE_MODEL, require
from tests.reliability.bombs import FORMATS
from tests.reliability.fuzz import run_configs, run_images, run_web


def test_image_sample(tmp_path: Path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    result = run_images(len(FORMATS) * 5, tmp_path)
    detail = result["detail"]
    assert result["tracebacks"] == []
    assert detail["unaccounted"] == 0 and detail["reason None"] == 0, detail
    assert detail["exit"] == 1 and detail["scored"] > 0 and detail["skipped"] > 0, detail
    assert set(detail["formats"]) == {suffix.lstrip(".") for suffix in FORMATS}


def test_config_sample(tmp_path: Path) -> None:
    result = run_configs(150, tmp_path)
    assert result["tracebacks"] == []
    detail = result["detail"]
    assert set(detail["exit codes"]) == {0, 2}, detail  # valid and invalid ones both
    assert detail["run fails"] == 0, detail["run failures"]  # valid means `run` starts


def test_web_sample(tmp_path: Path) -> None:
    pytest.importorskip("starlette", reason="the web extra is not installed")
    result = run_web(200, tmp_path)
    assert result["tracebacks"] == [], result["tracebacks"][:2]
    assert result["5xx"] == 0, result["detail"]
    statuses = result["detail"]["statuses"]
    assert {"200", "401", "404"} <= set(statuses), statuses  # the sample reaches the routes
