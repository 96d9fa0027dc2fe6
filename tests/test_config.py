"""Config validation: every bad config stops with a message naming the key and line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edge.config import AppConfig, ConfigError, load_config
from edge.config_doc import default_yaml
from tests.paths import ROOT

BAD_CONFIGS = [
    (
        "trigger:\n  threshold: 1.5\n",
        ":2: trigger.threshold: expected a number in [0.0, 1.0], got 1.5",
    ),
    (
        "trigger:\n  treshold: 0.5\n",
        ":2: trigger.treshold: unknown key (known keys: armed, burst_s",
    ),
    (
        "source:\n  type: webcam\n",
        ":2: source.type: expected one of 'opencv', 'images', 'picamera2', got 'webcam'",
    ),
    (
        "detector:\n  threads: two\n",
        ":2: detector.threads: expected a whole number in [1, 8], got 'two'",
    ),
    ("eyes:\n  enabled: 3\n", ":2: eyes.enabled: expected true or false, got 3"),
    ("capture: [a, b]\n", ":1: capture: expected a mapping of CaptureConfig settings"),
    (
        "source:\n  lores_size: [1920, 1080]\n  main_size: [640, 480]\n",
        ":2: source: lores_size (1920, 1080) is larger than main_size (640, 480)",
    ),
    (
        "trigger:\n  threshold: 0.5\n  rearm_threshold: 0.6\n",
        ":2: trigger: rearm_threshold 0.6 must not exceed threshold 0.5",
    ),
    ("scoring:\n  smile_weight: 0.9\n", ":2: scoring: smile_weight + eyes_weight must be 1"),
    (
        "scoring:\n  intensity_weights: {none: 0.1}\n",
        ":2: scoring: intensity_weights needs exactly the keys",
    ),
    ("source: {type: images}\n", ":1: source: type images needs `folder`"),
    ("trigger:\n  threshold: [0.5\n", ":3: not valid YAML"),
    ("colour: red\n", ":1: colour: unknown key"),
    ("mqtt:\n  password: hunter2\n", ":2: mqtt.password: passwords never go in config.yaml"),
    ("mqtt:\n  device_id: a/b\n", ":2: mqtt: device_id 'a/b' must be non-empty"),
]


@pytest.mark.parametrize(
    ("text", "message"),
    BAD_CONFIGS,
    ids=[m.split(": ")[1] if ": " in m else m for _, m in BAD_CONFIGS],
)
def test_bad_config_names_the_key_and_line(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}{message}" in str(error.value)


def test_all_problems_are_reported_together(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("trigger:\n  threshold: 2\n  hold_s: -1\nsource:\n  fps: x\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert len(error.value.problems) == 3


def test_shipped_config_documents_every_default() -> None:
    shipped = (ROOT / "config.yaml").read_text()
    assert shipped == default_yaml(AppConfig()), "regenerate config.yaml (edge/config_doc.py)"
    assert load_config(ROOT / "config.yaml", environ={}) == AppConfig()


def test_empty_file_and_partial_sections_take_defaults(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("")
    assert load_config(path, environ={}) == AppConfig()
    path.write_text("trigger:\n  threshold: 0.8\n")
    config = load_config(path, environ={})
    assert config.trigger.threshold == 0.8 and config.trigger.hold_s == AppConfig().trigger.hold_s


def test_environment_overrides_per_device_keys(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("source:\n  device: '0'\n")
    config = load_config(path, environ={"SMILEBOOTH_SOURCE_DEVICE": "/dev/video2"})
    assert config.source.device == "/dev/video2"


def test_validate_config_exit_codes(tmp_path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("trigger:\n  threshold: 0.8\n")
    bad.write_text("trigger:\n  threshold: 8\n")
    run = [sys.executable, "-m", "edge.cli", "validate-config"]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    fail = subprocess.run([*run, str(bad)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert fail.returncode == 1
    assert f"{bad}:2: trigger.threshold" in fail.stderr
    missing = subprocess.run(
        [*run, str(tmp_path / "nope.yaml")], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert missing.returncode == 1 and "cannot read config" in missing.stderr


def test_a_broken_config_stops_run_before_the_camera_opens(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("source:\n  device: /dev/video9\n  fps: -3\n")
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "source.fps" in result.stderr and "video9" not in result.stderr
