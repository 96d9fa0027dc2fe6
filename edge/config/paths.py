"""The config's file and folder names, found by their key names, checked without I/O.

Why by name: every model path (`detector.model`, `smile.model`, `eyes.model`, and any
`*_model` a detector adds), every `*_file` and every `folder` is a path, so a new key is
covered the day it is added. A name the kernel would refuse (a component over 255 bytes, a
whole path over 4095, a NUL byte) is a config error with its key here, not an
`OSError: File name too long` traceback later.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import Any

NAME_MAX = 255  # bytes in one path component (Linux)
PATH_MAX = 4095  # bytes in a whole path


def is_path_key(name: str) -> bool:
    return name in ("model", "folder") or name.endswith(("_model", "_file"))


def path_keys(config: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(`section.key`, value) for every non-empty path-named string key, nested included."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        key = f"{prefix}{field.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            yield from path_keys(value, key + ".")
        elif isinstance(value, str) and value and is_path_key(field.name):
            yield key, value


def path_name_problem(value: str) -> str | None:
    """Why the kernel would refuse this name, or None."""
    if "\0" in value:
        return "contains a NUL byte"
    data = os.fsencode(value)
    if len(data) > PATH_MAX:
        return f"{len(data):,} bytes long: a path is at most {PATH_MAX:,}"
    longest = max(data.split(b"/"), key=len)
    if len(longest) > NAME_MAX:
        return f"a name of {len(longest):,} bytes in it: at most {NAME_MAX} each"
    return None


def path_problems(config: Any, sources: dict[str, str], default: str | None = None) -> list[str]:
    """`SOURCE: key: problem` for each refused name; `sources` maps keys to where their value
    came from (`$SMILEBOOTH_CAPTURE_FOLDER`, `--source`); keys not in it are checked only
    when `default` (the config file's name) is given."""
    problems = []
    for key, value in path_keys(config):
        source = sources.get(key, default)
        if source is not None and (problem := path_name_problem(value)) is not None:
            problems.append(f"{source}: {key}: {problem}")
    return problems
