"""Config files for the fuzz: the real section and key names with hostile values, paths
that are too long, missing, special or pointing at the wrong kind of file, control
characters, bytes that are not UTF-8, and whole files that are not YAML at all."""

from __future__ import annotations

import dataclasses
import os
import random
from collections.abc import Iterator
from pathlib import Path

from edge.config import AppConfig
from edge.config.paths import is_path_key
from tests.paths import MODELS


def _fields(config: object, prefix: str = "") -> list[tuple[str, str]]:
    """(`section.key` path, leaf key name) for every key, nested sections included."""
    keys = []
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            keys += _fields(value, f"{prefix}{field.name}.")
        else:
            keys.append((prefix + field.name, field.name))
    return keys


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
            for _ in range(rng.randint(1, 6)):
                key, leaf = rng.choice(KEYS)
                if is_path_key(leaf) or leaf == "device" or rng.random() < 0.1:
                    value = repr(rng.choice(paths)).replace("\\\\", "\\")
                    value = '"' + value[1:-1].replace('"', '\\"') + '"'
                else:
                    value = rng.choice(HOSTILE)
                section, _, rest = key.partition(".")
                lines.setdefault(section, []).append(_nested(rest, value))
            if rng.random() < 0.3:  # switch the parts whose files matter on
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
