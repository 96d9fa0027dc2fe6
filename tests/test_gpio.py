"""The button and the lights on gpiozero's own mock pins, driving a real loop.

The pins are gpiozero's MockFactory (the one fake: there is no GPIO here); the loop, its
frames (a real video's), the trigger, the photo store and the bus are the real ones.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path

import pytest

from edge.compose import build_loop
from edge.config import AppConfig
from edge.config.booth import GpioConfig
from edge.config.decide import TriggerConfig
from edge.config.output import CaptureConfig
from edge.config.source import SourceConfig
from edge.io import events
from edge.io.gpio import BoothPanel, lights_for
from edge.io.sources.images_source import ImageFolderSource
from tests._loop_helpers import BOX_A, BOX_B, STAGE, ScriptedProcessor, write_frames

gpiozero_mock = pytest.importorskip("gpiozero.pins.mock", reason="gpiozero is not installed")

FPS = 40
BUTTON, READY, HOLDING, FLASH = 17, 22, 23, 24
GPIO = GpioConfig(
    enabled=True,
    button_pin=BUTTON,
    long_press_s=0.3,
    ready_pin=READY,
    holding_pin=HOLDING,
    flash_pin=FLASH,
)
TRIGGER = TriggerConfig(
    threshold=0.7, rearm_threshold=0.5, hold_s=0.25, min_faces=2, burst_s=0.2, cooldown_s=0.5
)


def smiles(n: int):
    """Smiling on calls 40-79 (a photo by score) and 200-259 (none: disarmed by then)."""
    weight = 0.95 if 40 <= n < 80 or 200 <= n < 260 else 0.2
    return [(BOX_A, weight, 2), (BOX_B, weight, 2)]


def first_on(pin) -> float:
    return next(s.timestamp for s in pin.states if s.state)


def test_press_is_one_photo_long_press_pauses_and_lights_follow(tmp_path: Path) -> None:
    write_frames(STAGE, tmp_path / "frames", 60, step=4)
    source = ImageFolderSource(
        SourceConfig(type="images", folder=str(tmp_path / "frames"), fps=FPS, repeat=5, width=320)
    )
    processor = ScriptedProcessor(smiles)
    config = AppConfig(
        trigger=TRIGGER, capture=CaptureConfig(folder=str(tmp_path / "photos")), gpio=GPIO
    )
    loop = build_loop(config, source=source, pipeline=processor)
    factory = gpiozero_mock.MockFactory()
    panel = BoothPanel(GPIO, loop.parts.controls, loop.parts.bus, pin_factory=factory)
    panel.start()
    button = factory.pin(BUTTON)
    states = loop.parts.bus.subscribe({events.STATE}, maxsize=1000)

    def guest() -> None:  # a guest at the button while the loop runs
        def at(call: int) -> None:
            while processor.calls < call and not loop.stop.is_set():
                time.sleep(0.005)

        at(120)
        button.drive_low()  # a short press: one photo
        time.sleep(0.05)
        button.drive_high()
        at(160)
        button.drive_low()  # a long press (0.3 s): pause
        time.sleep(0.6)
        button.drive_high()
        at(280)
        loop.stop.set()

    hand = threading.Thread(target=guest)
    hand.start()
    try:
        assert loop.run() == 0
    finally:
        hand.join(30)
        panel.close()
    photos = sorted((tmp_path / "photos").glob("*.jpg"))
    reasons = [json.loads(p.with_suffix(".json").read_text())["reason"] for p in photos]
    assert reasons == ["score", "button"]  # the press took one; the smile after the pause none
    assert loop.parts.controls.peek().armed is False
    counters = loop.parts.store.counters.snapshot()
    assert (counters["by_score"], counters["by_button"]) == (1, 1)
    ready, holding, flash = (factory.pin(p) for p in (READY, HOLDING, FLASH))
    # ready -> holding -> flash, in that order, each light on at some point...
    assert first_on(ready) < first_on(holding) < first_on(flash)
    # ...and each as the loop's phase said (the button's photo flashes too: two bursts).
    phases = []
    while (event := states.get(timeout=0)) is not None:
        phases.append(event.payload.phase)  # type: ignore[attr-defined]
    bursts = sum(1 for a, b in itertools.pairwise(phases) if b == "burst" != a)
    assert bursts == 2
    assert sum(1 for s in flash.states if s.state) == 2
    assert not ready.state  # paused: the ready light is off


def test_lights_for_each_phase() -> None:
    def state(armed: bool, phase: str) -> events.StateEvent:
        return events.StateEvent(armed, 0.7, phase, 20.0, 2)

    assert lights_for(state(True, "ready")) == (True, False, False)
    assert lights_for(state(True, "holding")) == (False, True, False)
    assert lights_for(state(True, "burst")) == (False, False, True)
    assert lights_for(state(False, "burst")) == (False, False, True)  # the button while paused
    assert lights_for(state(False, "ready")) == (False, False, False)
    assert lights_for(state(True, "cooldown")) == (False, False, False)


def test_gpio_pins_are_one_job_each() -> None:
    with pytest.raises(ValueError, match="each pin can do one job"):
        GpioConfig(enabled=True, button_pin=17, ready_pin=17).validate()
