"""`smilebooth validate-config` and the `--config` argument every command shares."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from edge import exit_codes
from edge.config.doc import default_yaml
from edge.config.engine import ConfigError
from edge.config.loading import (
    AppConfig,
    apply_overrides,
    config_digest,
    default_config,
    load_config,
)
from edge.io.secrets import read_password, read_token


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


Overrides = dict[str, tuple[str, str]]  # `section.key` -> (text, the flag it came from)


def source_flag(value: str) -> Overrides:
    """--source PATH_OR_DEVICE: a folder -> images, anything else -> opencv."""
    if Path(value).is_dir():
        return {"source.type": ("images", "--source"), "source.folder": (value, "--source")}
    return {"source.type": ("opencv", "--source"), "source.device": (value, "--source")}


def config_with_flags(args: argparse.Namespace, flags: Overrides) -> AppConfig:
    """--config (as config_from_argument), then --source and each command's own flags, all
    through the validator that reads the file: `--threshold 1.5` gets the message that
    `threshold: 1.5` in config.yaml would, with the flag in place of the file and line."""
    config = config_from_argument(args.config)
    if getattr(args, "source", None):
        flags = {**source_flag(args.source), **flags}
    return apply_overrides(config, flags)


def _check_files(config: AppConfig) -> None:
    """Everything `run` would fail on at start-up, on this device (edge.config.checks)."""
    from edge.config.checks import device_problems, load_problems

    problems = device_problems(config)
    if config.printing.enabled and config.printing.overlay:
        from edge.io.printer import load_overlay

        try:
            load_overlay(config.printing.overlay)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError(problems)
    problems = load_problems(config)  # only once the files are there: this loads them
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
    from edge.io.disk_floor import floor_warning

    warning = floor_warning(config.capture.folder, config.capture.min_free_mb)
    if warning:
        print(f"{args.path}: warning: {warning}", file=sys.stderr)
    print(f"{args.path}: valid (digest {config_digest(config)[:12]})")
    return 0
