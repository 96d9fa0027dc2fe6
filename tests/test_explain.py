"""Why the shutter has not fired, in a guest's words, and which face it waits on."""

from __future__ import annotations

from typing import get_args

import pytest

from edge.config.decide import TriggerConfig
from edge.decide.control import ControlState
from edge.decide.explain import PHASE_CODES, PHASE_WORDS, explain, guest_line
from edge.decide.rule import FaceView, Verdict, judge
from edge.decide.trigger import Phase, TriggerState

ARMED = ControlState(armed=True, threshold=0.7, trigger_requested=False)
TRIGGER = TriggerConfig()


def face(track_id: int, smile: float, closed: bool = False) -> FaceView:
    return FaceView(track_id, smile, closed, 0.8 * smile + (0.0 if closed else 0.2))


def why(faces, score=None, phase="ready", controls=ARMED, since=0.0, trigger=TRIGGER):  # type: ignore[no-untyped-def]
    verdict = judge(score, faces, controls.threshold, trigger, 0.5)
    return explain(TriggerState(phase, since), 10.0, verdict, len(faces), controls, trigger)


def test_the_face_that_is_not_smiling_is_named() -> None:
    faces = [face(1, 1.0), face(2, 0.2), face(3, 0.9)]
    explanation = why(faces, score=0.86)  # the average is over the threshold
    assert explanation.text == "Not everyone is smiling yet."
    assert (explanation.code, explanation.track_id) == ("not_smiling", 2)


def test_a_smiling_face_with_closed_eyes_is_named_for_its_eyes() -> None:
    faces = [face(1, 0.7), face(2, 0.6, closed=True)]
    explanation = why(faces, score=0.66)
    assert explanation.text == "Someone's eyes are closed." and explanation.track_id == 2


def test_a_blink_that_blocks_a_good_score_is_said() -> None:
    faces = [face(1, 1.0), face(2, 1.0, closed=True)]
    explanation = why(faces, score=0.9, phase="holding")
    assert explanation.text.startswith("Someone blinked") and explanation.track_id == 2
    assert explanation.code == "eyes_closed"


def test_mild_smiles_everyone_ask_for_bigger_ones() -> None:
    explanation = why([face(1, 0.55), face(2, 0.6)], score=0.65)
    assert (explanation.code, explanation.track_id) == ("low_score", 1)
    assert explanation.text == "Bigger smiles, everyone!"


@pytest.mark.parametrize(
    ("faces", "score", "phase", "controls", "code", "words"),
    [
        ([], None, "ready", ARMED, "no_faces", "Nobody in view"),
        ([face(1, 1)], 0.9, "holding", ARMED, "holding", "Hold that smile"),
        ([face(1, 1)], 0.9, "ready", ARMED, "ready", "Looking good"),
        ([face(1, 1)], 0.9, "burst", ARMED, "burst", "Taking the photo"),
        ([face(1, 1)], 0.9, "rearm", ARMED, "rearm", "next one comes after a new smile"),
        ([face(1, 0.2)], 0.36, "ready", ARMED, "not_smiling", "Smile!"),
        ([face(1, 1)], 0.9, "ready", ControlState(False, 0.7, False), "paused", "Paused"),
    ],
)
def test_each_phase_reads_as_a_sentence(faces, score, phase, controls, code, words) -> None:  # type: ignore[no-untyped-def]
    explanation = why(faces, score=score, phase=phase, controls=controls)
    assert words in explanation.text and explanation.code == code
    assert explanation.track_id is None or faces


def test_cooldown_says_how_long_is_left() -> None:
    explanation = why([face(1, 1)], score=0.9, phase="cooldown", since=9.0)
    assert f"{TRIGGER.cooldown_s - 1:.0f} s" in explanation.text
    assert explanation.code in PHASE_CODES


def test_too_few_faces_says_how_many_are_needed() -> None:
    explanation = why([face(1, 1)], score=0.9, trigger=TriggerConfig(min_faces=3))
    assert explanation.text == "Waiting for 3 people (sees 1)."


# -- the guest screen's line -----------------------------------------------------------------


def guest(faces, score=None, phase="ready", controls=ARMED, since=0.0, now=10.0):  # type: ignore[no-untyped-def]
    verdict = judge(score, faces, controls.threshold, TRIGGER, 0.5)
    state = TriggerState(phase, since)
    return guest_line(state, now, verdict, len(faces), controls, TRIGGER)


def test_the_guest_line_follows_the_scene() -> None:
    assert guest([]).text == "Everyone in the picture"
    assert guest([face(1, 1.0), face(2, 0.1)], score=0.9).text == "Big smiles!"
    assert guest([face(1, 1.0), face(2, 1.0, closed=True)], score=0.9).text == "Eyes open!"
    ready = guest([face(1, 1.0)], score=0.9)
    assert (ready.text, ready.countdown) == ("Hold it…", 3)
    assert guest([face(1, 1.0)], phase="burst").text == "Smile!"
    paused = ControlState(armed=False, threshold=0.7, trigger_requested=False)
    assert guest([face(1, 1.0)], controls=paused).text == "Get ready"


def test_the_countdown_runs_3_2_1_over_the_hold() -> None:
    hold = TRIGGER.hold_s
    smiling = [face(1, 1.0)]
    counts = [
        guest(smiling, 0.9, "holding", since=10.0, now=10.0 + hold * part).countdown
        for part in (0.0, 0.2, 0.4, 0.7, 0.99, 1.0)
    ]
    assert counts == [3, 3, 2, 1, 1, 1]


def test_every_phase_has_plain_words() -> None:
    assert set(PHASE_WORDS) == set(get_args(Phase))
    assert not any(phase in " ".join(PHASE_WORDS.values()) for phase in ("rearm", "burst"))


def test_a_phase_hides_the_verdict_face() -> None:
    held = Verdict("not_smiling", 4)
    cooling = explain(TriggerState("cooldown", 9.0), 10.0, held, 2, ARMED, TRIGGER)
    assert cooling.track_id is None
