"""The `mqtt` section of config.yaml. Secrets are never read from it."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from pathlib import Path

from edge.config.mqtt import MqttConfig


def read_password(config: MqttConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The password from, in order: password_file, $SMILEBOOTH_MQTT_PASSWORD, or the systemd
    credential `mqtt_password` ($CREDENTIALS_DIRECTORY/mqtt_password); None when none is set
    (an empty file counts as none). OSError when password_file cannot be read."""
    environ = os.environ if environ is None else environ
    if config.password_file:
        return _read_secret(Path(config.password_file))
    if environ.get("SMILEBOOTH_MQTT_PASSWORD"):
        return environ["SMILEBOOTH_MQTT_PASSWORD"]
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / "mqtt_password").is_file():
        return _read_secret(Path(credentials) / "mqtt_password")
    return None


def _read_secret(path: Path) -> str | None:
    """A password file's text; OSError (never UnicodeDecodeError) for binary content."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except UnicodeDecodeError as exc:
        raise OSError(errno.EINVAL, f"not UTF-8 text (byte {exc.start})", str(path)) from exc
