"""Config validation: every bad config stops with a message naming the key and line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from edge.config import AppConfig, ConfigError, config_digest, load_config
from edge.config.command import describe_config
from edge.config.doc import default_yaml
from tests.paths import ROOT

BAD_CONFIGS = [
    (
        "trigger:\n  threshold: 1.5\n",
        ":2: trigger.threshold: expected a number in [0.0, 1.0], got 1.5",
    ),
    (
        "trigger:\n  treshold: 0.5\n",
        ":2: trigger.treshold: unknown key (known keys: allow_not_smiling, armed",
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
    (
        "web:\n  public_url: booth.local\n",
        ":2: web: public_url 'booth.local': expected http://ADDRESS:PORT, or empty",
    ),
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
    ("mqtt:\n  port: 99999\n", ":2: mqtt.port: expected a whole number in [1, 65535], got 99999"),
    ("mqtt:\n  tls: {insecure: true}\n", ":2: mqtt: tls.insecure only applies with tls.enabled"),
    (
        "trigger:\n  threshold: .nan\n",
        ":2: trigger.threshold: expected a number in [0.0, 1.0], got nan",
    ),
    ("source:\n  main_size: [1920, 1080, 3]\n", ":2: source.main_size: expected a list of 2 items"),
    ("source:\n  main_size: [1920, wide]\n", ":2: source.main_size[1]: expected a whole number"),
    ("eyes:\n  enabled: true\n  enabled: false\n", ":3: eyes.enabled: duplicate key"),
    ("? [a, b]\n: 1\n", ":1: (top level): a key must be a plain name, got a list"),
    ("detector: {model: [a]}\n", ":1: detector.model: expected a string, got a list"),
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


def test_a_duplicate_key_is_reported_once_without_a_cross_field_echo(tmp_path) -> None:
    """The section's cross-field check would judge the first of the two values: skip it."""
    path = tmp_path / "config.yaml"
    path.write_text("scoring:\n  smile_weight: 0.5\n  smile_weight: 0.8\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.problems == [f"{path}:3: scoring.smile_weight: duplicate key"]


def test_shipped_config_documents_every_default() -> None:
    shipped = (ROOT / "config.yaml").read_text()
    assert shipped == default_yaml(AppConfig()), "regenerate config.yaml (edge/config/doc.py)"
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
    path.write_text("source:\n  device: '0'\nmqtt:\n  host: broker\n  device_id: x\n")
    environ = {
        "SMILEBOOTH_SOURCE_DEVICE": "/dev/video2",
        "SMILEBOOTH_DEVICE_ID": "booth7",
        "SMILEBOOTH_MQTT_HOST": "mqtt.lan",
        "SMILEBOOTH_MQTT_PORT": "8883",
    }
    config = load_config(path, environ=environ)
    assert config.source.device == "/dev/video2"
    assert (config.mqtt.device_id, config.mqtt.host, config.mqtt.port) == (
        "booth7",
        "mqtt.lan",
        8883,
    )
    # text stays text for string keys: an id that YAML would read as a bool or a number
    assert load_config(path, environ={"SMILEBOOTH_DEVICE_ID": "on"}).mqtt.device_id == "on"
    assert load_config(path, environ={"SMILEBOOTH_DEVICE_ID": "007"}).mqtt.device_id == "007"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SMILEBOOTH_MQTT_PORT", "eighty", "$SMILEBOOTH_MQTT_PORT: mqtt.port: expected a whole"),
        ("SMILEBOOTH_MQTT_PORT", "0", "$SMILEBOOTH_MQTT_PORT: mqtt.port: expected a whole"),
        ("SMILEBOOTH_DEVICE_ID", "a/#", "$SMILEBOOTH_DEVICE_ID: mqtt: device_id 'a/#' must"),
    ],
)
def test_bad_environment_overrides_are_rejected_by_name(tmp_path, variable, value, message):
    path = tmp_path / "config.yaml"
    path.write_text("")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={variable: value})
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("command", "flag", "value", "yaml", "key"),
    [
        ("run", "--threshold", "1.5", "trigger:\n  threshold: 1.5\n", "trigger.threshold:"),
        ("run", "--threshold", "high", "trigger:\n  threshold: high\n", "trigger.threshold:"),
        ("run", "--threshold", "0.3", "trigger:\n  threshold: 0.3\n", "trigger: rearm"),
        ("bench", "--threads", "0", "detector:\n  threads: 0\n", "detector.threads:"),
        ("bench", "--threads", "two", "eyes:\n  threads: two\n", "eyes.threads:"),
        ("bench", "--width", "-5", "source:\n  width: -5\n", "source.width:"),
    ],
)
def test_a_bad_flag_gets_the_message_the_same_key_in_the_file_gets(
    tmp_path, monkeypatch, capsys, command, flag, value, yaml, key
) -> None:
    """One validator for the file, the environment and the flags: `--threshold 1.5` is
    refused with the words `threshold: 1.5` in config.yaml gets, the flag in place of the
    file and line, before any model or camera is touched."""
    from edge.cli import SUBCOMMANDS, _function, build_parser

    path = tmp_path / "config.yaml"
    path.write_text(yaml)
    with pytest.raises(ConfigError) as from_file:
        load_config(path, environ={})
    [in_file] = [p for p in from_file.value.problems if key in p]
    assert in_file.startswith(f"{path}:")
    words = in_file.split(": ", 1)[1]  # after "<file>:<line>"
    monkeypatch.chdir(tmp_path / "..")  # no ./config.yaml: the defaults, then the flag
    argv = [command, flag, value, "--source", "missing.mp4"]
    args = build_parser(argv).parse_args(argv)
    assert _function(SUBCOMMANDS[command][0], SUBCOMMANDS[command][2])(args) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"smilebooth {command}: invalid configuration:"
    assert f"{flag}: {words}" in err[1:], err


