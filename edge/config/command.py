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
    """What validate-config can see on this device beyond the YAML: the photo folder is not
    a file, the model files exist. (A read-only or missing folder is not an error: it may
    be a mount that comes later, and the loop scores on without captures meanwhile.)"""
    from edge.io.capture import folder_problem
    from edge.perception.pipeline import resolve_model_path

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
    if config.printing.enabled and config.printing.overlay:
        from edge.io.printer import load_overlay

        try:
            load_overlay(config.printing.overlay)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError(problems)


def _check_extras(config: AppConfig) -> None:
    """A section turned on whose Python packages are not installed: `run` would stop at
    start-up (exit 2), so the check that runs before it says so first, with the fix."""
    from importlib.util import find_spec

    if config.web.enabled:
        missing = [name for name in ("starlette", "uvicorn") if find_spec(name) is None]
        if missing:
            raise ConfigError(
                [
                    f"web.enabled: true needs the web extra, and {' and '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} not installed: pip install "
                    "'smilebooth[web]' (or set web.enabled: false)"
                ]
            )


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
        _check_extras(config)
        _check_secrets(config)
    except ConfigError as exc:
        print(f"{args.path}: invalid configuration:\n{exc}", file=sys.stderr)
        return exit_codes.CONFIG
    print(f"{args.path}: valid (digest {config_digest(config)[:12]})")
    return 0
