"""Item 6: a TLS failure says why (certificate, host name), not "unreachable"."""

from __future__ import annotations

import dataclasses
import gc
import logging
import time

import pytest

from edge.config.mqtt import MqttConfig, TlsConfig
from edge.decide.control import Controls
from edge.io import events
from edge.io.mqtt.publisher import MqttPublisher
from tests.mosquitto import Broker
from tests.test_mqtt import make_tls_files

pytestmark = pytest.mark.broker


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_tls_failures_are_logged_with_the_certificate_reason(tmp_path, caplog) -> None:
    (tmp_path / "server").mkdir()
    (tmp_path / "other").mkdir()
    server, other = make_tls_files(tmp_path / "server"), make_tls_files(tmp_path / "other")
    broker = Broker(tmp_path)
    broker.config.write_text(
        f"user root\nlistener {broker.port} 127.0.0.1\nallow_anonymous true\n"
        f"cafile {server['ca.crt']}\ncertfile {server['server.crt']}\n"
        f"keyfile {server['server.key']}\npersistence false\n"
    )
    broker.start()
    good = MqttConfig(
        enabled=True,
        host="127.0.0.1",
        port=broker.port,
        device_id="tls",
        tls=TlsConfig(enabled=True, ca_file=other["ca.crt"]),  # not the CA that signed it
    )
    by_name = dataclasses.replace(
        good, host="localhost", tls=TlsConfig(enabled=True, ca_file=server["ca.crt"])
    )
    caplog.set_level(logging.WARNING, logger="edge.io.mqtt.publisher")
    publishers = [
        MqttPublisher(config, events.EventBus(), Controls(True, 0.7), reconnect_delay=(1, 1))
        for config in (good, by_name)
    ]
    for publisher in publishers:
        publisher.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and caplog.text.count("TLS certificate rejected") < 2:
            time.sleep(0.1)
    finally:
        for publisher in publishers:
            publisher.stop()
        broker.stop()
        gc.collect()
    text = caplog.text
    assert "127.0.0.1:" in text and "certificate chain" in text, text  # old: "unreachable"
    assert "Hostname mismatch, certificate is not valid for 'localhost'" in text, text
