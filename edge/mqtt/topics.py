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

    def __getattr__(self, leaf: str) -> str:
        if leaf in ("availability", "score", "capture", "state", "error"):
            return f"{self.base}/{leaf}"
        raise AttributeError(leaf)

    def command(self, name: str) -> str:
        return f"{self.base}/set/{name}"

    @property
    def command_filter(self) -> str:
        return f"{self.base}/set/+"

    def command_name(self, topic: str) -> str | None:
        prefix = f"{self.base}/set/"
        return topic[len(prefix) :] if topic.startswith(prefix) else None
