"""Home Assistant MQTT discovery: retained config messages so entities appear by themselves.

Pure payload builders; the publisher sends them (retained) on every (re)connect.
"""

from __future__ import annotations

import json
from typing import Any

from edge.mqtt.topics import Topics


def discovery_messages(
    topics: Topics, ha_prefix: str, version: str, include_image: bool = False
) -> dict[str, str]:
    """topic -> JSON payload, for the score, faces and last-capture sensors, the armed switch
    and the trigger button (and the last photo, with include_image); all wired to the
    device's availability topic. HA derives entity ids from the device and entity names
    (no `object_id`: deprecated since HA 2025.10)."""
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
        },
        ("sensor", "last_capture"): {
            "name": "Last capture",
            "state_topic": topics.capture,
            "value_template": "{{ value_json.file }}",
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
    if include_image:
        entities[("image", "last_photo")] = {
            "name": "Last photo",
            "image_topic": topics.image,
            "content_type": "image/jpeg",
        }
    return {
        f"{ha_prefix}/{component}/{device_id}/{name}/config": json.dumps(
            {
                **common,
                **fields,
                "unique_id": f"smilebooth_{device_id}_{name}",
            }
        )
        for (component, name), fields in entities.items()
    }
