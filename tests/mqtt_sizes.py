"""The sizes Home Assistant stores for the booth's entities, for 1, 6 and 24 faces.

    python -m tests.mqtt_sizes [--frames 30]

Runs the real loop (shipped models) on frames of crowd_1080p (up to 8 faces a frame),
takes the score and capture messages it publishes, and makes messages of 1, 6 and 24
faces from the real per-face entries it saw (24: faces of several frames in one message,
as a bigger group would give). For each it renders, with Jinja2 the way HA does
(tests/ha_templates.py), the attributes HA's recorder stores: the Faces sensor's and the
Last capture sensor's, and what the Faces attributes were before this change (every face's
detail). HA's recorder keeps no attributes over 16 KB; the target here is 2 KB. Not a
test: it prints figures (the templates test checks 2 KB on every message of a run).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import threading
from pathlib import Path

from edge.io import events
from edge.io.mqtt.discovery import Announce, discovery_messages
from edge.io.mqtt.topics import Topics
from tests import ha_templates
from tests._loop_helpers import CROWD, write_frames

OLD_FACES_ATTRIBUTES = "{{ {'per_face': value_json.per_face} | tojson }}"


def observed(frames: int) -> tuple[list[events.ScoreEvent], list[events.CaptureEvent]]:
    """The score and capture events of the real loop on `frames` crowd frames."""
    from edge.compose import build_loop
    from edge.config import load_config

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_frames(CROWD, root / "frames", frames, step=max(1, 105 // frames))
        config = root / "config.yaml"
        config.write_text(
            f"source: {{type: images, folder: {root / 'frames'}}}\n"
            f"capture: {{folder: {root / 'photos'}}}\n"
            "trigger: {threshold: 0.0, rearm_threshold: 0.0, hold_s: 0.0, cooldown_s: 0.0,"
            " burst_s: 0.0, min_faces: 1}\n"
        )
        loop = build_loop(load_config(config), stop=threading.Event())
        subscription = loop.parts.bus.subscribe(maxsize=100_000)
        loop.run()
        scores, captures = [], []
        while (event := subscription.get(timeout=0)) is not None:
            if isinstance(event.payload, events.ScoreEvent):
                scores.append(event.payload)
            elif isinstance(event.payload, events.CaptureEvent):
                captures.append(event.payload)
    return scores, captures


def with_faces(score: events.ScoreEvent, faces: list[dict], count: int) -> events.ScoreEvent:
    chosen = tuple((faces * (count // len(faces) + 1))[:count])
    return dataclasses.replace(score, faces=count, per_face=chosen)


def attributes_size(config: dict, payload: bytes, template: str | None = None) -> int:
    """Bytes of the attributes JSON HA renders from payload (and its recorder stores)."""
    rendered = ha_templates.render(template or config["json_attributes_template"], payload)
    assert isinstance(json.loads(rendered), dict)
    return len(rendered.encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=30, help="crowd frames to run")
    args = parser.parse_args(argv)
    scores, captures = observed(args.frames)
    faces = [face for score in scores for face in score.per_face]
    capture_faces = [face for capture in captures for face in capture.faces]
    if not faces or not captures:
        print("no faces or no photo in the crowd frames", file=sys.stderr)
        return 1
    most = max(score.faces for score in scores)
    print(f"{len(scores)} frames, up to {most} faces a frame, {len(captures)} photos")
    configs = {
        topic.split("/")[3]: json.loads(body)
        for topic, body in discovery_messages(Topics("smilebooth", "b"), Announce()).items()
        if body
    }
    faces_config, capture_config = configs["faces"], configs["last_capture"]
    print("bytes: faces, score message, Faces attributes (before: per-face attributes),")
    print("       capture message, Last capture attributes")
    for count in (1, 6, 24):
        score = with_faces(scores[-1], faces, count)
        message = json.dumps({**score.as_json(), "time": 0.0}).encode()
        chosen = tuple((capture_faces * (count // len(capture_faces) + 1))[:count])
        capture = dataclasses.replace(captures[-1], faces=chosen)
        capture_message = json.dumps(capture.as_json()).encode()
        print(
            f"{count:5d}  {len(message):9d}  {attributes_size(faces_config, message):11d}  "
            f"{attributes_size(faces_config, message, OLD_FACES_ATTRIBUTES):24d}  "
            f"{len(capture_message):11d}  {attributes_size(capture_config, capture_message):18d}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
