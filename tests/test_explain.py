"""Why the shutter has not fired, in a guest's words, and which face it waits on."""

from __future__ import annotations

from typing import get_args

import pytest

from edge.config.decide import ScoringConfig, TriggerConfig
from edge.decide.control import ControlState
from edge.decide.explain import PHASE_WORDS, explain, guest_line
from edge.decide.trigger import Phase, TriggerState
from edge.types import SmoothedFace

ARMED = ControlState(armed=True, threshold=0.7, trigger_requested=False)
TRIGGER = TriggerConfig()
SCORING = ScoringConfig()


def face(track_id: int, smile: float, eyes: float) -> SmoothedFace:
    return SmoothedFace(track_id=track_id, smile_weight=smile, eyes_open=eyes)


def why(faces, score=None, phase="ready", controls=ARMED, eyes_closed=False, since=0.0):  # type: ignore[no-untyped-def]
    return explain(
        TriggerState(phase, since), 10.0, score, faces, controls, TRIGGER, SCORING, eyes_closed
    )


def test_the_face_that_is_not_smiling_is_named() -> None:
    faces = [face(1, 1.0, 2), face(2, 0.2, 2), face(3, 0.9, 2)]
    explanation = why(faces, score=0.6)
    assert explanation.text == "Not everyone is smiling yet."
    assert explanation.track_id == 2


def test_a_smiling_face_with_closed_eyes_is_named_for_its_eyes() -> None:
    faces = [face(1, 1.0, 2), face(2, 1.0, 0)]
    explanation = why(faces, score=0.68)
    assert explanation.text == "Someone's eyes are closed." and explanation.track_id == 2


def test_a_blink_that_blocks_a_good_score_is_said() -> None:
    faces = [face(1, 1.0, 2), face(2, 1.0, 0.4)]
    explanation = why(faces, score=0.9, phase="holding", eyes_closed=True)
    assert explanation.text.startswith("Someone blinked") and explanation.track_id == 2


@pytest.mark.parametrize(
    ("faces", "score", "phase", "controls", "words"),
    [
        ([], None, "ready", ARMED, "Nobody in view"),
        ([face(1, 1, 2)], 0.9, "holding", ARMED, "Hold that smile"),
        ([face(1, 1, 2)], 0.9, "burst", ARMED, "Taking the photo"),
        ([face(1, 1, 2)], 0.9, "rearm", ARMED, "next one comes after a new smile"),
        ([face(1, 0.2, 2)], 0.36, "ready", ARMED, "Smile!"),
        ([face(1, 1, 2)], 0.9, "ready", ControlState(False, 0.7, False), "Paused"),
    ],
)
def test_each_phase_reads_as_a_sentence(faces, score, phase, controls, words) -> None:  # type: ignore[no-untyped-def]
    explanation = why(faces, score=score, phase=phase, controls=controls)
    assert words in explanation.text
    assert explanation.track_id is None or faces


def test_cooldown_says_how_long_is_left() -> None:
    explanation = why([face(1, 1, 2)], score=0.9, phase="cooldown", since=9.0)
    assert f"{TRIGGER.cooldown_s - 1:.0f} s" in explanation.text


def test_too_few_faces_says_how_many_are_needed() -> None:
    trigger = TriggerConfig(min_faces=3)
    explanation = explain(TriggerState(), 0.0, 0.9, [face(1, 1, 2)], ARMED, trigger, SCORING, False)
    assert explanation.text == "Waiting for 3 people (sees 1)."


# -- the guest screen's line -----------------------------------------------------------------


def guest(faces, score=None, phase="ready", controls=ARMED, eyes_closed=False, since=0.0, now=10.0):  # type: ignore[no-untyped-def]
    return guest_line(
        TriggerState(phase, since), now, score, faces, controls, TRIGGER, SCORING, eyes_closed
    )


def test_the_guest_line_follows_the_scene() -> None:
    assert guest([]).text == "Everyone in the picture"
    assert guest([face(1, 1.0, 2), face(2, 0.1, 2)], score=0.6).text == "Big smiles!"
    assert guest([face(1, 1.0, 2), face(2, 1.0, 0.2)], score=0.6).text == "Eyes open!"
    assert guest([face(1, 1.0, 2)], score=0.9, eyes_closed=True).text == "Eyes open!"
    ready = guest([face(1, 1.0, 2)], score=0.9)
    assert (ready.text, ready.countdown) == ("Hold it…", 3)
    assert guest([face(1, 1.0, 2)], phase="burst").text == "Smile!"
    paused = ControlState(armed=False, threshold=0.7, trigger_requested=False)
    assert guest([face(1, 1.0, 2)], controls=paused).text == "Get ready"


def test_the_countdown_runs_3_2_1_over_the_hold() -> None:
    hold = TRIGGER.hold_s
    smiling = [face(1, 1.0, 2)]
    counts = [
        guest(smiling, 0.9, "holding", since=10.0, now=10.0 + hold * part).countdown
        for part in (0.0, 0.2, 0.4, 0.7, 0.99, 1.0)
    ]
    assert counts == [3, 3, 2, 1, 1, 1]


def test_every_phase_has_plain_words() -> None:
    assert set(PHASE_WORDS) == set(get_args(Phase))
    assert not any(phase in " ".join(PHASE_WORDS.values()) for phase in ("rearm", "burst"))
