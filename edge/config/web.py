"""The `web` section of config.yaml. The token that guards actions is never read from it
(edge.io.secrets.read_token)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WebConfig:
    """The local web page (needs the `web` extra: pip install 'smilebooth[web]')."""

    enabled: bool = field(
        default=False,
        metadata={
            "doc": "serve the page (live view, state, controls, photos) from `smilebooth run`"
        },
    )
    host: str = field(
        default="127.0.0.1",
        metadata={"doc": "address to listen on; 0.0.0.0 to reach it from a phone on the Wi-Fi"},
    )
    port: int = field(default=8080, metadata={"doc": "TCP port", "min": 1, "max": 65535})
    token_file: str = field(
        default="",
        metadata={
            "doc": "file holding the token that actions (arm, threshold, take a photo, delete "
            "a photo) need; else "
            "$SMILEBOOTH_WEB_TOKEN or the systemd credential web_token. No token: no actions"
        },
    )
    protect_viewing: bool = field(
        default=False,
        metadata={"doc": "viewing (live view, state, photos, scoring a photo) needs the token too"},
    )
    live_fps: float = field(
        default=5.0,
        metadata={
            "doc": "live view frames per second while someone watches",
            "min": 0.5,
            "max": 30,
        },
    )
    max_upload_mb: float = field(
        default=12.0,
        metadata={"doc": "largest photo 'score a photo' accepts", "min": 0.1, "max": 100},
    )

    def validate(self) -> None:
        if not self.host.strip() or any(c.isspace() for c in self.host):
            raise ValueError(f"host {self.host!r}: expected an address such as 127.0.0.1")
