"""The group rule as a pure function: everyone smiling, the tolerance for big groups, eyes,
and `rule: score` (today's average); held for hold_s through the real trigger policy."""

from __future__ import annotations

from edge.config.decide import ScoringConfig, TriggerConfig
from edge.decide.control import ControlState
from edge.decide.rule import FaceView, Verdict, judge, live_views, photo_views
from edge.decide.scoring import group_from_values
from edge.decide.trigger import TriggerState, step
from edge.types import SmoothedFace
from tests._loop_helpers import BOX_A, face_score

EVERYONE = TriggerConfig(hold_s=0.8, min_faces=1)
BY_SCORE = TriggerConfig(hold_s=0.8, min_faces=1, rule="score")
ARMED = ControlState(armed=True, threshold=0.7, trigger_requested=False)
SCORING = ScoringConfig()


def group(
    smiles: list[float], closed: frozenset[int] = frozenset()
) -> tuple[float, list[FaceView]]:
    """Faces whose smile weight and P(smiling) are `smiles`; the group score of them."""
    eyes = [0 if i in closed else 2 for i in range(len(smiles))]
    score = group_from_values(smiles, eyes, SCORING).score
    assert score is not None
    views = [
        FaceView(i + 1, smile, i in closed, 0.8 * smile + 0.2 * min(1.0, 0.5 * eyes[i]))
        for i, smile in enumerate(smiles)
    ]
    return score, views


def verdict(
    smiles: list[float], config: TriggerConfig, closed: frozenset[int] = frozenset()
) -> Verdict:
    score, views = group(smiles, closed)
    return judge(score, views, 0.7, config, smiling_threshold=0.5)


def test_five_big_smiles_and_one_straight_face_wait_for_the_straight_face() -> None:
    smiles = [0.97, 0.95, 0.96, 0.98, 0.95, 0.1]
    score, _ = group(smiles)
    assert score > 0.7  # the average alone would fire (the 0.87 case)
    held = verdict(smiles, EVERYONE)
    assert (held.ready, held.reason, held.held_by, held.hold) == (False, "not_smiling", 6, False)
    assert verdict(smiles, BY_SCORE).ready  # rule: score keeps today's behaviour


def test_everyone_smiling_is_ready() -> None:
    assert verdict([0.9, 0.8, 0.95], EVERYONE) == Verdict("ready", None, hold=True)


def test_allow_not_smiling_lets_that_many_straight_faces_through() -> None:
    tolerant = TriggerConfig(min_faces=1, allow_not_smiling=1)
    one = [0.97] * 7 + [0.2]
    two = [0.97] * 6 + [0.2, 0.3]
    assert verdict(one, tolerant).ready
    not_two = verdict(two, tolerant)
    assert not_two.reason == "not_smiling" and not_two.held_by == 7  # the least smiling one
    assert not verdict(one, EVERYONE).ready


def test_closed_eyes_hold_the_shutter_and_name_the_face() -> None:
    blocked = verdict([0.95, 0.95, 0.95], EVERYONE, closed=frozenset({1}))
    assert (blocked.ready, blocked.reason, blocked.held_by, blocked.hold) == (
        False,
        "eyes_closed",
        2,
        True,  # a blink keeps the hold: it only delays the photo
    )
    assert not verdict([0.95, 0.95], BY_SCORE, closed=frozenset({0})).ready
    lax = TriggerConfig(min_faces=1, block_on_closed_eyes=False)
    assert verdict([0.95, 0.95], lax, closed=frozenset({0})).ready


def test_a_low_score_names_the_weakest_face() -> None:
    # everyone counts as smiling (P >= 0.5) but the smiles are mild: the score decides
    low = verdict([0.55, 0.6, 0.52], EVERYONE)
    assert (low.reason, low.held_by) == ("low_score", 3)
    straight = verdict([0.9, 0.1], BY_SCORE)
    assert (straight.reason, straight.held_by) == ("not_smiling", 2)


def test_too_few_or_no_faces() -> None:
    _, views = group([0.9])
    assert judge(0.9, views, 0.7, TriggerConfig(min_faces=2), 0.5).reason == "few_faces"
    assert judge(None, [], 0.7, EVERYONE, 0.5).reason == "no_faces"


def run(smiles: list[float], config: TriggerConfig, frames: int = 30, fps: int = 10) -> list[int]:
    """The frames a steady group fires on, through the real trigger policy."""
    score, views = group(smiles)
    state, fired = TriggerState(), []
    for n in range(frames):
        decision = step(state, n / fps, score, judge(score, views, 0.7, config, 0.5), ARMED, config)
        state = decision.state
        fired += [n] if decision.fire else []
    return fired


def test_held_for_hold_s_as_today() -> None:
    assert run([0.95, 0.9], EVERYONE) == [8]  # 0.8 s after the first good frame
    assert run([0.95] * 5 + [0.1], EVERYONE) == []
    assert run([0.95] * 5 + [0.1], BY_SCORE) == [8]


def test_live_and_photo_views_read_the_same_face() -> None:
    face = face_score(BOX_A, 0.3, 0)
    photo = photo_views([face], SCORING)
    assert photo == [FaceView(0, 0.3, False, 0.8 * 0.3)]  # eyes never read: not closed
    smoothed = SmoothedFace(7, smile_weight=0.3, eyes_open=0.2, smile_probability=0.25)
    live = live_views([smoothed], {7}, SCORING)
    assert live[0].face_id == 7 and live[0].smile_probability == 0.25 and live[0].eyes_closed
