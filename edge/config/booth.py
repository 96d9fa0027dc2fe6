"""Config sections of the booth's hardware: the printer (CUPS) and the button and lights (GPIO).

Both are off by default: a booth without them is the camera, the page and MQTT.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PrintingConfig:
    """Printing photos through CUPS (`lp`, `lpstat`; Debian: apt install cups)."""

    enabled: bool = field(default=False, metadata={"doc": "print through CUPS"})
    printer: str = field(
        default="",
        metadata={"doc": "the CUPS queue (`lpstat -p` lists them); empty: CUPS's default"},
    )
    server: str = field(
        default="",
        metadata={"doc": "the CUPS server (host:port or a socket path); empty: the system's"},
    )
    auto: bool = field(default=False, metadata={"doc": "print every photo as it is saved"})
    max_copies: int = field(
        default=1,
        metadata={
            "doc": "copies of one photo guests (and auto) may print; the operator is not limited",
            "min": 0,
            "max": 100,
        },
    )
    paper: str = field(
        default="",
        metadata={
            "doc": "paper size: empty asks the printer (its default PageSize); else A4, A5, A6, "
            "Letter, 4x6 (inches), 100x148mm, w288h432 (points)",
        },
    )
    dpi: int = field(
        default=300, metadata={"doc": "resolution of the laid-out page", "min": 50, "max": 1200}
    )
    margin_mm: float = field(
        default=5.0, metadata={"doc": "white border around the photo", "min": 0, "max": 50}
    )
    overlay: str = field(
        default="",
        metadata={
            "doc": "a PNG drawn over the whole page (its transparent parts show the photo): "
            "branding, a frame; empty: none",
        },
    )
    caption: str = field(
        default="{event}  {date}",
        metadata={
            "doc": "the line under the photo: {event} and {date} are filled in; empty: none "
            "(ASCII letters print; others show as '?')",
        },
    )
    date_format: str = field(
        default="%d %b %Y", metadata={"doc": "strftime format of {date} in the caption"}
    )
    job_timeout_s: float = field(
        default=120.0,
        metadata={"doc": "a job not printed after this is reported", "min": 1, "max": 3600},
    )
    queue: int = field(
        default=8, metadata={"doc": "prints waiting at most; more are refused", "min": 1}
    )

    def validate(self) -> None:
        if self.caption:
            try:
                self.caption.format(event="e", date="d")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"caption {self.caption!r}: only {{event}} and {{date}} can be filled in "
                    f"({exc})"
                ) from None


@dataclass(frozen=True)
class GpioConfig:
    """A big button and status lights on the Pi's GPIO (gpiozero; pins are BCM numbers)."""

    enabled: bool = field(default=False, metadata={"doc": "use the button and lights"})
    button_pin: int = field(
        default=17,
        metadata={
            "doc": "the button, between this pin and ground (press: a photo now)",
            "min": 0,
            "max": 27,
        },
    )
    long_press_s: float = field(
        default=2.0,
        metadata={"doc": "holding the button this long arms or pauses", "min": 0.05, "max": 30},
    )
    ready_pin: int = field(
        default=-1,
        metadata={"doc": "light on while armed and waiting; -1: none", "min": -1, "max": 27},
    )
    holding_pin: int = field(
        default=-1,
        metadata={"doc": "light on while a smile is held; -1: none", "min": -1, "max": 27},
    )
    flash_pin: int = field(
        default=-1,
        metadata={
            "doc": "light (or flash) on while the photo is taken; -1: none",
            "min": -1,
            "max": 27,
        },
    )

    def validate(self) -> None:
        pins = [p for p in (self.button_pin, self.ready_pin, self.holding_pin, self.flash_pin)]
        used = [p for p in pins if p >= 0]
        if len(used) != len(set(used)):
            raise ValueError(
                f"pins {pins}: each pin can do one job (button, ready, holding, flash)"
            )
