"""The `mqtt` section of config.yaml. Secrets are never read from it (edge.io.secrets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class TlsConfig:
    """TLS to the broker (files readable by the service user)."""

    enabled: bool = field(default=False, metadata={"doc": "connect with TLS"})
    ca_file: str = field(default="", metadata={"doc": "CA certificate (PEM); empty = system CAs"})
    cert_file: str = field(default="", metadata={"doc": "client certificate (PEM), optional"})
    key_file: str = field(default="", metadata={"doc": "client key (PEM), optional"})
    insecure: bool = field(
        default=False,
        metadata={"doc": "skip the host name check (test brokers only: allows impersonation)"},
    )


@dataclass(frozen=True)
class DiscoveryConfig:
    """Home Assistant MQTT discovery."""

    enabled: bool = field(
        default=True,
        metadata={
            "doc": "announce entities to Home Assistant; false removes them (the retained "
            "configs are emptied) and HA drops the device"
        },
    )
    prefix: str = field(default="homeassistant", metadata={"doc": "HA discovery prefix"})
    configuration_url: str = field(
        default="",
        metadata={
            "doc": "the link on HA's device card; empty: the web page "
            "(http://<web.host>:<web.port>/, this machine's <hostname>.local when web.host "
            "is 0.0.0.0) when web.enabled; none: no link"
        },
    )

    def validate(self) -> None:
        url = self.configuration_url
        if url and url != "none" and not url.startswith(("http://", "https://")):
            raise ValueError(
                f"configuration_url {url!r}: expected an http:// or https:// address, empty or none"
            )


@dataclass(frozen=True)
class MqttConfig:
    """The MQTT score feed and remote control (off unless enabled)."""

    __unknown_key_hint__: ClassVar[dict[str, str]] = {
        "password": "passwords never go in config.yaml: use password_file, the environment "
        "variable SMILEBOOTH_MQTT_PASSWORD or the systemd credential mqtt_password",
    }

    enabled: bool = field(default=False, metadata={"doc": "publish scores and accept commands"})
    host: str = field(
        default="localhost", metadata={"doc": "broker host ($SMILEBOOTH_MQTT_HOST overrides it)"}
    )
    port: int = field(
        default=1883,
        metadata={
            "doc": "broker port, 8883 for TLS ($SMILEBOOTH_MQTT_PORT overrides it)",
            "min": 1,
            "max": 65535,
        },
    )
    device_id: str = field(
        default="smilebooth",
        metadata={"doc": "this device's id in topics ($SMILEBOOTH_DEVICE_ID overrides it)"},
    )
    topic_prefix: str = field(default="smilebooth", metadata={"doc": "first topic level"})
    client_id: str = field(
        default="", metadata={"doc": "MQTT client id; empty: smilebooth-<device_id>"}
    )
    keepalive_s: int = field(default=30, metadata={"doc": "MQTT keepalive", "min": 5})
    score_interval_s: float = field(
        default=5.0,
        metadata={
            "doc": "at most one score message per this many seconds (HA's recorder stores "
            "every one: 5 s is ~17k rows a day per score entity, 1 s would be 86k); a "
            "change in the face or smiling count is sent within 1 s",
            "min": 0.0,
        },
    )
    queue_size: int = field(
        default=100, metadata={"doc": "capture events kept while the broker is away", "min": 1}
    )
    include_image: bool = field(
        default=False,
        metadata={"doc": "also publish each photo (JPEG bytes) on <base>/image; off: names only"},
    )
    username: str = field(default="", metadata={"doc": "broker user name (empty: anonymous)"})
    password_file: str = field(
        default="",
        metadata={
            "doc": "file holding the password; else $SMILEBOOTH_MQTT_PASSWORD, else the systemd "
            "credential mqtt_password"
        },
    )
    tls: TlsConfig = field(default_factory=TlsConfig)
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)

    def validate(self) -> None:
        if self.tls.insecure and not self.tls.enabled:
            raise ValueError("tls.insecure only applies with tls.enabled: true")
        for name in ("device_id", "topic_prefix"):
            value = getattr(self, name)
            if not value or any(c in value for c in "#+/ "):
                raise ValueError(
                    f"{name} {value!r} must be non-empty, without '#', '+', '/' or spaces"
                )
