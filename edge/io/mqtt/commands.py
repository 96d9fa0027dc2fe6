"""Remote commands: validated strictly before anything changes (pure, no MQTT here).

<base>/set/armed      ON | OFF (also true/false, 1/0)
<base>/set/threshold  a number in [0, 1], not under trigger.rearm_threshold
<base>/set/trigger    PRESS (any short payload)
<base>/set            one JSON object with any of the above, e.g. {"armed": true,
                      "threshold": 0.6}; applied all together, or not at all
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from edge.decide.control import Controls

MAX_PAYLOAD = 256  # bytes: commands are tiny; anything larger is rejected unread
TRUE = {"on", "true", "1", "arm", "armed"}
FALSE = {"off", "false", "0", "disarm", "disarmed"}
KNOWN = ("armed", "threshold", "trigger")


class CommandError(ValueError):
    """A command that was rejected; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class Command:
    name: str
    value: bool | float | None


def _text(name: str, payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD:
        raise CommandError(f"{name}: payload of {len(payload)} bytes (at most {MAX_PAYLOAD})")
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise CommandError(f"{name}: payload is not UTF-8 text") from exc


def _armed(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise CommandError(f"armed: expected ON or OFF, got {str(value)[:20]!r}")


def _threshold(value: Any) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise CommandError(f"threshold: expected a number in [0, 1], got {str(value)[:20]!r}")
    return number


def _one(name: str, value: Any) -> Command:
    if name == "armed":
        return Command(name, _armed(value))
    if name == "threshold":
        return Command(name, _threshold(value))
    if name == "trigger":
        return Command(name, None)
    raise CommandError(f"unknown command {name[:40]!r} (known: {', '.join(KNOWN)})")


def parse(name: str, payload: bytes) -> Command:
    """One command from <base>/set/<name>."""
    if name not in KNOWN:
        raise CommandError(f"unknown command {name[:40]!r} (known: {', '.join(KNOWN)})")
    return _one(name, _text(name, payload))


def parse_json(payload: bytes) -> list[Command]:
    """Every command in a <base>/set JSON object; one bad field rejects them all."""
    text = _text("set", payload)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"set: not valid JSON ({exc.args[0][:60]})") from exc
    if not isinstance(data, dict) or not data:
        raise CommandError(f"set: expected a JSON object with any of {', '.join(KNOWN)}")
    if data.get("trigger") is False:
        del data["trigger"]  # {"trigger": false}: nothing to do for that key
    return [_one(str(name), value) for name, value in data.items()]


def parse_message(name: str, payload: bytes) -> list[Command]:
    """Commands from a message on <base>/set (name '') or <base>/set/<name>."""
    return parse_json(payload) if name == "" else [parse(name, payload)]


def handle_message(name: str, payload: bytes, controls: Controls) -> list[Command]:
    """Parse the whole message, then apply it: a CommandError (any bad field) leaves the
    controls exactly as they were, never half-changed. A threshold is held to the config
    file's rule (not under trigger.rearm_threshold) before anything is applied."""
    commands = parse_message(name, payload)
    for command in commands:
        if command.name == "threshold":
            assert isinstance(command.value, float)
            problem = controls.threshold_problem(command.value)
            if problem:
                raise CommandError(f"threshold: {problem}")
    for command in commands:
        apply(command, controls)
    return commands


def apply(command: Command, controls: Controls) -> None:
    if command.name == "armed":
        (controls.arm if command.value else controls.disarm)()
    elif command.name == "threshold":
        assert isinstance(command.value, float)
        controls.set_threshold(command.value)
    elif command.name == "trigger":
        controls.request_trigger()
