"""config.yaml -> AppConfig: loaded and validated once, at start-up, before any device opens.

Each stage's section type lives beside the stage; this module only composes them, applies
the few per-device environment overrides, and offers `smilebooth validate-config`.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge import exit_codes
from edge.capture import CaptureConfig
from edge.config_doc import default_yaml
from edge.config_schema import ConfigError, build, override
from edge.image_io import ImageConfig
from edge.mqtt.config import MqttConfig, read_password
from edge.pipeline_config import DetectorConfig, EyesConfig, ScoringConfig, SmileConfig
from edge.sources.config import SourceConfig
from edge.status import StatusConfig
from edge.tracking import TrackingConfig
from edge.trigger import TriggerConfig
from edge.web.config import WebConfig, read_token

__all__ = [
    "AppConfig",
    "ConfigError",
    "config_digest",
    "default_config",
    "describe_config",
    "load_config",
]

# Environment variables that override one key each: the few things that differ per device,
# so one config.yaml serves a fleet (systemd: /etc/smilebooth/smilebooth.env). They are
# validated like the same value in config.yaml. The MQTT password is read separately
# (edge.mqtt.config.read_password) and never lands in AppConfig.
ENV_OVERRIDES = {
    "SMILEBOOTH_DEVICE_ID": ("mqtt", "device_id"),
    "SMILEBOOTH_MQTT_HOST": ("mqtt", "host"),
    "SMILEBOOTH_MQTT_PORT": ("mqtt", "port"),
    "SMILEBOOTH_SOURCE_DEVICE": ("source", "device"),
    "SMILEBOOTH_CAPTURE_FOLDER": ("capture", "folder"),
}


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


def default_config() -> AppConfig:
    return _with_environment(AppConfig(), os.environ)


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> AppConfig:
    """Parse and validate; ConfigError lists every problem with its key and line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        line = text_line(exc.object, exc.start)
        raise ConfigError([f"{path}:{line}: not UTF-8 text (byte {exc.start})"]) from exc
    config = build(AppConfig, text, str(path))
    return _with_environment(config, os.environ if environ is None else environ)


def text_line(data: bytes, offset: int) -> int:
    """The 1-based line of a byte offset, to point at a bad byte."""
    return data.count(b"\n", 0, offset) + 1


def _with_environment(config: AppConfig, environ: Any) -> AppConfig:
    """ENV_OVERRIDES applied and checked; ConfigError names the variable and the key."""
    problems: list[str] = []
    for variable, (section, key) in ENV_OVERRIDES.items():
        text = environ.get(variable, "")
        if not text:
            continue
        part, found = override(
            getattr(config, section), key, text, f"${variable}", f"{section}.{key}"
        )
        problems += found
        config = dataclasses.replace(config, **{section: part})
    if problems:
        raise ConfigError(problems)
    return config


def config_digest(config: AppConfig) -> str:
    """sha256 of the canonical JSON of the effective config (for capture sidecars)."""
    text = json.dumps(dataclasses.asdict(config), sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config.yaml (default: ./config.yaml if present, else defaults)",
    )


def config_from_argument(path: Path | None) -> AppConfig:
    """--config as given; without it ./config.yaml when there is one, else the defaults."""
    if path is None:
        path = Path("config.yaml")
        if not path.exists():
            return default_config()
    return load_config(path)


def _check_files(config: AppConfig) -> None:
    """What validate-config can see on this device beyond the YAML: the photo folder is not
    a file, the model files exist. (A read-only or missing folder is not an error: it may
    be a mount that comes later, and the loop scores on without captures meanwhile.)"""
    from edge.capture import folder_problem
    from edge.pipeline import resolve_model_path

    problems = []
    problem = folder_problem(config.capture.folder)
    if problem:
        problems.append(f"capture.folder: {config.capture.folder!r}: {problem}")
    for key, model in (
        ("detector.model", config.detector.model),
        ("smile.model", config.smile.model),
    ):
        path = resolve_model_path(model)
        if not path.is_file():
            problems.append(f"{key}: model file not found: {path}")
        elif not path.with_suffix(".card.json").is_file():
            problems.append(f"{key}: no model card beside it ({path.with_suffix('.card.json')})")
    if problems:
        raise ConfigError(problems)


def _check_secrets(config: AppConfig) -> None:
    """The MQTT password and the web token can be read (as the service will, credentials
    included); their values are never shown. Kept out of load_config: config objects do no
    I/O."""
    checks: list[tuple[str, str, Callable[[], object]]] = []
    if config.mqtt.enabled:
        checks.append(
            ("mqtt.password_file", config.mqtt.password_file, lambda: read_password(config.mqtt))
        )
    if config.web.enabled:
        checks.append(("web.token_file", config.web.token_file, lambda: read_token(config.web)))
    problems = []
    for key, file, read in checks:
        try:
            read()
        except OSError as exc:
            problems.append(f"{key}: cannot read {file}: {exc.strerror or exc}")
    if problems:
        raise ConfigError(problems)


def describe_config() -> str:
    """Every key with its default and doc, as commented YAML (what config.yaml ships)."""
    return default_yaml(AppConfig())


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", type=Path, default=Path("config.yaml"))
    parser.add_argument(
        "--describe",
        action="store_true",
        help="print every key with its default and meaning, then exit",
    )


def validate_command(args: argparse.Namespace) -> int:
    """Exit 0 when valid (environment overrides included), 2 (as `run` would) with every
    problem on stderr."""
    if getattr(args, "describe", False):
        print(describe_config(), end="")
        return 0
    try:
        config = load_config(args.path)
        _check_files(config)
        _check_secrets(config)
    except ConfigError as exc:
        print(f"{args.path}: invalid configuration:\n{exc}", file=sys.stderr)
        return exit_codes.CONFIG
    print(f"{args.path}: valid (digest {config_digest(config)[:12]})")
    return 0
