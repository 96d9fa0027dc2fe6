"""Home Assistant MQTT discovery: retained config messages so entities appear by themselves.

Pure payload builders; the publisher sends them (retained) on every (re)connect and when
HA says it is back (its birth message), or sends them empty when discovery is turned off.
Every value template reads only keys that every message on its topic carries (the
publisher completes the first state before sending it), so HA never logs an undefined
variable or an invalid option; tests/test_mqtt_templates.py renders them all.
"""

from __future__ import annotations

import json
import socket
import typing
from dataclasses import dataclass
from typing import Any

from edge.decide.trigger import Phase
from edge.io.events import ERROR_SOURCES
from edge.io.mqtt.topics import Topics

PHASES = list(typing.get_args(Phase))  # the phase sensor's enum options
EVENT_TYPES = [*ERROR_SOURCES, "other"]  # the error event entity's types
# Counts on <base>/counts: name -> (the sensor's name, its icon). Each is a
# total_increasing sensor; a count anyone publishes (events.count_event) with a name
# listed here gets one, and the first counts message carries every name (0 until counted).
COUNTS = {"photos": ("Photos taken", "mdi:camera")}
# The device trigger: HA labels "button_short_press" itself ('"shutter" pressed'); a type
# of our own would show as raw strings in the automation editor.
TRIGGER_TYPE, TRIGGER_SUBTYPE = "button_short_press", "shutter"


@dataclass(frozen=True)
class Announce:
    """What the configs depend on besides the topics."""

    ha_prefix: str = "homeassistant"
    version: str = "0+unknown"
    include_image: bool = False
    threshold_min: float = 0.0  # trigger.rearm_threshold: HA's slider stops there
    configuration_url: str | None = None  # the booth's web page, when it serves one


def discovery_messages(topics: Topics, announce: Announce) -> dict[str, str]:
    """topic -> JSON payload (all retained). An entity turned off (the image without
    include_image) gets an empty payload: HA removes an entity whose retained config is
    emptied, so switching an option off leaves no dead entity behind. HA derives entity
    ids from the device and entity names (no `object_id`: deprecated since HA 2025.10)."""
    device_id, prefix = topics.device_id, announce.ha_prefix
    device: dict[str, Any] = {
        "identifiers": [f"smilebooth_{device_id}"],
        "name": f"smilebooth {device_id}",
        "manufacturer": "smilebooth",
        "model": "smile photo booth",
        "sw_version": announce.version,
    }
    if announce.configuration_url:
        device["configuration_url"] = announce.configuration_url
    origin = {"name": "smilebooth", "sw_version": announce.version}
    common = {
        "availability_topic": topics.availability,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": device,
        "origin": origin,
    }
    entities = {
        **_score_entities(topics),
        **_state_entities(topics, announce.threshold_min),
        **_photo_entities(topics),
        **_diagnostic_entities(topics),
    }
    optional: dict[tuple[str, str], dict[str, Any] | None] = {
        ("image", "last_photo"): (
            {"name": "Last photo", "image_topic": topics.image, "content_type": "image/jpeg"}
            if announce.include_image
            else None
        ),
    }
    messages = {}
    for (component, name), fields in {**entities, **optional}.items():
        unique = {"unique_id": f"smilebooth_{device_id}_{name}"}
        messages[f"{prefix}/{component}/{device_id}/{name}/config"] = (
            "" if fields is None else json.dumps({**common, **fields, **unique})
        )
    # A device trigger; its schema has no availability, name or unique_id. Not on the
    # (retained) capture topic: HA would fire on the retained message at every restart.
    messages[f"{prefix}/device_automation/{device_id}/photo_taken/config"] = json.dumps(
        {
            "automation_type": "trigger",
            "topic": topics.photo_taken,
            "type": TRIGGER_TYPE,
            "subtype": TRIGGER_SUBTYPE,
            "qos": 1,
            "device": device,
            "origin": origin,
        }
    )
    return messages


def removal_messages(topics: Topics, announce: Announce) -> dict[str, str]:
    """Every config topic emptied: HA removes the entities and the device, and the broker
    drops the retained configs (discovery turned off)."""
    every = discovery_messages(topics, Announce(announce.ha_prefix, include_image=True))
    return dict.fromkeys(every, "")


Entities = dict[tuple[str, str], dict[str, Any]]


