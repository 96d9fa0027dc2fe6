"""Config files for the fuzz: the real section and key names with hostile values, paths
that are too long, missing, special or pointing at the wrong kind of file, control
characters, bytes that are not UTF-8, and whole files that are not YAML at all."""

from __future__ import annotations

import dataclasses
import os
import random
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edge.config import AppConfig
from edge.config.paths import is_path_key
from tests.paths import MODELS


def _fields(config: object, prefix: str = "") -> list[tuple[str, str, Any, Any]]:
    """(`section.key` path, leaf key name, type hint, metadata) for every key, nested
    sections included."""
    keys = []
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            keys += _fields(value, f"{prefix}{field.name}.")
        else:
            keys.append((prefix + field.name, field.name, hints[field.name], field.metadata))
    return keys


def _plausible(hint: Any, meta: Any, rng: random.Random) -> str | None:
    """A value of the key's own type within its bounds (most configs should be valid, so
    that `validate-config` and `run` are compared on them); None: no idea for this type."""
    low, high = meta.get("min"), meta.get("max")
    if hint is bool:
        return rng.choice(["true", "false"])
    if hint in (int, float):
        low = 0 if low is None else low
        high = low + 100 if high is None else high
        value = rng.uniform(low, high)
        return str(round(value)) if hint is int else f"{value:.3f}"
    if typing.get_origin(hint) is typing.Literal:
        return repr(rng.choice(typing.get_args(hint)))
    return None


KEYS = _fields(AppConfig())
HOSTILE = [
    "!!float abc", "!!python/object/apply:os.system ['true']", "1" * 5000, "1e400", ".nan",
    "-.inf", "[" * 600 + "]" * 600, "&a [1, *a]", "*nothing", "~", "''", '"\\0"', "0o777",
    "true", "[1, 2]", "{x: 1}", '"\\e[31mred\\r"', "'a\x01b'", "-1", "0", "99999999999",
    "3.5", '"\\u202e"', "[0, 0]", "[-5, 10]", "[100000, 100000]", "'x' ", "|\n  multi",
]  # fmt: skip


def _path_values(folder: Path) -> list[str]:
    fifo = folder / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    return [
        "m" * 300 + ".tflite",
        "/" + "d/" * 2100 + "x",
        str(folder / "missing.tflite"),
        "/dev/zero",
        str(fifo),
        str(folder),
        str(MODELS / "smile_int8.tflite"),
        str(MODELS / "smile_int8.card.json"),
        "/etc/hostname",
        "caf\u00e9/\u202e.tflite",
        "a\x1b[2Jb",
        "",
        "rtsp://127.0.0.1:1/x",
        "0",
    ]


def config_cases(count: int, folder: Path, seed: int = 30) -> Iterator[tuple[str, bytes]]:
    """(name, file bytes): most are documents of 1-6 keys; some are not YAML at all."""
    rng = random.Random(seed)
    paths = _path_values(folder)
    for index in range(count):
        roll = rng.random()
        if roll < 0.05:
            data = rng.randbytes(rng.randint(0, 400))
        elif roll < 0.08:
            data = b"mqtt:\n  host: \xff\xfe\n"
        else:
            lines: dict[str, list[str]] = {}
            plausible = rng.random() < 0.5
            for _ in range(rng.randint(1, 6)):
                key, leaf, hint, meta = rng.choice(KEYS)
                if plausible and (value := _plausible(hint, meta, rng)) is not None:
                    pass
                elif is_path_key(leaf) or leaf == "device" or rng.random() < 0.1:
                    value = repr(rng.choice(paths)).replace("\\\\", "\\")
                    value = '"' + value[1:-1].replace('"', '\\"') + '"'
                else:
                    value = rng.choice(HOSTILE)
                section, _, rest = key.partition(".")
                lines.setdefault(section, []).append(_nested(rest, value))
            if rng.random() < 0.15:  # switch the parts whose files matter on
                lines.setdefault("mqtt", []).append("enabled: true")
                lines.setdefault("web", []).append("enabled: true")
            text = "".join(
                f"{section}:\n" + "".join(f"  {line}\n" for line in body)
                for section, body in lines.items()
            )
            data = text.encode("utf-8", "surrogatepass")
        yield f"{index:05d}.yaml", data


def _nested(path: str, value: str) -> str:
    """`tls.ca_file` -> `tls: {ca_file: value}`; a plain key -> `key: value`."""
    head, _, rest = path.partition(".")
    if not rest:
        return f"{head}: {value}"
    return f"{head}: {{{_nested(rest, value)}}}"
