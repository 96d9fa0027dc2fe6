"""Secrets (the MQTT password, the web page's token) never live in config.yaml.

Each comes from, in order: a file named in config, an environment variable, or a systemd
credential (`LoadCredential=`, read from $CREDENTIALS_DIRECTORY), so a unit file can hand it
over without it ever touching the disk in the clear.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.config.mqtt import MqttConfig
    from edge.config.web import WebConfig


def read_password(config: MqttConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The MQTT password: password_file, $SMILEBOOTH_MQTT_PASSWORD or the systemd
    credential `mqtt_password`; None when none is set. OSError when the file cannot be read."""
    return read_secret(config.password_file, "SMILEBOOTH_MQTT_PASSWORD", "mqtt_password", environ)


def read_token(config: WebConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The web page's action token: token_file, $SMILEBOOTH_WEB_TOKEN or the credential
    `web_token`."""
    return read_secret(config.token_file, "SMILEBOOTH_WEB_TOKEN", "web_token", environ)


def read_secret(
    file: str, variable: str, credential: str, environ: Mapping[str, str] | None = None
) -> str | None:
    """The secret, or None when none is set (an empty file counts as none).
    OSError when the named file cannot be read or is not text."""
    environ = os.environ if environ is None else environ
    if file:
        return read_secret_file(Path(file))
    if environ.get(variable):
        return environ[variable]
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / credential).is_file():
        return read_secret_file(Path(credentials) / credential)
    return None


MAX_SECRET = 64 * 1024  # bytes: a password or token is short; /dev/zero is not one


def read_secret_file(path: Path) -> str | None:
    """A secret file's text; OSError (never UnicodeDecodeError) for binary content, a
    special file (/dev/zero, a FIFO: never read, never waited on) or one over MAX_SECRET."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read(MAX_SECRET + 1)
    finally:
        os.close(descriptor)
    if len(data) > MAX_SECRET:
        raise OSError(errno.EFBIG, f"over {MAX_SECRET:,} bytes: not a secret", str(path))
    try:
        return data.decode("utf-8").strip() or None
    except UnicodeDecodeError as exc:
        raise OSError(errno.EINVAL, f"not UTF-8 text (byte {exc.start})", str(path)) from exc
