"""What a real mosquitto holds for Home Assistant through a booth's life: a cold start, a
broker restart without persistence (every retained message lost) and a restart with
discovery turned off. After each, every retained message is checked, as HA (or anything)
subscribing then would receive them."""

from __future__ import annotations

import json

import pytest

from edge.io import events
from edge.io.mqtt.discovery import COUNTS
from tests.mosquitto import Broker
from tests.test_mqtt import make_publisher, retained_now, subscribed_listener

pytestmark = pytest.mark.broker
BASE = "smilebooth/booth1"
STATE_KEYS = {"armed", "threshold", "phase", "fps", "faces", "disk_free_gb"}
CONFIGS = {  # every discovery config topic of the default options
    f"homeassistant/{kind}/booth1/{name}/config"
    for kind, name in [
        ("sensor", "score"),
        ("sensor", "faces"),
        ("sensor", "phase"),
        ("sensor", "waiting_for"),
        ("sensor", "last_capture"),
        ("sensor", "fps"),
        ("sensor", "disk_free"),
        ("binary_sensor", "smiling"),
        ("binary_sensor", "faces_present"),
        ("number", "threshold"),
        ("switch", "armed"),
        ("button", "trigger"),
        ("event", "error"),
        ("device_automation", "photo_taken"),
        *[("sensor", count) for count in COUNTS],
    ]
}
CAPTURE = events.CaptureEvent("20261207-050000-000.jpg", "2026-12-07T05:00:00+00:00", "score")


def check_booth_retained(retained: dict[str, bytes], state: dict, counts: dict) -> None:
    """Exactly what the booth keeps on the broker: availability, the complete state, the
    counts, the last capture and every non-empty discovery config; nothing else."""
    booth = {topic for topic in retained if topic.startswith(BASE)}
    assert booth == {f"{BASE}/{leaf}" for leaf in ("availability", "state", "counts", "capture")}
    assert retained[f"{BASE}/availability"] == b"online"
    got = json.loads(retained[f"{BASE}/state"])
    assert set(got) >= STATE_KEYS and {k: got[k] for k in state} == state, got
    assert json.loads(retained[f"{BASE}/counts"]) == counts
    assert json.loads(retained[f"{BASE}/capture"])["file"] == CAPTURE.file
    configs = {topic for topic in retained if topic.startswith("homeassistant/")}
    assert configs == CONFIGS
    assert all(json.loads(retained[topic])["device"] for topic in configs)


def test_cold_start_broker_restart_and_discovery_off(tmp_path) -> None:
    broker = Broker(tmp_path).start()
    try:
        lifecycle(broker)
    finally:
        broker.stop()  # also when a step fails: no broker outlives the test


def lifecycle(broker: Broker) -> None:
    tmp_path = broker.log.parent
    ha = subscribed_listener(broker.port)  # HA: subscribed before the booth starts
    publisher, bus, _ = make_publisher(broker.port, disk_path=str(tmp_path / "photos"))
    try:
        # 1. cold start: the very first state message is complete (the loop has not spoken)
        ha.wait_for(f"{BASE}/counts")
        first = json.loads(next(p for t, p, _ in ha.messages if t == f"{BASE}/state"))
        assert set(first) >= STATE_KEYS, first
        assert (first["phase"], first["faces"], first["armed"]) == ("ready", 0, True)
        assert first["disk_free_gb"] > 0  # the folder's parent: it is not made yet
        bus.publish(events.StateEvent(True, 0.7, "cooldown", 12.5, 3))
        bus.publish(CAPTURE)
        bus.publish(events.count_event("photos", 1))
        ha.wait_for(f"{BASE}/counts", where=lambda c: c["photos"] == 1)
        ha.wait_for(f"{BASE}/state", where=lambda s: s["phase"] == "cooldown")
        state = {"phase": "cooldown", "fps": 12.5, "faces": 3, "threshold": 0.7}
        check_booth_retained(retained_now(broker.port), state, {"photos": 1})

        # 2. the broker restarts without persistence: the booth puts everything back
        broker.kill()
        broker.start()  # `persistence false` (tests/mosquitto.py): every retained message lost
        later = subscribed_listener(broker.port)
        later.wait_for(f"{BASE}/counts", timeout=15)
        check_booth_retained(retained_now(broker.port), state, {"photos": 1})
        assert not [m for m in later.messages if m[0] == f"{BASE}/photo_taken"]  # no re-fire
        later.close()
    finally:
        publisher.stop()

    # 3. restarted with discovery off: every config emptied, HA drops the device
    ha = subscribed_listener(broker.port)
    publisher, _, _ = make_publisher(broker.port, discovery_enabled=False)
    try:
        assert publisher.connected.wait(10)
        for topic in CONFIGS:
            ha.wait_for(topic, b"")
        emptied = {t for t, p, _ in ha.messages if t in CONFIGS and p == b""}
        assert emptied == CONFIGS
        retained = retained_now(broker.port)
        assert not [topic for topic in retained if topic.startswith("homeassistant/")]
        assert set(json.loads(retained[f"{BASE}/state"])) >= STATE_KEYS
        # The broker still holds the capture (this booth process has taken none yet).
        assert json.loads(retained[f"{BASE}/capture"])["file"] == CAPTURE.file
    finally:
        ha.close()
        publisher.stop()


