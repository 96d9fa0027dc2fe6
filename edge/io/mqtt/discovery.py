"""Home Assistant MQTT discovery: retained config messages so entities appear by themselves.

Pure payload builders; the publisher sends them (retained) on every (re)connect.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from edge.decide.trigger import Phase
from edge.io.mqtt.topics import Topics

PHASES = list(typing.get_args(Phase))  # the phase sensor's enum options


def discovery_messages(
    topics: Topics, ha_prefix: str, version: str, include_image: bool = False
) -> dict[str, str]:
    """topic -> JSON payload (all retained), for the score, faces (per-face attributes),
    phase, waiting-for (why the shutter waits, on which face) and last-capture sensors, the
    smiling and faces-present binary sensors, the threshold number, the armed switch, the
    trigger button, a "photo taken" device trigger and the last photo. An entity turned off
    (the image without include_image) gets an empty payload: HA removes an entity whose
    retained config is emptied, so switching an option off does not leave a dead entity
    behind. HA derives entity ids from the device and entity names (no `object_id`:
    deprecated since HA 2025.10)."""
    device_id = topics.device_id
    device = {
        "identifiers": [f"smilebooth_{device_id}"],
        "name": f"smilebooth {device_id}",
        "manufacturer": "smilebooth",
        "model": "smile photo booth",
        "sw_version": version,
    }
    common = {
        "availability_topic": topics.availability,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": device,
        "origin": {"name": "smilebooth", "sw_version": version},
    }
    entities: dict[tuple[str, str], dict[str, Any]] = {
        ("sensor", "score"): {
            "name": "Group score",
            "state_topic": topics.score,
            "value_template": "{{ value_json.score }}",
            "state_class": "measurement",
        },
        ("sensor", "faces"): {
            "name": "Faces",
            "state_topic": topics.score,
            "value_template": "{{ value_json.faces }}",
            "state_class": "measurement",
            # Each face's scores as attributes (track id, smiling, smile weight, eyes...).
            "json_attributes_topic": topics.score,
            "json_attributes_template": "{{ {'per_face': value_json.per_face} | tojson }}",
        },
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
        ("binary_sensor", "smiling"): {
            "name": "Someone smiling",
            "state_topic": topics.score,
            "value_template": "{{ 'ON' if value_json.per_face | selectattr('smiling') "
            "| list | length > 0 else 'OFF' }}",
            "payload_on": "ON",
            "payload_off": "OFF",
        },
        ("binary_sensor", "faces_present"): {
            "name": "Faces present",
            "device_class": "occupancy",
            # The state topic is sent at once when the face count changes (score: rate-limited).
            "state_topic": topics.state,
            "value_template": "{{ 'ON' if value_json.faces | int(0) > 0 else 'OFF' }}",
            "payload_on": "ON",
            "payload_off": "OFF",
        },
        ("number", "threshold"): {
            "name": "Threshold",
            "state_topic": topics.state,
            "value_template": "{{ value_json.threshold }}",
            "command_topic": topics.command("threshold"),
            "min": 0.0,
            "max": 1.0,
            "step": 0.01,
            "mode": "slider",
            "entity_category": "config",
        },
        ("sensor", "last_capture"): {
            "name": "Last capture",
            "state_topic": topics.capture,
            "value_template": "{{ value_json.file }}",
            # The capture topic is retained: the last photo survives an HA restart.
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
    optional: dict[tuple[str, str], dict[str, Any] | None] = {
        ("image", "last_photo"): {
            "name": "Last photo",
            "image_topic": topics.image,
            "content_type": "image/jpeg",
        }
        if include_image
        else None,
    }
    messages = {
        f"{ha_prefix}/{component}/{device_id}/{name}/config": json.dumps(
            {**common, **fields, "unique_id": f"smilebooth_{device_id}_{name}"}
        )
        for (component, name), fields in entities.items()
    }
    for (component, name), fields in optional.items():
        topic = f"{ha_prefix}/{component}/{device_id}/{name}/config"
        messages[topic] = (
            ""
            if fields is None
            else json.dumps({**common, **fields, "unique_id": f"smilebooth_{device_id}_{name}"})
        )
    # A device trigger (automations: "smilebooth booth1: photo taken"); its schema has no
    # availability, name or unique_id: the topic, type/subtype and device identify it.
    messages[f"{ha_prefix}/device_automation/{device_id}/photo_taken/config"] = json.dumps(
        {
            "automation_type": "trigger",
            # Not the (retained) capture topic: HA would fire on the retained message at
            # every restart.
            "topic": topics.photo_taken,
            "type": "photo_taken",
            "subtype": "capture",
            "qos": 1,
            "device": device,
            "origin": common["origin"],
        }
    )
    return messages


def package_version() -> str:
    """The installed package's version (the one in pyproject.toml), for sw_version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("smilebooth")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"
