"""The service unit passes systemd's own checks (where systemd-analyze is installed)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.paths import ROOT

UNIT = ROOT / "systemd" / "smilebooth.service"


def analyzable_copy(tmp_path):
    """The unit with its binary paths pointing at one that exists on this machine."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt install systemd)")
    copy = tmp_path / "smilebooth.service"
    copy.write_text(
        UNIT.read_text().replace(
            "/opt/smilebooth/.venv/bin/smilebooth", shutil.which("true") or "/bin/true"
        )
    )
    return copy


def test_systemd_analyze_verify_passes(tmp_path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", str(analyzable_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "smilebooth.service" not in result.stderr, result.stderr


def test_security_exposure_is_low(tmp_path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(analyzable_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "--offline" in result.stderr:
        pytest.skip("this systemd-analyze has no --offline")
    exposure = float(result.stdout.split("Overall exposure level for")[1].split(":")[1].split()[0])
    assert exposure <= 2.0, result.stdout[-500:]


def test_install_script_is_valid_bash_and_idempotent_by_construction() -> None:
    script = ROOT / "systemd" / "install.sh"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = script.read_text()
    assert "set -euo pipefail" in text
    assert "id smilebooth >/dev/null 2>&1 ||" in text  # the user only once
    for kept in ("/etc/smilebooth/config.yaml", "/etc/smilebooth/mqtt_password"):
        assert f"[ -f {kept} ] ||" in text  # an operator's edits are never overwritten