def test_smilebooth_run_links_the_page_and_holds_the_slider_to_the_rule(tmp_path) -> None:
    """What `smilebooth run` gives the publisher (edge.cli.run.start_publisher): the page's
    address for the device card, the photo folder for disk free, the threshold's floor."""
    import dataclasses

    from edge.cli.run import start_publisher
    from edge.config.loading import default_config
    from edge.decide.control import Controls
    from edge.io.mqtt.discovery import page_url
    from tests.test_mqtt import Listener

    broker = Broker(tmp_path).start()
    base = default_config()
    config = dataclasses.replace(
        base,
        mqtt=dataclasses.replace(
            base.mqtt, enabled=True, host="127.0.0.1", port=broker.port, device_id="wired"
        ),
        web=dataclasses.replace(base.web, enabled=True, host="0.0.0.0", port=8099),
        capture=dataclasses.replace(base.capture, folder=str(tmp_path / "photos")),
    )
    trigger = config.trigger
    controls = Controls(trigger.armed, trigger.threshold, trigger.rearm_threshold)
    listener = Listener(broker.port)
    publisher = start_publisher(config, events.EventBus(), controls)
    try:
        number = json.loads(listener.wait_for("homeassistant/number/wired/threshold/config"))
        state = json.loads(listener.wait_for("smilebooth/wired/state"))
    finally:
        listener.close()
        publisher.stop()
        broker.stop()
    assert number["min"] == trigger.rearm_threshold
    assert number["device"]["configuration_url"] == page_url("0.0.0.0", 8099)
    assert state["disk_free_gb"] > 0


def test_a_booth_restarted_on_an_empty_broker_announces_its_last_photo(tmp_path) -> None:
    """A broker restarted without persistence and then the booth itself: the new process
    has taken no photo yet, so its last capture comes from the newest sidecar on disk,
    retained again (and no photo_taken: nothing new was taken)."""
    import dataclasses

    from edge.cli.run import start_publisher
    from edge.config.loading import default_config
    from edge.decide.control import Controls

    photos = tmp_path / "photos"
    photos.mkdir()
    for name, score in (("20261207-050000-000", 0.8), ("20261207-060000-000", 0.9)):
        (photos / f"{name}.jpg").write_bytes(b"\xff\xd8\xff\xd9")
        sidecar = {"time": f"2026-12-07T{name[9:11]}:00:00+00:00", "reason": "score"}
        sidecar |= {"score": score, "smoothed": {}, "faces": []}
        (photos / f"{name}.json").write_text(json.dumps(sidecar))
    (photos / "20261207-070000-000.json").write_text("{torn")  # a sidecar without a photo
    broker = Broker(tmp_path).start()
    base = default_config()
    config = dataclasses.replace(
        base,
        mqtt=dataclasses.replace(
            base.mqtt, enabled=True, host="127.0.0.1", port=broker.port, device_id="booth1"
        ),
        capture=dataclasses.replace(base.capture, folder=str(photos)),
    )
    listener = subscribed_listener(broker.port)
    publisher = start_publisher(config, events.EventBus(), Controls(True, 0.7, 0.55), photos)
    try:
        listener.wait_for(f"{BASE}/counts", timeout=15)
        retained = retained_now(broker.port)
        capture = json.loads(retained[f"{BASE}/capture"])
        assert (capture["file"], capture["score"]) == ("20261207-060000-000.jpg", 0.9)
        assert not [m for m in listener.messages if m[0] == f"{BASE}/photo_taken"]
    finally:
        listener.close()
        publisher.stop()
        broker.stop()
