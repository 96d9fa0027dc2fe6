"""The topic tree, built in one place: <prefix>/<device_id>/<leaf>."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS = ("armed", "threshold", "trigger")


@dataclass(frozen=True)
class Topics:
    prefix: str
    device_id: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.device_id}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"  # retained online / offline (last will)

    @property
    def score(self) -> str:
        return f"{self.base}/score"

    @property
    def capture(self) -> str:
        return f"{self.base}/capture"

    @property
    def photo_taken(self) -> str:
        return f"{self.base}/photo_taken"  # the capture again, not retained: the HA trigger

    @property
    def image(self) -> str:
        return f"{self.base}/image"  # JPEG bytes of the last photo, only with include_image

    @property
    def counts(self) -> str:
        return f"{self.base}/counts"  # retained JSON: {"photos": 3, ...}

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def error(self) -> str:
        return f"{self.base}/error"

    @property
    def command_json(self) -> str:
        return f"{self.base}/set"  # one JSON object: {"armed": ..., "threshold": ...}

    def command(self, name: str) -> str:
        return f"{self.base}/set/{name}"

    @property
    def command_filters(self) -> list[str]:
        return [self.command_json, f"{self.base}/set/+"]

    def command_name(self, topic: str) -> str | None:
        """'armed' for <base>/set/armed, '' for <base>/set, None for anything else."""
        if topic == self.command_json:
            return ""
        prefix = f"{self.command_json}/"
        return topic[len(prefix) :] if topic.startswith(prefix) else None
