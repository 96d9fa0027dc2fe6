"""config.yaml -> AppConfig: loaded and validated once, at start-up, before any device opens.

The sections live in this package (edge.config.perception, .decide, .source, .output,
.mqtt); this module composes them, and applies the per-device environment overrides and
the command-line overrides, each through the same validator as the file's values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config.booth import GpioConfig, PrintingConfig
from edge.config.decide import ScoringConfig, TrackingConfig, TriggerConfig
from edge.config.engine import MAX_TEXT, ConfigError, build, override
from edge.config.mqtt import MqttConfig
from edge.config.output import CaptureConfig, ImageConfig, StatusConfig
from edge.config.paths import path_problems
from edge.config.perception import DetectorConfig, EyesConfig, SmileConfig
from edge.config.source import SourceConfig
from edge.config.web import WebConfig

__all__ = [
    "AppConfig",
    "ConfigError",
    "apply_overrides",
    "config_digest",
    "default_config",
    "load_config",
]

# Environment variables that override one key each: the few things that differ per device,
# so one config.yaml serves a fleet (systemd: /etc/smilebooth/smilebooth.env). They are
# validated like the same value in config.yaml. The MQTT password is read separately
# (edge.io.secrets.read_password) and never lands in AppConfig.
ENV_OVERRIDES = {
    "SMILEBOOTH_DEVICE_ID": ("mqtt", "device_id"),
    "SMILEBOOTH_MQTT_HOST": ("mqtt", "host"),
    "SMILEBOOTH_MQTT_PORT": ("mqtt", "port"),
    "SMILEBOOTH_SOURCE_DEVICE": ("source", "device"),
    "SMILEBOOTH_CAPTURE_FOLDER": ("capture", "folder"),
}
MAX_FILE = 4 * MAX_TEXT  # bytes: MAX_TEXT characters of UTF-8 at most


@dataclass(frozen=True)
class AppConfig:
    source: SourceConfig = field(default_factory=SourceConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    smile: SmileConfig = field(default_factory=SmileConfig)
    eyes: EyesConfig = field(default_factory=EyesConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    trigger: TriggerConfig = field(default_factory=TriggerConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    images: ImageConfig = field(default_factory=ImageConfig)
    status: StatusConfig = field(default_factory=StatusConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    web: WebConfig = field(default_factory=WebConfig)
    printing: PrintingConfig = field(default_factory=PrintingConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)


def default_config() -> AppConfig:
    return _with_environment(AppConfig(), os.environ)


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> AppConfig:
    """Parse and validate; ConfigError lists every problem with its key and line."""
    path = Path(path)
    data = read_capped(path)
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        line = text_line(exc.object, exc.start)
        raise ConfigError([f"{path}:{line}: not UTF-8 text (byte {exc.start})"]) from exc
    config = build(AppConfig, text, str(path))
    problems = path_problems(config, {}, str(path))  # names the kernel would refuse
    if problems:
        raise ConfigError(problems)
    return _with_environment(config, os.environ if environ is None else environ)


def read_capped(path: Path) -> bytes:
    """The file's bytes, if it is a regular file of at most MAX_FILE bytes: /dev/zero is
    not read until memory runs out, a FIFO does not hang (opened without blocking)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config: {exc.strerror or exc}"]) from exc
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError([f"{path}: not a regular file (a config is a YAML file)"])
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read(MAX_FILE + 1)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config: {exc.strerror or exc}"]) from exc
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE:
        raise ConfigError([f"{path}: over {MAX_FILE:,} bytes: not a config file"])
    return data


def text_line(data: bytes, offset: int) -> int:
    """The 1-based line of a byte offset, to point at a bad byte."""
    return data.count(b"\n", 0, offset) + 1


def _with_environment(config: AppConfig, environ: Any) -> AppConfig:
    """ENV_OVERRIDES applied and checked; ConfigError names the variable and the key."""
    values = {
        f"{section}.{key}": (environ[variable], f"${variable}")
        for variable, (section, key) in ENV_OVERRIDES.items()
        if environ.get(variable, "")
    }
    return apply_overrides(config, values)


def apply_overrides(config: AppConfig, values: dict[str, tuple[str, str]]) -> AppConfig:
    """config with `section.key` -> (text, where it came from) applied, each value through
    the validator that reads config.yaml (types, bounds, the section's cross-field rules),
    so `--threshold 1.5` is refused with the message `threshold: 1.5` in the file gets.
    ConfigError lists every problem."""
    sections: dict[str, dict[str, tuple[str, str]]] = {}
    for path, value in values.items():
        section, _, key = path.partition(".")
        sections.setdefault(section, {})[key] = value
    problems: list[str] = []
    for section, keys in sections.items():
        part, found = override(getattr(config, section), section, keys)
        problems += found
        config = dataclasses.replace(config, **{section: part})
    problems += path_problems(config, {key: source for key, (_, source) in values.items()})
    if problems:
        raise ConfigError(problems)
    return config


def config_digest(config: AppConfig) -> str:
    """sha256 of the canonical JSON of the effective config (for capture sidecars)."""
    text = json.dumps(dataclasses.asdict(config), sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()