def test_digest_is_stable_and_follows_the_config(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("trigger:\n  threshold: 0.8\n")
    first, again = load_config(path, environ={}), load_config(path, environ={})
    assert config_digest(first) == config_digest(again)
    assert len(config_digest(first)) == 64
    assert config_digest(first) != config_digest(AppConfig())


def test_describe_prints_every_key_with_its_default() -> None:
    text = describe_config()
    assert text == (ROOT / "config.yaml").read_text()
    for key in ("trigger:", "  threshold: 0.7", "mqtt:", "  include_image: false", "    insecure:"):
        assert f"\n{key}" in text, key


def test_validate_config_exit_codes(tmp_path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("trigger:\n  threshold: 0.8\n")
    bad.write_text("trigger:\n  threshold: 8\n")
    run = [sys.executable, "-m", "edge.cli", "validate-config"]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    fail = subprocess.run([*run, str(bad)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert fail.returncode == 2
    assert f"{bad}:2: trigger.threshold" in fail.stderr
    missing = subprocess.run(
        [*run, str(tmp_path / "nope.yaml")], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert missing.returncode == 2 and "cannot read config" in missing.stderr
    environ = {**os.environ, "SMILEBOOTH_MQTT_PORT": "x"}  # what the unit's ExecStartPre sees
    env = subprocess.run(
        [*run, str(good)], capture_output=True, text=True, cwd=ROOT, timeout=60, env=environ
    )
    assert env.returncode == 2 and "$SMILEBOOTH_MQTT_PORT: mqtt.port" in env.stderr
    described = subprocess.run(
        [*run, "--describe"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert described.returncode == 0 and described.stdout == describe_config()


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


def test_validate_config_checks_the_password_can_be_read_without_showing_it(tmp_path) -> None:
    secret = tmp_path / "mqtt_password"
    config = tmp_path / "config.yaml"
    config.write_text(f"mqtt: {{enabled: true, username: booth, password_file: {secret}}}\n")
    run = [sys.executable, "-m", "edge.cli", "validate-config", str(config)]
    missing = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert missing.returncode == 2
    assert f"mqtt.password_file: cannot read {secret}" in missing.stderr
    secret.write_text("hunter2\n")
    ok = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "hunter2" not in ok.stdout + ok.stderr


WITHOUT_WEB_EXTRA = """\
import sys
sys.modules["starlette"] = None  # what Python does for a package that is not there
sys.modules["uvicorn"] = None
from edge.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_validate_config_refuses_the_web_page_without_the_web_extra(tmp_path) -> None:
    """It used to say valid, and `run` on the same config then stopped with exit 2."""
    token = tmp_path / "token"
    token.write_text("a-long-enough-operator-token\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"web: {{enabled: true, token_file: {token}}}\n")

    def validate(*python: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, *python, "validate-config", str(config)]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)

    without = validate("-c", WITHOUT_WEB_EXTRA)
    assert without.returncode == 2
    assert (
        "web.enabled: the page needs the web extra (starlette, uvicorn missing): "
        "pip install 'smilebooth[web]'" in without.stderr
    )
    installed = validate("-m", "edge.cli")  # this venv has the extra
    assert installed.returncode == 0, installed.stderr
