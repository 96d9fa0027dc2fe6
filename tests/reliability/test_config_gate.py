"""Issue 30, item 4: `validate-config` checks what `run` would fail on, naming the key.

Each case is a reproduction of the issue, run through the real `validate-config` (and
`run` where the old code gave a traceback or blamed the wrong key)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from edge import exit_codes
from tests.paths import FACE_MODEL, SMILE_MODEL, require
from tests.reliability.helpers import assert_no_traceback, smilebooth


def validate(tmp_path: Path, text: str) -> tuple[int, str]:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    result = smilebooth("validate-config", str(config), timeout=60)
    assert_no_traceback(result)
    return result.returncode, result.stderr.decode()


def test_a_model_path_too_long_is_a_config_error_in_both_commands(tmp_path: Path) -> None:
    name = "m" * 300 + ".tflite"  # the old code: OSError: File name too long, a traceback
    text = f"detector: {{model: {name}}}\ncapture: {{folder: {tmp_path / 'photos'}}}\n"
    code, stderr = validate(tmp_path, text)
    assert code == exit_codes.CONFIG
    assert "detector.model: a name of 307 bytes in it: at most 255 each" in stderr
    run = smilebooth("run", "--config", str(tmp_path / "config.yaml"), timeout=60)
    assert_no_traceback(run)
    assert run.returncode == exit_codes.CONFIG and b"detector.model: a name of 307" in run.stderr


def test_every_model_key_is_checked(tmp_path: Path) -> None:
    # the old code checked detector.model and smile.model only: a missing eyes.model passed
    # validate-config, then `run` exited 3
    text = f"eyes: {{model: {tmp_path / 'no-eyes.tflite'}}}\n"
    code, stderr = validate(tmp_path, text)
    assert code == exit_codes.CONFIG
    assert f"eyes.model: model file not found: {tmp_path / 'no-eyes.tflite'}" in stderr
    code, stderr = validate(tmp_path, text.replace("eyes: {", "eyes: {enabled: false, "))
    assert "eyes.model" not in stderr  # eyes off: the model is not loaded, not checked


def test_a_missing_tls_ca_file_is_named_by_validate_and_run(tmp_path: Path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    text = (
        "mqtt: {enabled: true, tls: {enabled: true, ca_file: /nonexistent/ca.crt}}\n"
        f"capture: {{folder: {tmp_path / 'photos'}}}\n"
    )
    code, stderr = validate(tmp_path, text)
    assert code == exit_codes.CONFIG
    assert "mqtt.tls.ca_file: not found: /nonexistent/ca.crt" in stderr
    run = smilebooth("run", "--config", str(tmp_path / "config.yaml"), timeout=60)
    assert_no_traceback(run)  # the old code blamed mqtt.password_file
    assert run.returncode == exit_codes.CONFIG
    assert b"mqtt.tls.ca_file: not found" in run.stderr
    assert b"password_file" not in run.stderr


def test_a_tls_key_that_is_not_a_key_is_named(tmp_path: Path) -> None:
    from tests.test_mqtt import make_tls_files

    files = make_tls_files(tmp_path)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key\n")
    text = (
        f"mqtt: {{enabled: true, tls: {{enabled: true, ca_file: {files['ca.crt']}, "
        f"cert_file: {files['ca.crt']}, key_file: {garbage}}}}}\n"
    )
    code, stderr = validate(tmp_path, text)
    assert code == exit_codes.CONFIG
    assert "mqtt.tls.key_file: the client certificate and key do not load together" in stderr
    assert "mqtt.tls.ca_file" not in stderr


def test_special_files_as_the_config_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo), str(tmp_path)):
        started = time.monotonic()
        result = smilebooth("validate-config", path, timeout=30)  # old: hang / memory
        assert_no_traceback(result)
        assert result.returncode == exit_codes.CONFIG
        assert time.monotonic() - started < 20
        assert b"not a regular file" in result.stderr or b"Is a directory" in result.stderr


def test_a_huge_config_file_is_not_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(512 * 1024 * 1024)  # sparse: 512 MB of NUL bytes
    result = smilebooth("validate-config", str(big), timeout=30)
    assert_no_traceback(result)
    assert result.returncode == exit_codes.CONFIG
    assert b"over 4,000,000 bytes: not a config file" in result.stderr


def test_control_characters_are_not_echoed(tmp_path: Path) -> None:
    code, stderr = validate(tmp_path, 'trigger: {threshold: "\\e[2J\\rhi"}\n')
    assert code == exit_codes.CONFIG
    assert "\x1b" not in stderr and "\r" not in stderr
    assert "\\x1b[2J\\rhi" in stderr


def test_web_enabled_without_the_extra_is_named(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.paths import ROOT

    config = tmp_path / "config.yaml"
    config.write_text("web: {enabled: true}\n")
    code = (
        "import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None\n"
        "from edge.cli import main; sys.exit(main(['validate-config', sys.argv[1]]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(config)], cwd=ROOT, capture_output=True, timeout=60
    )
    assert_no_traceback(result)
    assert result.returncode == exit_codes.CONFIG
    assert b"web.enabled: the page needs the web extra (starlette, uvicorn missing)" in (
        result.stderr
    )


def test_a_free_space_floor_that_is_most_of_the_disk_is_said(tmp_path: Path) -> None:
    # 10^9 MB: more than any disk, so always "most of it" (the issue: 64 MB on a small disk)
    text = f"capture: {{folder: {tmp_path / 'photos'}, min_free_mb: 1000000000}}\n"
    code, stderr = validate(tmp_path, text)
    assert code == 0
    assert "warning: capture.min_free_mb (1e+09 MB) is" in stderr
    assert "few photos will be kept" in stderr
    code, stderr = validate(tmp_path, f"capture: {{folder: {tmp_path / 'photos'}}}\n")
    assert "warning" not in stderr  # the default 64 MB on this machine's disk: no warning


def test_models_that_load_wrong_are_named_by_validate(tmp_path: Path) -> None:
    """Found by the config fuzz: an empty eyes.model (run: `PosixPath('.') has an empty
    name`) and the smile model given as the eye model (run: exit 3 on its input shape)
    passed validate-config."""
    require(SMILE_MODEL), require(FACE_MODEL)
    code, stderr = validate(tmp_path, "eyes: {model: ''}\n")
    assert code == exit_codes.CONFIG
    assert "eyes.model: empty (the section is on: it needs its model file)" in stderr
    code, stderr = validate(tmp_path, f"eyes: {{model: {SMILE_MODEL}}}\n")
    assert code == exit_codes.CONFIG
    assert "eyes.model: " in stderr and "input shape" in stderr, stderr
    code, stderr = validate(tmp_path, "eyes: {enabled: false, model: ''}\n")
    assert code == 0, stderr
