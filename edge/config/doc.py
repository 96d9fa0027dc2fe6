"""Render the default configuration as commented YAML: every key, its default and its doc.

config.yaml at the repository root is this output; a test keeps the two in sync, so the
documented defaults can never drift from the code's.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import yaml


def _scalar(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text.removesuffix("...").strip()


def render(config: Any, indent: int = 0) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    hints = typing.get_type_hints(type(config))
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        doc = item.metadata.get("doc")
        if dataclasses.is_dataclass(value):
            summary = (type(value).__doc__ or "").strip().splitlines()[0]
            lines.append(f"{pad}# {summary}" if summary else "")
            lines.append(f"{pad}{item.name}:")
            lines.extend(render(value, indent + 2))
            continue
        if doc:
            bounds = [f"{k} {item.metadata[k]}" for k in ("min", "max") if k in item.metadata]
            allowed = (
                typing.get_args(hints[item.name])
                if typing.get_origin(hints[item.name]) is typing.Literal
                else ()
            )
            extra = (
                f" (one of {', '.join(allowed)})"
                if allowed
                else (f" ({', '.join(bounds)})" if bounds else "")
            )
            lines.append(f"{pad}# {doc}{extra}")
        if isinstance(value, dict) and value:  # an empty one renders as {}
            lines.append(f"{pad}{item.name}:")
            lines.extend(f"{pad}  {key}: {_scalar(v)}" for key, v in value.items())
        else:
            lines.append(f"{pad}{item.name}: {_scalar(value)}")
    return lines


HEADER = """\
# smilebooth configuration: every key, with its default. Validated once at start-up
# (`smilebooth validate-config config.yaml`): an unknown key, a wrong type or an
# out-of-range value stops start-up with the key and line. Keys left out take these
# defaults. Relative model paths are resolved from the working directory, then from the
# project folder. Secrets never go here: the MQTT password comes from
# mqtt.password_file, $SMILEBOOTH_MQTT_PASSWORD or the systemd credential mqtt_password,
# the web page's token from web.token_file, $SMILEBOOTH_WEB_TOKEN or the credential web_token.
# Per-device environment overrides (checked the same way as the keys they set):
"""


def header() -> str:
    """HEADER and one line per environment override, from the list the loader applies."""
    from edge.config.loading import ENV_OVERRIDES

    lines = [f"#   {name} -> {'.'.join(key)}" for name, key in ENV_OVERRIDES.items()]
    return HEADER + "\n".join(lines) + "\n"


def default_yaml(config: Any) -> str:
    """The header, then each section with a blank line before its summary comment."""
    lines: list[str] = []
    for line in render(config):
        if line.startswith("#") and lines:
            lines.append("")
        lines.append(line)
    return header() + "\n" + "\n".join(lines) + "\n"
