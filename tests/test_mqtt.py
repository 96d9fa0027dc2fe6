"""The MQTT feed against a real mosquitto broker: payloads, reconnects, queued captures,
discovery and remote commands."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest

from edge.config.mqtt import MqttConfig
from edge.decide.control import Controls, ControlState
from edge.io import events
from edge.io.mqtt.publisher import MqttPublisher, close_client
from tests.mosquitto import Broker

pytestmark = pytest.mark.broker


class Listener:
    """A real paho client that records every message under smilebooth/# and homeassistant/#."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._arrived = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="listener")
        self.client.on_connect = lambda c, *_: c.subscribe(
            [("smilebooth/#", 1), ("homeassistant/#", 1)]
        )
        self.client.on_message = self._record
        self.client.reconnect_delay_set(1, 1)
        self.client.connect_async("127.0.0.1", port)
        self.client.loop_start()

    def _record(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._arrived:
            self.messages.append((message.topic, message.payload, bool(message.retain)))
            self._arrived.notify_all()

    def wait_for(
        self,
        topic: str,
        payload: bytes | None = None,
        timeout: float = 10.0,
        where: Callable[[dict], bool] | None = None,
    ) -> bytes:
        """The first message on topic (with that payload, or whose JSON satisfies where)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for got_topic, got, _ in self.messages:
                    if got_topic != topic or (payload is not None and got != payload):
                        continue
                    if where is None or where(json.loads(got)):
                        return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {payload!r} on {topic} within {timeout} s")
                self._arrived.wait(left)

    def close(self) -> None:
        close_client(self.client)


def subscribed_listener(port: int) -> Listener:
    """A Listener whose subscription is in place: it has received its own probe, so every
    retained message (sent on subscribing) is in `messages` already."""
    listener = Listener(port)
    for _ in range(20):
        listener.client.publish("smilebooth/probe", b"1", qos=1)
        try:
            listener.wait_for("smilebooth/probe", timeout=0.5)
            return listener
        except AssertionError:
            continue
    listener.close()
    raise AssertionError("the listener never received its probe")


def retained_now(port: int) -> dict[str, bytes]:
    """Every retained message on the broker now (smilebooth/# and homeassistant/#)."""
    listener = subscribed_listener(port)
    listener.close()
    found = {topic: payload for topic, payload, retained in listener.messages if retained}
    return found


@pytest.fixture
def broker(tmp_path) -> Iterator[Broker]:
    running = Broker(tmp_path).start()
    yield running
    running.stop()


def make_publisher(
    port: int, disk_path: str | None = None, discovery_enabled: bool = True, **changes
) -> tuple[MqttPublisher, events.EventBus, Controls]:
    from edge.config.mqtt import DiscoveryConfig

    config = MqttConfig(
        enabled=True,
        host="127.0.0.1",
        port=port,
        device_id="booth1",
        score_interval_s=0.0,
        discovery=DiscoveryConfig(enabled=discovery_enabled),
        **changes,
    )
    bus, controls = events.EventBus(), Controls(armed=True, threshold=0.7)
    publisher = MqttPublisher(config, bus, controls, reconnect_delay=(1, 1), disk_path=disk_path)
    publisher.start()
    return publisher, bus, controls


def test_scores_and_availability_arrive_with_the_documented_payloads(broker) -> None:
    listener = Listener(broker.port)
    publisher, bus, _ = make_publisher(broker.port)
    try:
        listener.wait_for("smilebooth/booth1/availability", b"online")
        assert publisher.connected.wait(5)
        bus.publish(events.ScoreEvent(score=0.82, faces=3, average_smile=0.8, open_eye_ratio=0.9))
        score = json.loads(listener.wait_for("smilebooth/booth1/score"))
        assert score["score"] == 0.82 and score["faces"] == 3 and "time" in score
        state = json.loads(listener.wait_for("smilebooth/booth1/state"))
        assert state["armed"] is True and state["threshold"] == 0.7
    finally:
        publisher.stop()
    listener.wait_for("smilebooth/booth1/availability", b"offline")
    listener.close()


def test_a_capture_made_while_the_broker_is_down_arrives_after_it_returns(broker) -> None:
    publisher, bus, _ = make_publisher(broker.port)
    try:
        assert publisher.connected.wait(5)
        broker.kill()
        deadline = time.monotonic() + 10
        while publisher.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        bus.publish(events.CaptureEvent(file="20261124-120000-000.jpg", time="t", score=0.9))
        time.sleep(0.5)
        assert list(publisher.pending)  # queued, not lost
        broker.start()
        listener = Listener(broker.port)
        capture = json.loads(listener.wait_for("smilebooth/booth1/capture", timeout=15))
        assert capture["file"] == "20261124-120000-000.jpg"
        listener.close()
    finally:
        publisher.stop()


def test_broker_restarted_three_times_availability_is_reannounced(broker) -> None:
    publisher, bus, _ = make_publisher(broker.port)
    stop = threading.Event()

    def scores() -> None:  # the loop keeps publishing throughout
        while not stop.is_set():
            bus.publish(events.ScoreEvent(0.5, 1, 0.5, 1.0))
            time.sleep(0.02)

    feeder = threading.Thread(target=scores)
    feeder.start()
    try:
        assert publisher.connected.wait(5)
        for _ in range(3):
            broker.kill()
            time.sleep(0.3)
            broker.start()
            listener = Listener(broker.port)
            listener.wait_for("smilebooth/booth1/availability", b"online", timeout=15)
            listener.close()
        assert publisher.connects == 4
        assert feeder.is_alive()
    finally:
        stop.set()
        feeder.join()
        publisher.stop()


REQUIRED = {  # what HA's MQTT discovery schema of each component needs for what we use
    "sensor": {"name", "unique_id", "state_topic", "availability_topic", "device"},
    "binary_sensor": {"name", "unique_id", "state_topic", "payload_on", "payload_off", "device"},
    "number": {"name", "unique_id", "state_topic", "command_topic", "min", "max", "step", "device"},
    "device_automation": {"automation_type", "topic", "type", "subtype", "device"},
    "switch": {"name", "unique_id", "state_topic", "command_topic", "availability_topic", "device"},
    "button": {"name", "unique_id", "command_topic", "availability_topic", "device"},
    "event": {"name", "unique_id", "state_topic", "event_types", "availability_topic", "device"},
}


def retained_configs(port: int, last: str) -> dict[str, bytes]:
    """Every retained homeassistant/ message, as a client subscribing now receives them."""
    first = Listener(port)  # once it has seen the last config, all are stored
    first.wait_for(last)
    first.close()
    listener = Listener(port)  # subscribes after: only retained messages reach it
    listener.wait_for(last)
    time.sleep(0.3)
    configs = {}
    for topic, payload, retained in listener.messages:
        if topic.startswith("homeassistant/"):
            assert retained, topic
            configs[topic] = payload
    listener.close()
    return configs


def test_discovery_configs_are_retained_valid_json_with_the_fields_ha_needs(broker) -> None:
    from importlib.metadata import version

    publisher, _, _ = make_publisher(broker.port)
    try:
        assert publisher.connected.wait(5)
        raw = retained_configs(
            broker.port, "homeassistant/device_automation/booth1/photo_taken/config"
        )
    finally:
        publisher.stop()
    assert "homeassistant/image/booth1/last_photo/config" not in raw  # off by default
    configs = {topic: json.loads(payload) for topic, payload in raw.items()}
    names = sorted("/".join(topic.split("/")[1:4:2]) for topic in configs)
    assert names == [
        "binary_sensor/faces_present",
        "binary_sensor/smiling",
        "button/trigger",
        "device_automation/photo_taken",
        "event/error",
        "number/threshold",
        "sensor/disk_free",
        "sensor/faces",
        "sensor/fps",
        "sensor/last_capture",
        "sensor/phase",
        "sensor/photos",
        "sensor/score",
        "sensor/waiting_for",
        "switch/armed",
    ]
    for topic, config in configs.items():
        component = topic.split("/")[1]
        assert REQUIRED[component] <= set(config), topic
        assert config["device"]["identifiers"] == ["smilebooth_booth1"]
        assert config["device"]["sw_version"] == version("smilebooth")
        assert "object_id" not in config  # deprecated by HA 2025.10, ignored from 2026.4
        if component != "device_automation":  # its schema has no availability
            assert config["availability_topic"] == "smilebooth/booth1/availability"
    unique_ids = [c["unique_id"] for c in configs.values() if "unique_id" in c]
    assert len(set(unique_ids)) == len(unique_ids) == 14
    number = configs["homeassistant/number/booth1/threshold/config"]
    assert number["command_topic"] == "smilebooth/booth1/set/threshold"
    assert (number["min"], number["max"]) == (0.0, 1.0)
    phase = configs["homeassistant/sensor/booth1/phase/config"]
    assert phase["device_class"] == "enum"
    assert phase["options"] == ["ready", "holding", "burst", "cooldown", "rearm"]
    faces = configs["homeassistant/sensor/booth1/faces/config"]
    assert faces["json_attributes_topic"] == "smilebooth/booth1/score"
    trigger = configs["homeassistant/device_automation/booth1/photo_taken/config"]
    assert trigger["automation_type"] == "trigger"
    assert trigger["topic"] == "smilebooth/booth1/photo_taken"
    # HA's own trigger type: the automation editor shows '"shutter" pressed'
    assert (trigger["type"], trigger["subtype"]) == ("button_short_press", "shutter")
    photos = configs["homeassistant/sensor/booth1/photos/config"]
    assert photos["state_class"] == "total_increasing"
    assert configs["homeassistant/sensor/booth1/last_capture/config"]["device_class"] == (
        "timestamp"
    )
    for name in ("fps", "disk_free"):
        config = configs[f"homeassistant/sensor/booth1/{name}/config"]
        assert config["entity_category"] == "diagnostic"
    assert configs["homeassistant/sensor/booth1/score/config"]["suggested_display_precision"] == 2
    assert "configuration_url" not in faces["device"]  # no page given


def test_an_entity_turned_off_gets_an_empty_retained_config_and_disappears(broker) -> None:
    """include_image on, then off: HA (subscribed) receives the empty config and removes
    the entity; the broker drops the retained config, so nothing brings it back later."""
    topic = "homeassistant/image/booth1/last_photo/config"
    publisher, _, _ = make_publisher(broker.port, include_image=True)
    assert publisher.connected.wait(5)
    ha = Listener(broker.port)
    assert json.loads(ha.wait_for(topic))["image_topic"] == "smilebooth/booth1/image"
    publisher.stop()
    publisher, _, _ = make_publisher(broker.port)  # restarted with include_image: false
    try:
        assert publisher.connected.wait(5)
        assert ha.wait_for(topic, b"") == b""
        later = Listener(broker.port)
        later.wait_for("homeassistant/device_automation/booth1/photo_taken/config")
        time.sleep(0.3)
        assert not [m for m in later.messages if m[0] == topic]
        later.close()
    finally:
        ha.close()
        publisher.stop()


def test_last_capture_is_retained_and_a_photo_fires_the_trigger_topic(broker) -> None:
    publisher, bus, _ = make_publisher(broker.port)
    try:
        assert publisher.connected.wait(5)
        bus.publish(events.CaptureEvent(file="a.jpg", time="t", score=0.9))
        watcher = Listener(broker.port)
        watcher.wait_for("smilebooth/booth1/capture")
        watcher.close()
        later = Listener(broker.port)  # like HA after a restart: only retained messages
        assert json.loads(later.wait_for("smilebooth/booth1/capture"))["file"] == "a.jpg"
        time.sleep(0.3)
        assert not [m for m in later.messages if m[0] == "smilebooth/booth1/photo_taken"]
        later.close()
        live = Listener(broker.port)
        live.wait_for("smilebooth/booth1/availability")
        bus.publish(events.CaptureEvent(file="b.jpg", time="t", score=0.9))
        taken = live.wait_for("smilebooth/booth1/photo_taken")
        live.close()
    finally:
        publisher.stop()
    assert json.loads(taken)["file"] == "b.jpg"


def test_with_include_image_the_photo_itself_is_published(broker) -> None:
    from edge.io.mqtt.discovery import Announce, discovery_messages
    from edge.io.mqtt.topics import Topics

    photo = b"\xff\xd8 not really a jpeg \xff\xd9"
    config = MqttConfig(
        enabled=True, host="127.0.0.1", port=broker.port, device_id="pics", include_image=True
    )
    bus = events.EventBus()
    publisher = MqttPublisher(config, bus, Controls(True, 0.7), reconnect_delay=(1, 1))
    publisher.start()
    listener = Listener(broker.port)
    try:
        assert publisher.connected.wait(5)
        listener.wait_for("smilebooth/pics/availability", b"online")
        name = "20261124-120000-000.jpg"  # no such file: the event carries the photo
        bus.publish(events.CaptureEvent(file=name, time="t", score=0.9, photo=photo))
        capture = json.loads(listener.wait_for("smilebooth/pics/capture"))
        assert (capture["file"], capture["time"], capture["score"]) == (name, "t", 0.9)
        assert "photo" not in capture
        assert listener.wait_for("smilebooth/pics/image") == photo
        image = json.loads(listener.wait_for("homeassistant/image/pics/last_photo/config"))
        assert image["image_topic"] == "smilebooth/pics/image"
    finally:
        listener.close()
        publisher.stop()
    without = discovery_messages(Topics("smilebooth", "pics"), Announce())
    assert without["homeassistant/image/pics/last_photo/config"] == ""  # off: removed


def test_remote_commands_change_state_and_bad_ones_are_rejected(broker) -> None:
    publisher, _, controls = make_publisher(broker.port)
    listener = Listener(broker.port)
    try:
        assert publisher.connected.wait(5)
        listener.wait_for("smilebooth/booth1/availability", b"online")  # listener subscribed
        listener.client.publish("smilebooth/booth1/set/threshold", "0.55", qos=1)
        listener.wait_for("smilebooth/booth1/state", where=lambda s: s["threshold"] == 0.55)
        listener.client.publish("smilebooth/booth1/set/armed", "OFF", qos=1)
        listener.client.publish("smilebooth/booth1/set/trigger", "PRESS", qos=1)
        # Both commands, in order: waiting for the first alone raced the second under load.
        expected = ControlState(False, 0.55, True)
        deadline = time.monotonic() + 5
        while controls.peek() != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert controls.peek() == expected
        listener.client.publish("smilebooth/booth1/set/threshold", "1.7", qos=1)
        error = json.loads(listener.wait_for("smilebooth/booth1/error", timeout=5))
        assert "threshold" in error["message"]
        assert controls.peek().threshold == 0.55  # unchanged
    finally:
        listener.close()
        publisher.stop()


def test_json_set_applies_all_or_nothing_over_the_broker(broker) -> None:
    publisher, _, controls = make_publisher(broker.port)
    listener = Listener(broker.port)
    try:
        assert publisher.connected.wait(5)
        listener.wait_for("smilebooth/booth1/availability", b"online")
        listener.client.publish("smilebooth/booth1/set", '{"armed": "OFF", "threshold": 0.4}')
        listener.wait_for(
            "smilebooth/booth1/state", where=lambda s: s["threshold"] == 0.4 and not s["armed"]
        )
        listener.client.publish("smilebooth/booth1/set", '{"armed": true, "threshold": 2}')
        listener.client.publish("smilebooth/booth1/set/armed", "ON" + " " * 300)
        errors = [
            json.loads(listener.wait_for("smilebooth/booth1/error", where=match, timeout=5))
            for match in (
                lambda e: "threshold" in e["message"],
                lambda e: "bytes" in e["message"],
            )
        ]
        assert errors[1]["topic"] == "smilebooth/booth1/set/armed"
        assert controls.peek().armed is False and controls.peek().threshold == 0.4  # unchanged
    finally:
        listener.close()
        publisher.stop()


def test_a_stopped_publisher_leaves_no_open_descriptors(broker) -> None:
    """paho frees its sockets only when a client is collected; stop() must free them now."""
    open_descriptors = lambda: len(os.listdir("/proc/self/fd"))  # noqa: E731
    gc.disable()  # what the collector would reclaim must not hide a leak
    try:
        before = open_descriptors()
        for _ in range(5):
            publisher, _, _ = make_publisher(broker.port)
            assert publisher.connected.wait(5)
            publisher.stop()
        assert open_descriptors() == before
    finally:
        gc.enable()


def run_loop(config_text: str, tmp_path) -> subprocess.CompletedProcess[str]:
    from tests.paths import MEDIA, ROOT, require

    video = require(MEDIA / "video" / "stage_360p.mp4")
    config = tmp_path / "config.yaml"
    # --threshold 0.3 passes the file's check only with the re-arm threshold below it; the
    # stage's crowd is not all smiling, so the group score alone (rule: score) decides.
    config.write_text("trigger: {rearm_threshold: 0.25, rule: score}\n" + config_text)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "edge.cli",
            "run",
            "--config",
            str(config),
            "--source",
            str(video),
            "--captures",
            str(tmp_path / "photos"),
            "--threshold",
            "0.3",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_live_loop_feeds_a_real_broker_end_to_end(broker, tmp_path) -> None:
    listener = Listener(broker.port)
    result = run_loop(
        f"mqtt:\n  enabled: true\n  host: 127.0.0.1\n  port: {broker.port}\n"
        f"  device_id: stage\n  score_interval_s: 0.1\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    listener.wait_for("smilebooth/stage/availability", b"online")
    score = json.loads(listener.wait_for("smilebooth/stage/score"))
    assert {"score", "faces", "per_face"} <= set(score)
    capture = json.loads(listener.wait_for("smilebooth/stage/capture"))
    assert (tmp_path / "photos" / capture["file"]).is_file()
    listener.wait_for("smilebooth/stage/availability", b"offline")
    listener.close()


def make_tls_files(folder) -> dict[str, str]:
    """A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI."""
    import shutil

    if shutil.which("openssl") is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("openssl and mosquitto_passwd are needed for the TLS test")

    def run(*args: str) -> None:
        subprocess.run(args, cwd=folder, check=True, capture_output=True, timeout=60)

    run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=smilebooth test CA",
    )
    run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run(
        "openssl",
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    )
    run("mosquitto_passwd", "-b", "-c", "passwd", "booth", "s3cret")
    return {name: str(folder / name) for name in ("ca.crt", "server.crt", "server.key", "passwd")}


# paho 2.2 leaves the socket of a failed TLS handshake to the garbage collector (its
# _ssl_wrap_socket does not close it): a ResourceWarning, not ours to fix, from the
# host-name-mismatch client below.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_tls_with_a_test_ca_and_password_auth(tmp_path) -> None:
    from edge.config.mqtt import TlsConfig

    files = make_tls_files(tmp_path)
    broker = Broker(tmp_path)
    broker.config.write_text(
        f"user root\nlistener {broker.port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {files['passwd']}\ncafile {files['ca.crt']}\n"
        f"certfile {files['server.crt']}\nkeyfile {files['server.key']}\npersistence false\n"
    )
    broker.start()
    tls = TlsConfig(enabled=True, ca_file=files["ca.crt"])
    good = MqttConfig(
        enabled=True,
        host="127.0.0.1",
        port=broker.port,
        device_id="secure",
        username="booth",
        tls=tls,
    )
    bad = dataclasses.replace(good, device_id="intruder")
    bus = events.EventBus()
    publisher = MqttPublisher(
        good, bus, Controls(True, 0.7), password="s3cret", reconnect_delay=(1, 1)
    )
    wrong = MqttPublisher(
        bad, events.EventBus(), Controls(True, 0.7), password="guess", reconnect_delay=(1, 1)
    )
    # The certificate names 127.0.0.1 only: "localhost" fails the host name check, unless
    # tls.insecure says to skip it.
    by_name = dataclasses.replace(good, host="localhost", device_id="byname")
    insecure = TlsConfig(enabled=True, ca_file=files["ca.crt"], insecure=True)
    others = [
        MqttPublisher(
            config,
            events.EventBus(),
            Controls(True, 0.7),
            password="s3cret",
            reconnect_delay=(1, 1),
        )
        for config in (by_name, dataclasses.replace(by_name, device_id="lax", tls=insecure))
    ]
    for client in (publisher, wrong, *others):
        client.start()
    try:
        assert publisher.connected.wait(10), broker.log.read_text()[-1000:]
        assert others[1].connected.wait(10)  # insecure: host name not checked
        assert not wrong.connected.wait(2)  # refused: bad password
        assert wrong.connects == 0
        assert others[0].connects == 0  # refused by us: the name does not match
    finally:
        for client in (publisher, wrong, *others):
            client.stop()
        broker.stop()
        gc.collect()  # the leaked handshake sockets go now, inside this test's filters


def test_the_running_loop_survives_three_broker_restarts(broker, tmp_path) -> None:
    """`smilebooth run` on a 12 s replay while the broker dies and returns three times."""
    from tests.paths import ROOT, sample_replay_config

    mqtt = f"mqtt: {{enabled: true, host: 127.0.0.1, port: {broker.port}, device_id: survivor}}\n"
    config = sample_replay_config(tmp_path, fps=20, repeat=240, extra=mqtt)
    run = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(3):
            listener = Listener(broker.port)
            listener.wait_for("smilebooth/survivor/availability", b"online", timeout=20)
            listener.close()
            broker.kill()
            time.sleep(0.5)
            broker.start()
        listener = Listener(broker.port)
        listener.wait_for("smilebooth/survivor/availability", b"online", timeout=20)
        listener.close()
        assert run.poll() is None  # still running through all of it
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0, stderr[-2000:]
    assert "frames=240" in stderr


def test_a_killed_service_is_reported_offline_by_its_last_will(broker, tmp_path) -> None:
    import signal

    from tests.paths import ROOT, sample_replay_config

    mqtt_section = (
        f"mqtt: {{enabled: true, host: 127.0.0.1, port: {broker.port}, device_id: will}}\n"
    )
    config = sample_replay_config(tmp_path, fps=10, repeat=600, extra=mqtt_section)
    listener = Listener(broker.port)
    run = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        listener.wait_for("smilebooth/will/availability", b"online", timeout=30)
        run.send_signal(signal.SIGKILL)  # no clean stop: only the broker can tell
        run.wait(10)
        listener.wait_for("smilebooth/will/availability", b"offline", timeout=10)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        listener.close()


def test_a_face_or_smile_change_goes_out_within_a_second_not_at_the_interval(broker) -> None:
    """score_interval_s 5 s, events stamped as the loop would (here, stepped times): a
    changed face or smiling count is sent once a second has passed since the last message,
    an unchanged one waits for the interval (HA's Faces, Faces present and Someone smiling
    read these)."""
    config = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, device_id="pace")
    bus = events.EventBus()
    publisher = MqttPublisher(config, bus, Controls(True, 0.7), reconnect_delay=(1, 1))
    listener = subscribed_listener(broker.port)
    publisher.start()
    smiling, straight = {"smiling": True}, {"smiling": False}
    steps = [  # (time, faces, per_face): sent?
        (0.0, 1, (straight,)),  # the first: sent
        (0.5, 1, (straight,)),  # nothing new
        (0.7, 2, (straight, straight)),  # changed, but under a second since the last
        (1.1, 2, (straight, straight)),  # the change, now due
        (1.5, 2, (straight, smiling)),  # smiling changed, under a second
        (2.2, 2, (straight, smiling)),  # due
        (4.0, 2, (straight, smiling)),  # nothing new
        (7.3, 2, (straight, smiling)),  # the interval: sent
    ]
    try:
        assert publisher.connected.wait(5)
        for at, faces, per_face in steps:
            bus.publish(events.ScoreEvent(0.5, faces, 0.5, 1.0, 0.5, per_face), when=at)
        listener.wait_for("smilebooth/pace/score", where=lambda s: s["time"] == 7.3)
    finally:
        publisher.stop()
        listener.close()
    sent = [json.loads(p)["time"] for t, p, _ in listener.messages if t.endswith("pace/score")]
    assert sent == [0.0, 1.1, 2.2, 7.3]


def test_the_state_says_which_face_holds_the_shutter_back(broker, tmp_path) -> None:
    """The real loop on the stage video: two faces, the second never smiles; the retained
    state names it, and the score events say not ready; then it smiles and the state says so."""
    from edge.compose import build_loop
    from edge.config import AppConfig
    from edge.config.decide import TriggerConfig
    from edge.config.output import CaptureConfig
    from edge.config.source import SourceConfig
    from tests._loop_helpers import BOX_A, BOX_B, STAGE, ScriptedProcessor, video

    def script(n: int) -> list[tuple]:
        return [(BOX_A, 0.95, 2), (BOX_B, 0.1 if n < 60 else 0.95, 2)]

    config = AppConfig(
        source=SourceConfig(device=str(video(STAGE)), width=640),
        trigger=TriggerConfig(min_faces=2, hold_s=0.3),
        capture=CaptureConfig(folder=str(tmp_path / "photos")),
    )
    listener = Listener(broker.port)
    loop = build_loop(config, pipeline=ScriptedProcessor(script))
    controls = loop.parts.controls
    mqtt_config = MqttConfig(
        enabled=True, host="127.0.0.1", port=broker.port, device_id="booth1", score_interval_s=0
    )
    publisher = MqttPublisher(mqtt_config, loop.parts.bus, controls, reconnect_delay=(1, 1))
    publisher.start()
    try:
        assert publisher.connected.wait(5)
        assert loop.run() == 0
        held = json.loads(
            listener.wait_for(
                "smilebooth/booth1/state", where=lambda s: s.get("reason") == "not_smiling"
            )
        )
        assert held["ready"] is False and held["held_by"] == 2
        assert held["message"] == "Not everyone is smiling yet."
        score = json.loads(listener.wait_for("smilebooth/booth1/score"))
        assert score["ready"] is False
        listener.wait_for("smilebooth/booth1/score", where=lambda s: s["ready"] is True)
        listener.wait_for("smilebooth/booth1/capture")
    finally:
        publisher.stop()
        listener.close()
