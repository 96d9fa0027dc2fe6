"""One threshold rule everywhere: a threshold under trigger.rearm_threshold (0.55 by default)
is refused, with the same reason, from config.yaml, --threshold, an MQTT command, Home
Assistant's Threshold number and the web page; the limit itself is accepted everywhere."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.config import ConfigError, load_config
from edge.config.decide import threshold_problem
from edge.config.loading import apply_overrides, default_config
from edge.decide.control import Controls

LOW, FLOOR = 0.3, 0.55  # FLOOR: TriggerConfig's default rearm_threshold
REASON = threshold_problem(LOW, FLOOR)


def test_the_defaults_are_what_this_file_assumes() -> None:
    assert default_config().trigger.rearm_threshold == FLOOR
    assert f"rearm_threshold {FLOOR} must not exceed threshold {LOW}" == REASON
    assert threshold_problem(FLOOR, FLOOR) is None


def test_the_file_and_the_flag_refuse_it_with_the_same_reason(tmp_path: Path) -> None:
    low = tmp_path / "low.yaml"
    low.write_text(f"trigger:\n  threshold: {LOW}\n")
    with pytest.raises(ConfigError) as from_file:
        load_config(low)
    with pytest.raises(ConfigError) as from_flag:
        apply_overrides(default_config(), {"trigger.threshold": (str(LOW), "--threshold")})
    assert str(from_file.value).endswith(f"trigger: {REASON}")
    assert str(from_flag.value) == f"--threshold: trigger: {REASON}"
    at_floor = apply_overrides(default_config(), {"trigger.threshold": (str(FLOOR), "--x")})
    assert at_floor.trigger.threshold == FLOOR


def loop_controls(folder: Path) -> Controls:
    """The controls of the loop `smilebooth run` builds (real models, a replayed photo)."""
    import threading

    from edge.compose import build_loop
    from tests.paths import sample_replay_config

    config = load_config(sample_replay_config(folder, fps=10, repeat=1))
    return build_loop(config, stop=threading.Event()).parts.controls


def test_the_loops_controls_carry_the_floor_of_the_config(tmp_path: Path) -> None:
    controls = loop_controls(tmp_path)
    with pytest.raises(ValueError, match=REASON):
        controls.set_threshold(LOW)
    controls.set_threshold(FLOOR)
    assert controls.peek().threshold == FLOOR


@pytest.fixture
def page(tmp_path: Path) -> Iterator[tuple[int, Controls]]:
    """The web page with the controls of a loop (no camera: only /api/control is used)."""
    pytest.importorskip("starlette")
    from edge.cli.run import now_board
    from edge.web.cli import build_web_app
    from edge.web.server import LoopLink, WebServer

    config = default_config()
    config = dataclasses.replace(
        config,
        capture=dataclasses.replace(config.capture, folder=str(tmp_path / "photos")),
        web=dataclasses.replace(config.web, enabled=True, port=0),
    )
    controls = loop_controls(tmp_path)
    link = LoopLink(now_board(config), controls)
    server = WebServer(build_web_app(config, {"SMILEBOOTH_WEB_TOKEN": "t0ken"}, link), config.web)
    server.start()
    try:
        yield server.wait_started(), controls
    finally:
        server.stop()


def post_threshold(port: int, value: float) -> tuple[int, dict]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"X-Smilebooth-Token": "t0ken", "Content-Type": "application/json"}
    connection.request("POST", "/api/control", json.dumps({"threshold": value}), headers)
    response = connection.getresponse()
    reply = (response.status, json.loads(response.read()))
    connection.close()
    return reply


def test_the_web_page_refuses_it_through_the_mqtt_command_code(page) -> None:
    port, controls = page
    before = controls.peek()
    status, body = post_threshold(port, LOW)
    assert status == 400 and body["error"] == f"threshold: {REASON}"
    assert controls.peek() == before
    status, body = post_threshold(port, FLOOR)
    assert status == 200 and body["threshold"] == FLOOR


def test_the_page_s_slider_starts_at_the_floor(page) -> None:
    """The slider cannot even offer what the booth refuses: its minimum is the floor."""
    import http.client

    port, _ = page
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/api/info")
    info = json.loads(connection.getresponse().read())
    connection.close()
    assert info["threshold_min"] == FLOOR


@pytest.mark.broker
def test_mqtt_and_home_assistant_refuse_it_over_a_real_broker(tmp_path: Path) -> None:
    """The number HA draws cannot go under the floor, and a command under it (what an
    automation or another client could send) is refused with the reason on <base>/error."""
    from edge.config.mqtt import MqttConfig
    from edge.io import events
    from edge.io.mqtt.publisher import MqttPublisher
    from tests.mosquitto import Broker
    from tests.test_mqtt import Listener

    broker = Broker(tmp_path).start()
    trigger = default_config().trigger
    controls = Controls(trigger.armed, trigger.threshold, trigger.rearm_threshold)
    config = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, device_id="rule")
    publisher = MqttPublisher(config, events.EventBus(), controls, reconnect_delay=(1, 1))
    listener = Listener(broker.port)
    publisher.start()
    try:
        number = json.loads(listener.wait_for("homeassistant/number/rule/threshold/config"))
        assert (number["min"], number["max"]) == (FLOOR, 1.0)
        before = controls.peek()
        listener.client.publish("smilebooth/rule/set/threshold", str(LOW), qos=1)
        error = json.loads(listener.wait_for("smilebooth/rule/error", timeout=5))
        assert error["message"] == f"threshold: {REASON}"
        assert controls.peek() == before
        listener.client.publish("smilebooth/rule/set/threshold", str(FLOOR), qos=1)
        listener.wait_for("smilebooth/rule/state", where=lambda s: s["threshold"] == FLOOR)
    finally:
        listener.close()
        publisher.stop()
        broker.stop()
