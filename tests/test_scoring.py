"""The group score is a pure function: tested on its own, edge cases included."""

from __future__ import annotations

import dataclasses

import pytest

from edge.config.decide import ScoringConfig
from edge.decide.scoring import score_face, score_group, smile_weight
from edge.perception.labels import DEFAULT_INTENSITY_WEIGHTS, EMOTIONS
from edge.types import Box, Face, SmileResult

CONFIG = ScoringConfig()


def smile(intensity: dict[str, float], probability: float = 0.9) -> SmileResult:
    return SmileResult(
        emotions={name: 1.0 / len(EMOTIONS) for name in EMOTIONS},
        intensity=intensity,
        smile_probability=probability,
        valence=0.5,
    )


def face_score(intensity: dict[str, float], eyes: int, probability: float = 0.9):
    face = Face(box=Box(0, 0, 10, 10), score=0.9)
    return score_face(face, smile(intensity, probability), eyes, CONFIG)


ONE_HOT = {
    name: {n: float(n == name) for n in DEFAULT_INTENSITY_WEIGHTS}
    for name in DEFAULT_INTENSITY_WEIGHTS
}


def test_no_faces_gives_no_score() -> None:
    group = score_group([], CONFIG)
    assert group.score is None
    assert group.face_count == 0
    assert group.average_smile is None


@pytest.mark.parametrize(
    ("intensity", "weight"), [(k, w) for k, w in DEFAULT_INTENSITY_WEIGHTS.items()]
)
def test_certain_intensity_gives_its_weight(intensity: str, weight: float) -> None:
    assert smile_weight(ONE_HOT[intensity], DEFAULT_INTENSITY_WEIGHTS) == pytest.approx(weight)


def test_smile_weight_is_the_expected_value_under_the_probabilities() -> None:
    probabilities = {"none": 0.5, "mild": 0.0, "moderate": 0.25, "huge": 0.25}
    expected = 0.5 * 0.2 + 0.25 * 0.7 + 0.25 * 1.0
    assert smile_weight(probabilities, DEFAULT_INTENSITY_WEIGHTS) == pytest.approx(expected)


def test_original_rating_formula() -> None:
    faces = [face_score(ONE_HOT["huge"], 2), face_score(ONE_HOT["none"], 1)]
    group = score_group(faces, CONFIG)
    average_smile = (1.0 + 0.2) / 2
    open_eye_ratio = 0.5 * 3 / 2
    assert group.average_smile == pytest.approx(average_smile)
    assert group.open_eye_ratio == pytest.approx(open_eye_ratio)
    assert group.score == pytest.approx(0.8 * average_smile + 0.2 * open_eye_ratio)
    assert group.face_count == 2


def test_open_eye_ratio_is_capped_at_one() -> None:
    config = dataclasses.replace(CONFIG, eyes_per_face=1.0)
    faces = [score_face(Face(Box(0, 0, 1, 1), 1.0), smile(ONE_HOT["huge"]), 2, config)]
    group = score_group(faces, config)
    assert group.open_eye_ratio == 1.0
    assert group.score == pytest.approx(1.0)


def test_best_and_worst_possible_groups_bound_the_score() -> None:
    best = score_group([face_score(ONE_HOT["huge"], 2)] * 3, CONFIG)
    worst = score_group([face_score(ONE_HOT["none"], 0)] * 3, CONFIG)
    assert best.score == pytest.approx(1.0)
    assert worst.score == pytest.approx(0.8 * 0.2)


def test_smiling_follows_the_threshold_and_eye_count_is_checked() -> None:
    assert face_score(ONE_HOT["huge"], 2, probability=0.51).smiling
    assert not face_score(ONE_HOT["huge"], 2, probability=0.49).smiling
    with pytest.raises(ValueError, match="eyes_open"):
        face_score(ONE_HOT["huge"], 3)


def test_config_rejects_weights_that_do_not_add_up() -> None:
    with pytest.raises(ValueError, match="must be 1"):
        ScoringConfig(smile_weight=0.9, eyes_weight=0.2).validate()
    with pytest.raises(ValueError, match="intensity_weights"):
        ScoringConfig(intensity_weights={"none": 0.1}).validate()
    ScoringConfig().validate()
