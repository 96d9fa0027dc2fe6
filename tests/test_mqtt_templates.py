"""Every value and attributes template of the discovery configs, rendered with Jinja2 the
way Home Assistant renders it (tests/ha_templates.py: sandbox, HA's filters, a strict
Undefined) on every message the booth publishes, first messages included, and each
result checked against what the entity accepts: no template error, no undefined key, no
state HA would reject."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from edge.config.mqtt import MqttConfig
from edge.decide.control import Controls
from edge.io import events
from edge.io.mqtt.discovery import COUNTS, Announce, discovery_messages
from edge.io.mqtt.publisher import MqttPublisher
from edge.io.mqtt.topics import Topics
from tests.mosquitto import Broker
from tests.test_mqtt import subscribed_listener

pytest.importorskip("jinja2")
from tests import ha_templates

pytestmark = pytest.mark.broker
MAX_ATTRIBUTES = 2048  # bytes; HA's recorder drops attributes past 16 KB


def configs_from(messages: list[tuple[str, bytes, bool]]) -> dict[str, dict]:
    """The last non-empty config of each discovery topic, as HA would hold it."""
    configs = {}
    for topic, payload, _ in messages:
        if topic.startswith("homeassistant/") and topic.endswith("/config") and payload:
            configs[topic] = json.loads(payload)
    return configs


def check_every_template(messages: list[tuple[str, bytes, bool]]) -> Counter[str]:
    """Renders every template on every message of its topic; how many each config saw."""
    configs = configs_from(messages)
    assert configs, "no discovery configs were published"
    seen: Counter[str] = Counter()
    for topic, payload, _ in messages:
        for config_topic, config in configs.items():
            component = config_topic.split("/")[1]
            if component in ("device_automation", "image", "button"):
                continue
            try:
                size = ha_templates.check_message(component, config, topic, payload)
            except Exception as exc:
                raise AssertionError(f"{config_topic} on {topic} {payload[:300]!r}: {exc}") from exc
            assert size <= MAX_ATTRIBUTES, (config_topic, size)
            if topic in (config.get("state_topic"), config.get("json_attributes_topic")):
                seen[config_topic] += 1
    return seen


def test_every_template_on_every_message_of_a_real_run(tmp_path) -> None:
    """`smilebooth run` on a real video (as a camera, in real time) feeding a real broker,
    from its first message: a photo taken, a bad command (an error event) and HA's birth
    message on the way."""
    from tests._loop_helpers import write_frames
    from tests.paths import MEDIA, ROOT, require

    broker = Broker(tmp_path).start()
    listener = subscribed_listener(broker.port)
    frames = write_frames(require(MEDIA / "video" / "stage_360p.mp4"), tmp_path / "frames", 150)
    assert len(frames) == 150
    config = tmp_path / "config.yaml"
    config.write_text(  # 150 frames of the stage video at 25 frames/s: 6 s, as a camera
        f"source: {{type: images, folder: {tmp_path / 'frames'}, fps: 25}}\n"
        f"capture: {{folder: {tmp_path / 'photos'}}}\n"
        "trigger: {threshold: 0.3, rearm_threshold: 0.25, rule: score}\n"  # a photo, whoever smiles
        f"mqtt: {{enabled: true, host: 127.0.0.1, port: {broker.port}, device_id: real,"
        " score_interval_s: 0.2}\n"
    )
    command = [sys.executable, "-m", "edge.cli", "run", "--config", str(config)]
    run = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        # counts: the last thing a connect sends, after the command subscription
        listener.wait_for("smilebooth/real/counts", timeout=60)
        listener.client.publish("smilebooth/real/set/threshold", b"2", qos=1)
        listener.client.publish("homeassistant/status", b"online", qos=1)
        _, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    try:
        assert run.returncode == 0, stderr[-2000:]
        listener.wait_for("smilebooth/real/availability", b"offline")
        messages = list(listener.messages)
    finally:
        listener.close()
        broker.stop()
    topics = Counter(topic for topic, _, _ in messages)
    for leaf in ("state", "score", "capture", "counts", "error"):
        assert topics[f"smilebooth/real/{leaf}"] >= 1, (leaf, topics)
    config_topic = "homeassistant/sensor/real/score/config"
    assert topics[config_topic] >= 2, "HA's birth message did not bring the configs again"
    seen = check_every_template(messages)
    templated = {t for t, c in configs_from(messages).items() if "state_topic" in c}
    assert templated <= set(seen), templated - set(seen)
    first_state = json.loads(next(p for t, p, _ in messages if t == "smilebooth/real/state"))
    assert {"armed", "threshold", "phase", "faces", "fps", "disk_free_gb"} <= set(first_state)
    assert first_state["disk_free_gb"] > 0  # the photo folder's disk


def test_every_template_on_the_edge_cases_of_each_topic(tmp_path) -> None:
    """What a short run may not show: the state before the loop's first, no face (score
    None), every error source and an unknown one, a count of another name, a capture
    without faces, the image entity on."""
    broker = Broker(tmp_path).start()
    listener = subscribed_listener(broker.port)
    config = MqttConfig(
        enabled=True, host="127.0.0.1", port=broker.port, device_id="edge", include_image=True
    )
    bus = events.EventBus()
    publisher = MqttPublisher(config, bus, Controls(False, 0.8, 0.6), reconnect_delay=(1, 1))
    publisher.start()
    try:
        listener.wait_for("smilebooth/edge/state")
        bus.publish(events.ScoreEvent(None, 0, None, None))
        face = {"track_id": 3, "smiling": True, "eyes_open": 0}
        bus.publish(events.ScoreEvent(0.9, 1, 0.9, 0.0, 0.91, (face,)))
        for source in (*events.ERROR_SOURCES, "martians"):
            bus.publish(events.error_event(f"{source} failed", source))
        bus.publish(events.count_event("photos", 1))
        bus.publish(events.count_event("prints", 1))
        capture = events.CaptureEvent("a.jpg", "2026-12-07T05:00:00.000001+00:00", "manual")
        bus.publish(capture)
        bus.publish(events.StateEvent(False, 0.8, "cooldown", 4.5, 1))
        listener.wait_for("smilebooth/edge/state", where=lambda s: s["phase"] == "cooldown")
        listener.wait_for("smilebooth/edge/error", where=lambda e: e["source"] == "martians")
        messages = list(listener.messages)
    finally:
        listener.close()
        publisher.stop()
        broker.stop()
    seen = check_every_template(messages)
    assert seen["homeassistant/event/edge/error/config"] == len(events.ERROR_SOURCES) + 1
    errors = [json.loads(p) for t, p, _ in messages if t == "smilebooth/edge/error"]
    assert errors[-1]["event_type"] == "other" and errors[-1]["message"] == "martians failed"
    counts = [json.loads(p) for t, p, _ in messages if t == "smilebooth/edge/counts"]
    assert counts[0] == dict.fromkeys(COUNTS, 0)  # every name from the first message
    assert counts[-1] == {"photos": 1, "prints": 1}


def test_the_first_messages_of_a_cold_start_render_before_the_loop_reports(tmp_path) -> None:
    """A publisher with no event yet: what HA gets at a cold start is complete."""
    broker = Broker(tmp_path).start()
    listener = subscribed_listener(broker.port)
    config = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, device_id="cold")
    publisher = MqttPublisher(
        config, events.EventBus(), Controls(True, 0.7), reconnect_delay=(1, 1)
    )
    publisher.start()
    try:
        listener.wait_for("smilebooth/cold/counts")
        messages = list(listener.messages)
    finally:
        listener.close()
        publisher.stop()
        broker.stop()
    seen = check_every_template(messages)
    assert seen["homeassistant/sensor/cold/phase/config"] == 1
    assert seen["homeassistant/binary_sensor/cold/faces_present/config"] == 0  # no score yet


def test_a_missing_key_is_an_error_in_this_engine_as_in_ha() -> None:
    """The checker is strict: the old faces_present template on the old first state fails."""
    with pytest.raises(Exception, match="faces"):
        ha_templates.render("{{ value_json.faces | int }}", b'{"armed": true}')
    with pytest.raises(AssertionError, match="not in"):  # HA: invalid option
        ha_templates.check_state("sensor", {"device_class": "enum", "options": ["a"]}, "")
    with pytest.raises(ValueError):  # HA: a non-numeric state for a measurement
        ha_templates.check_state("sensor", {"state_class": "measurement"}, "")
    configs = discovery_messages(Topics("smilebooth", "x"), Announce())
    phase = json.loads(configs["homeassistant/sensor/x/phase/config"])
    with pytest.raises(Exception, match="phase"):
        ha_templates.check_message("sensor", phase, phase["state_topic"], b'{"armed": true}')
