"""Remote commands: validated strictly before anything changes (pure, no MQTT here).

<base>/set/armed      ON | OFF (also true/false, 1/0)
<base>/set/threshold  a number in [0, 1]
<base>/set/trigger    PRESS (any short payload)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge.control import Controls

MAX_PAYLOAD = 64  # bytes: commands are tiny; anything larger is rejected unread
TRUE = {"on", "true", "1", "arm", "armed"}
FALSE = {"off", "false", "0", "disarm", "disarmed"}


class CommandError(ValueError):
    """A command that was rejected; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class Command:
    name: str
    value: bool | float | None


def parse(name: str, payload: bytes) -> Command:
    if len(payload) > MAX_PAYLOAD:
        raise CommandError(f"{name}: payload of {len(payload)} bytes (at most {MAX_PAYLOAD})")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise CommandError(f"{name}: payload is not UTF-8 text") from exc
    if name == "armed":
        if text.lower() in TRUE:
            return Command(name, True)
        if text.lower() in FALSE:
            return Command(name, False)
        raise CommandError(f"armed: expected ON or OFF, got {text[:20]!r}")
    if name == "threshold":
        try:
            value = float(text)
        except ValueError as exc:
            raise CommandError(
                f"threshold: expected a number in [0, 1], got {text[:20]!r}"
            ) from exc
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise CommandError(f"threshold: expected a number in [0, 1], got {text[:20]!r}")
        return Command(name, value)
    if name == "trigger":
        return Command(name, None)
    raise CommandError(f"unknown command {name[:40]!r} (known: armed, threshold, trigger)")


def apply(command: Command, controls: Controls) -> None:
    if command.name == "armed":
        (controls.arm if command.value else controls.disarm)()
    elif command.name == "threshold":
        assert isinstance(command.value, float)
        controls.set_threshold(command.value)
    elif command.name == "trigger":
        controls.request_trigger()
