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
    guests: bool = field(
        default=True,
        metadata={
            "doc": "serve the guest screen at /booth (mirror, countdown, review, slideshow) and "
            "the photos' share links /s/<token>; both open without the token"
        },
    )
    public_url: str = field(
        default="",
        metadata={
            "doc": "the booth's address in the share QR codes, e.g. http://192.168.4.1:8080; "
            "empty: the address the guest screen was opened on, else the LAN address found"
        },
    )
    booth_fps: float = field(
        default=30.0,
        metadata={
            "doc": "guest screen mirror frames per second, at most the loop's own rate "
            "(the camera's, where the device keeps up); lower it to save CPU on a Pi",
            "min": 0.5,
            "max": 30,
        },
    )
    review_s: float = field(
        default=10.0,
        metadata={"doc": "seconds the guest screen shows a new photo and its QR code", "min": 1},
    )
    idle_s: float = field(
        default=30.0,
        metadata={"doc": "seconds with nobody in view before the slideshow starts", "min": 1},
    )
    slideshow_photos: int = field(
        default=12,
        metadata={
            "doc": "newest photos the idle slideshow shows (0: no slideshow; anyone who opens "
            "/booth sees them)",
            "min": 0,
            "max": 200,
        },
    )

    def validate(self) -> None:
        if not self.host.strip() or any(c.isspace() for c in self.host):
            raise ValueError(f"host {self.host!r}: expected an address such as 127.0.0.1")
        url = self.public_url
        if url and (not url.startswith(("http://", "https://")) or any(c.isspace() for c in url)):
            raise ValueError(f"public_url {url!r}: expected http://ADDRESS:PORT, or empty")
