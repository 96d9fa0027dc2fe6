"""Home Assistant's side of MQTT discovery, for the tests: its template engine (Jinja2 in a
sandbox, with HA's filters and a strict Undefined, so a missing key is an error, not an
empty string) and the rules by which each component accepts a rendered state.

Written from HA's documented behaviour (homeassistant/helpers/template.py and the MQTT
components): `int`/`float` without a default raise on bad input, a sensor state "None"
means unknown, a numeric sensor (state_class, unit) needs a number, a timestamp sensor an
ISO 8601 time with a time zone, an enum sensor one of its options, an event entity JSON
with a known event_type.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

NONE = "None"  # HA's MQTT sensor: a rendered "None" sets the state to unknown
_MISSING = object()


def _int(value: Any, default: Any = _MISSING, base: int = 10) -> Any:
    try:
        return int(value, base) if isinstance(value, str) and base != 10 else int(float(value))
    except (TypeError, ValueError, OverflowError):
        if default is _MISSING:
            raise ValueError(f"int got invalid input {value!r} and no default") from None
        return default


def _float(value: Any, default: Any = _MISSING) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        if default is _MISSING:
            raise ValueError(f"float got invalid input {value!r} and no default") from None
        return default


def _round(value: Any, precision: int = 0, method: str = "common", default: Any = _MISSING) -> Any:
    try:
        return round(float(value), precision)
    except (TypeError, ValueError):
        if default is _MISSING:
            raise ValueError(f"round got invalid input {value!r} and no default") from None
        return default


def _as_datetime(value: Any, default: Any = _MISSING) -> Any:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        if default is _MISSING:
            raise ValueError(f"as_datetime got invalid input {value!r}") from None
        return default


def environment() -> jinja2.Environment:
    env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    env.filters.update(
        tojson=json.dumps,
        to_json=json.dumps,
        int=_int,
        float=_float,
        round=_round,
        as_datetime=_as_datetime,
        as_timestamp=lambda v: _as_datetime(v).timestamp(),
    )
    return env


ENV = environment()


def render(template: str, payload: bytes) -> str:
    """What HA renders: value (the text) and value_json (when the payload is JSON)."""
    text = payload.decode("utf-8")
    variables: dict[str, Any] = {"value": text}
    with contextlib.suppress(ValueError):  # not JSON: HA leaves value_json out
        variables["value_json"] = json.loads(text)
    return ENV.from_string(template).render(**variables).strip()


def _number(state: str) -> float:
    number = float(state)  # ValueError: HA logs a non-numeric state
    assert math.isfinite(number), state
    return number


def check_state(component: str, config: dict[str, Any], state: str) -> None:
    """Raises (AssertionError/ValueError) where HA would log an error or warning."""
    if component == "sensor":
        if state == NONE:
            return
        if config.get("device_class") == "timestamp":
            when = dt.datetime.fromisoformat(state)
            assert when.tzinfo is not None, f"timestamp without a time zone: {state}"
        elif config.get("device_class") == "enum":
            assert state in config["options"], f"{state!r} not in {config['options']}"
        elif "state_class" in config or "unit_of_measurement" in config:
            number = _number(state)
            if config.get("state_class") == "total_increasing":
                assert number >= 0, state
    elif component in ("binary_sensor", "switch"):
        assert state in (config["payload_on"], config["payload_off"]), state
    elif component == "number":
        number = _number(state)
        assert config["min"] <= number <= config["max"], (number, config["min"], config["max"])
    elif component == "event":
        event = json.loads(state)
        assert event["event_type"] in config["event_types"], event
    else:
        raise AssertionError(f"no rule for {component}")


def check_message(component: str, config: dict[str, Any], topic: str, payload: bytes) -> int:
    """Every template of one config that reads `topic`, rendered on payload and checked;
    the size in bytes of the attributes JSON (0 when none)."""
    size = 0
    if config.get("state_topic") == topic:
        template = config.get("value_template")
        state = render(template, payload) if template else payload.decode("utf-8")
        check_state(component, config, state)
    if config.get("json_attributes_topic") == topic:
        template = config.get("json_attributes_template")
        attributes = render(template, payload) if template else payload.decode("utf-8")
        assert isinstance(json.loads(attributes), dict), attributes
        size = len(attributes.encode())
    return size
