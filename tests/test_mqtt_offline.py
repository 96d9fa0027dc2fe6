"""The MQTT parts that need no broker: remote commands (all or nothing), where the password
comes from, the Home Assistant templates, and a booth whose broker is not there at all."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.config.mqtt import MqttConfig
from edge.decide.control import Controls, ControlState
from edge.io.mqtt.commands import MAX_PAYLOAD, CommandError, handle_message
from edge.io.secrets import read_password
from tests.test_mqtt import run_loop


def check_parsed(name: str, payload: bytes) -> None:
    """Either every command is valid and the controls show all of them, or a CommandError
    leaves the controls exactly as they were (the publisher's own path, handle_message)."""
    before = ControlState(armed=False, threshold=0.42, trigger_requested=False)
    controls = Controls(before.armed, before.threshold)
    try:
        commands = handle_message(name, payload, controls)
    except CommandError as exc:
        assert str(exc)
        assert controls.peek() == before
        return
    assert len(payload) <= MAX_PAYLOAD
    expected = before
    for command in commands:
        if command.name == "threshold":
            assert isinstance(command.value, float) and 0.0 <= command.value <= 1.0
            expected = dataclasses.replace(expected, threshold=command.value)
        elif command.name == "armed":
            assert isinstance(command.value, bool)
            expected = dataclasses.replace(expected, armed=command.value)
        else:
            assert command.name == "trigger"
            expected = dataclasses.replace(expected, trigger_requested=True)
    assert controls.peek() == expected


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["armed", "threshold", "trigger", "bogus", ""]),
    payload=st.binary(max_size=MAX_PAYLOAD + 50)
    | st.sampled_from([b"ON", b"off", b"0.5", b"nan", b"-0", b"1e999", b"PRESS", b" 1 "]),
)
def test_any_payload_is_either_a_valid_command_or_a_clear_error(name: str, payload: bytes) -> None:
    check_parsed(name, payload)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(["armed", "threshold", "trigger", "colour"]), JSON_VALUES, max_size=4
    )
    | JSON_VALUES
)
def test_any_json_set_message_is_all_valid_or_rejected_whole(fields: object) -> None:
    check_parsed("", json.dumps(fields).encode())


def test_password_comes_from_file_environment_or_systemd_credentials(tmp_path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    assert read_password(MqttConfig(password_file=str(secret)), {}) == "s3cret"
    assert read_password(MqttConfig(), {"SMILEBOOTH_MQTT_PASSWORD": "env"}) == "env"
    (tmp_path / "mqtt_password").write_text("cred")
    assert read_password(MqttConfig(), {"CREDENTIALS_DIRECTORY": str(tmp_path)}) == "cred"
    assert read_password(MqttConfig(), {}) is None
    (tmp_path / "mqtt_password").write_text("\n")  # install.sh's empty placeholder
    assert read_password(MqttConfig(), {"CREDENTIALS_DIRECTORY": str(tmp_path)}) is None


def test_the_templates_give_the_states_ha_would_show() -> None:
    """The value templates rendered with Jinja (HA's engine) on the payloads we publish."""
    jinja2 = pytest.importorskip("jinja2")
    from edge.io.mqtt.discovery import discovery_messages
    from edge.io.mqtt.topics import Topics

    configs = {
        t.split("/")[3]: json.loads(p)
        for t, p in discovery_messages(Topics("smilebooth", "b"), "homeassistant", "1").items()
        if p
    }
    env = jinja2.Environment()
    env.filters["tojson"] = json.dumps

    def render(name: str, payload: dict, key: str = "value_template") -> str:
        return env.from_string(configs[name][key]).render(value_json=payload)

    score = {
        "score": 0.8,
        "faces": 2,
        "per_face": [{"track_id": 1, "smiling": False}, {"track_id": 2, "smiling": True}],
    }
    assert render("smiling", score) == "ON"
    assert render("smiling", {**score, "per_face": [{"smiling": False}]}) == "OFF"
    assert render("faces_present", {"faces": 0, "phase": "ready"}) == "OFF"
    assert render("phase", {"phase": "cooldown"}) == "cooldown"
    attributes = json.loads(render("faces", score, "json_attributes_template"))
    assert attributes == {"per_face": score["per_face"]}
    state = {"phase": "ready", "ready": False, "reason": "not_smiling", "held_by": 2}
    state["message"] = "Not everyone is smiling yet."
    assert render("waiting_for", state) == "Not everyone is smiling yet."
    why = json.loads(render("waiting_for", state, "json_attributes_template"))
    assert why == {"ready": False, "reason": "not_smiling", "held_by": 2}


def test_no_reachable_broker_the_loop_runs_anyway_and_says_so_once(tmp_path) -> None:
    from tests.mosquitto import free_port

    result = run_loop(
        f"mqtt:\n  enabled: true\n  host: 127.0.0.1\n  port: {free_port()}\n", tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "frames=275" in result.stderr
    assert result.stderr.count("unreachable") == 1  # said once; the retries stay quiet