def _score_entities(topics: Topics) -> Entities:
    """From the score topic, all three from the same message so they never disagree: it
    is sent at once (at most once a second) when the face or smiling count changes."""
    smiling = "value_json.per_face | selectattr('smiling') | list | length"
    closed = "value_json.per_face | selectattr('eyes_open', 'eq', 0) | list | length"
    return {
        ("sensor", "score"): {
            "name": "Group score",
            "state_topic": topics.score,
            "value_template": "{{ value_json.score }}",  # None (no face): unknown
            "state_class": "measurement",
            "suggested_display_precision": 2,
        },
        ("sensor", "faces"): {
            "name": "Faces",
            "state_topic": topics.score,
            "value_template": "{{ value_json.faces }}",
            "state_class": "measurement",
            "icon": "mdi:account-group",
            # Two small counts (recorder rows repeat; per-face detail stays on the topic).
            "json_attributes_topic": topics.score,
            "json_attributes_template": (
                "{{ {'smiling': " + smiling + ", 'eyes_closed': " + closed + "} | tojson }}"
            ),
        },
        ("binary_sensor", "smiling"): {
            "name": "Someone smiling",
            "state_topic": topics.score,
            "value_template": "{{ 'ON' if (" + smiling + ") > 0 else 'OFF' }}",
            "payload_on": "ON",
            "payload_off": "OFF",
            "icon": "mdi:emoticon-happy-outline",
        },
        ("binary_sensor", "faces_present"): {
            "name": "Faces present",
            "device_class": "occupancy",
            "state_topic": topics.score,
            "value_template": "{{ 'ON' if value_json.faces > 0 else 'OFF' }}",
            "payload_on": "ON",
            "payload_off": "OFF",
        },
    }


def _state_entities(topics: Topics, threshold_min: float) -> Entities:
    """From the retained state topic, and the operator's controls."""
    return {
        ("sensor", "phase"): {
            "name": "Phase",
            "state_topic": topics.state,
            "value_template": "{{ value_json.phase }}",
            "device_class": "enum",
            "options": PHASES,
        },
        ("sensor", "waiting_for"): {  # why the shutter waits, and on which face
            "name": "Waiting for",
            "state_topic": topics.state,
            "value_template": "{{ value_json.message | default('') }}",
            "json_attributes_topic": topics.state,
            "json_attributes_template": "{{ {'ready': value_json.ready, 'reason': "
            "value_json.reason, 'held_by': value_json.held_by} | tojson }}",
        },
        ("number", "threshold"): {
            "name": "Threshold",
            "state_topic": topics.state,
            "value_template": "{{ value_json.threshold }}",
            "command_topic": topics.command("threshold"),
            "min": threshold_min,  # the config's rule: not under trigger.rearm_threshold
            "max": 1.0,
            "step": 0.01,
            "mode": "slider",
            "entity_category": "config",
        },
        ("switch", "armed"): {
            "name": "Armed",
            "state_topic": topics.state,
            "value_template": "{{ 'ON' if value_json.armed else 'OFF' }}",
            "command_topic": topics.command("armed"),
            "payload_on": "ON",
            "payload_off": "OFF",
        },
        ("button", "trigger"): {
            "name": "Take photo",
            "command_topic": topics.command("trigger"),
            "payload_press": "PRESS",
        },
    }


def _photo_entities(topics: Topics) -> Entities:
    """The last photo (retained capture topic), the counts, the error events."""
    entities: Entities = {
        ("sensor", "last_capture"): {
            "name": "Last capture",
            "state_topic": topics.capture,
            "value_template": "{{ value_json.time }}",  # ISO 8601 in UTC
            "device_class": "timestamp",
            "json_attributes_topic": topics.capture,
            "json_attributes_template": "{{ {'file': value_json.file, 'score': "
            "value_json.score, 'faces': value_json.faces | length, 'reason': "
            "value_json.reason} | tojson }}",
        },
        ("event", "error"): {
            "name": "Error",
            "state_topic": topics.error,  # JSON with event_type, message, source
            "event_types": EVENT_TYPES,
            "icon": "mdi:alert-circle-outline",
        },
    }
    for name, (title, icon) in COUNTS.items():
        entities[("sensor", name)] = {
            "name": title,
            "state_topic": topics.counts,
            "value_template": "{{ value_json." + name + " }}",
            "state_class": "total_increasing",
            "icon": icon,
        }
    return entities


def _diagnostic_entities(topics: Topics) -> Entities:
    return {
        ("sensor", "fps"): {
            "name": "Frame rate",
            "state_topic": topics.state,
            "value_template": "{{ value_json.fps }}",
            "unit_of_measurement": "fps",
            "state_class": "measurement",
            "suggested_display_precision": 1,
            "entity_category": "diagnostic",
        },
        ("sensor", "disk_free"): {
            "name": "Disk free",
            "state_topic": topics.state,
            "value_template": "{{ value_json.disk_free_gb }}",  # None: no photo folder
            "device_class": "data_size",
            "unit_of_measurement": "GB",
            "state_class": "measurement",
            "suggested_display_precision": 1,
            "entity_category": "diagnostic",
        },
    }


def page_url(host: str, port: int, setting: str = "") -> str | None:
    """The device's configuration_url: the setting, or the web page's address (a wildcard
    listen address becomes this machine's mDNS name), None for 'none'."""
    if setting == "none":
        return None
    if setting:
        return setting
    if host in ("", "0.0.0.0", "::"):
        name = socket.gethostname()
        host = name if "." in name else f"{name}.local"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def package_version() -> str:
    """The installed package's version (the one in pyproject.toml), for sw_version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("smilebooth")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"
