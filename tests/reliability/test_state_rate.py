"""Item 10: the retained `state` topic is rate-limited; armed/threshold/phase go at once.

A real loop on a real video, a face count that flickers every frame, a real mosquitto and
a real subscriber counting the messages.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from edge.config.mqtt import MqttConfig
from edge.config.source import SourceConfig
from edge.io.mqtt.publisher import MqttPublisher
from edge.io.sources.opencv_source import OpenCVSource
from tests._loop_helpers import BOX_A, BOX_B, STAGE, ScriptedProcessor, video
from tests.mosquitto import Broker
from tests.test_loop import build
from tests.test_mqtt import Listener

pytestmark = pytest.mark.broker


def flicker(n: int) -> list:
    """A second face that comes and goes (tracks outlive 5 missed frames: every 8)."""
    return [(BOX_A, 0.2, 2)] if (n // 8) % 2 else [(BOX_A, 0.2, 2), (BOX_B, 0.2, 2)]


def test_flickering_face_count_does_not_flood_the_state_topic(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    shutil.copy(video(STAGE), clip)
    broker = Broker(tmp_path).start()
    listener = Listener(broker.port)
    source = OpenCVSource(SourceConfig(device=str(clip), width=320), live=False)
    processor = ScriptedProcessor(flicker)

    def slow_and_disarm() -> None:
        time.sleep(0.01)  # about the pace of a camera
        if processor.calls == 100:
            loop.parts.controls.disarm()  # a change that matters: out at once

    loop, _ = build(source, processor, tmp_path / "photos", on_frame=slow_and_disarm)
    config = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, device_id="rate")
    publisher = MqttPublisher(config, loop.parts.bus, loop.parts.controls, reconnect_delay=(1, 1))
    publisher.start()
    try:
        assert publisher.connected.wait(10)
        started = time.monotonic()
        runner = threading.Thread(target=loop.run)
        runner.start()
        runner.join(60)
        elapsed = time.monotonic() - started
        listener.wait_for("smilebooth/rate/state", where=lambda s: s.get("armed") is False)
    finally:
        publisher.stop()
        listener.close()
        broker.stop()
    states = [json.loads(p) for t, p, _ in listener.messages if t == "smilebooth/rate/state"]
    # 275 frames, the count changing on each: the old loop sent one state per frame
    assert loop.counters.frames == 275
    faces = [s["faces"] for s in states]
    assert faces[0] == 0  # the complete state sent on connecting, before the loop's first
    assert set(faces[1:]) == {1, 2}, faces  # the count did change, and was published
    assert len(states) <= elapsed / 1.0 + 6, (len(states), elapsed)
