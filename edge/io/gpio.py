"""The booth's big button and status lights, through gpiozero (Raspberry Pi GPIO).

The button only asks, as the page and MQTT do: a press requests one photo now
(`Controls.request_trigger("button")`, so the photo and the counters say "button"), a long
press toggles armed. The lights follow the loop's STATE events on the bus (sent at once
on every phase change): ready (armed, waiting for smiles), holding (a smile is being
held), flash (the burst: the photo is being taken). gpiozero calls back on its own
threads and the lights run on one of their own: the frame loop never waits on a pin.
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any

from edge.config.booth import GpioConfig
from edge.decide.control import Controls
from edge.io import events

log = logging.getLogger(__name__)
READY_PHASES = ("ready", "rearm")  # armed and waiting (rearm: waiting for the smile to drop)


def lights_for(state: events.StateEvent) -> tuple[bool, bool, bool]:
    """(ready, holding, flash) for one STATE event."""
    ready = state.armed and state.phase in READY_PHASES
    return ready, state.phase == "holding", state.phase == "burst"


class BoothPanel:
    """The button and up to three lights; `pin_factory`: gpiozero's (a MockFactory in tests)."""

    def __init__(
        self,
        config: GpioConfig,
        controls: Controls,
        bus: events.EventBus,
        pin_factory: Any = None,
    ) -> None:
        try:
            from gpiozero import LED, Button
            from gpiozero.exc import GPIOZeroError, PinFactoryFallback
        except ImportError as exc:
            raise ImportError(
                f"gpio.enabled needs gpiozero: pip install 'smilebooth[pi]' ({exc})"
            ) from exc
        self.config = config
        self.controls = controls
        self.bus = bus
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._states: events.Subscription | None = None
        try:
            with warnings.catch_warnings():  # each pin library tried: the error says enough
                warnings.simplefilter("ignore", PinFactoryFallback)
                self.button = Button(
                    config.button_pin,
                    pull_up=True,  # wired between the pin and ground
                    bounce_time=0.02,
                    hold_time=config.long_press_s,
                    pin_factory=pin_factory,
                )
            self.lights = tuple(
                LED(pin, pin_factory=pin_factory) if pin >= 0 else None
                for pin in (config.ready_pin, config.holding_pin, config.flash_pin)
            )
        except GPIOZeroError as exc:
            raise RuntimeError(
                f"no usable GPIO here ({type(exc).__name__}: {exc}); on a Jetson see "
                "docs/event-setup.md, or set gpio.enabled: false"
            ) from exc
        self.button.when_pressed = self._pressed
        self.button.when_held = self._long_press
        self.button.when_released = self._released

    def start(self) -> None:
        """Follow the loop's state with the lights."""
        self._states = self.bus.subscribe({events.STATE}, maxsize=32)
        self._thread = threading.Thread(target=self._follow, name="gpio-lights", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._states is not None:
            self.bus.unsubscribe(self._states)
        if self._thread is not None:
            self._thread.join(2.0)
        for device in (self.button, *self.lights):
            if device is not None:
                device.close()

    # -- the button (gpiozero's threads) -------------------------------------------------

    def _pressed(self) -> None:
        self._held = False

    def _long_press(self) -> None:
        self._held = True
        armed = self.controls.toggle_armed()
        log.info("button held: %s", "armed" if armed else "paused")

    def _released(self) -> None:
        if self._held:  # the end of a long press is not a photo
            return
        log.info("button: a photo now")
        self.controls.request_trigger("button")

    # -- the lights ------------------------------------------------------------------------

    def _follow(self) -> None:
        assert self._states is not None
        while not self._stop.is_set():
            event = self._states.get(timeout=0.5)
            if event is None or not isinstance(event.payload, events.StateEvent):
                continue
            for light, on in zip(self.lights, lights_for(event.payload), strict=True):
                if light is not None and bool(light.value) != on:
                    light.value = on
