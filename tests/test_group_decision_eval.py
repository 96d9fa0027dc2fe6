"""The group-decision check: its composed frames, and one real run of both passes."""

from __future__ import annotations

import numpy as np
import pytest

from evaluate import group_decision_eval
from evaluate.faces_eyes_split import is_eye_training, is_test
from evaluate.group_frames import (
    FACE_PX,
    FRAME,
    KINDS,
    compose,
    load_pools,
    read_eye_labels,
)
from tests.paths import FERPLUS, SHARED, require


@pytest.fixture(scope="module")
def pools():  # type: ignore[no-untyped-def]
    require(FERPLUS / "FER2013Test")
    require(SHARED / "datasets" / "faces-eyes" / "closed")
    return load_pools("test")


def test_frames_hold_2_to_6_labelled_faces_at_booth_sizes(pools) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    for kind in KINDS:
        for _ in range(10):
            group = compose(kind, pools, rng)
            assert group.image.shape == (FRAME[1], FRAME[0], 3)
            assert 2 <= group.people <= 6 and len(group.boxes) == group.people
            assert all(FACE_PX[0] <= h <= FACE_PX[1] for h in group.face_px)
            odd = [i for i, label in enumerate(group.labels) if label != "smiling"]
            assert odd == ([] if kind == "everyone_smiling" else [group.odd_one])
            for x1, y1, x2, y2 in group.boxes:  # in the 640-wide view, inside it
                assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 360


def test_valid_and_test_frames_draw_on_different_faces(pools) -> None:  # type: ignore[no-untyped-def]
    valid = load_pools("valid")
    assert not set(valid.closed) & set(pools.closed)
    assert not set(valid.smiling) & set(pools.smiling)
    assert len(pools.smiling) > 500 and len(pools.straight) > 300 and len(pools.closed) > 250


def test_closed_eyes_follow_the_one_faces_eyes_split(pools) -> None:  # type: ignore[no-untyped-def]
    """Test frames take the held-back half that every faces-eyes figure reports on; no
    frame of either split shows a face whose eyes the eye CNN trained on."""
    valid = load_pools("valid")
    assert all(is_test(path) for path in pools.closed)
    assert not any(is_test(path) or is_eye_training(path) for path in valid.closed)
    everything = sorted((SHARED / "datasets" / "faces-eyes" / "closed").glob("*.jpg"))
    assert set(pools.closed) == {path for path in everything if is_test(path)}
    assert len(valid.closed) > 100


def test_one_run_of_both_passes_prints_the_table(pools, capsys) -> None:  # type: ignore[no-untyped-def]
    group_decision_eval.main(["--frames", "2", "--clip-s", "1.5"])
    out = capsys.readouterr().out
    for kind in KINDS:
        assert f"{kind}: " in out
        row = next(line for line in out.splitlines() if line.startswith(kind + " "))
        assert row.split()[1] == "2" and row.count("%") == 4  # photo, loop, bar, faces found


def test_smiling_faces_a_person_saw_with_shut_or_hidden_eyes_are_left_out(pools) -> None:  # type: ignore[no-untyped-def]
    labels = read_eye_labels()
    shut = {FERPLUS / name for name, eyes in labels.items() if eyes != "open"}
    seen_open = {FERPLUS / name for name, eyes in labels.items() if eyes == "open"}
    test_shut = {p for p in shut if p.parent.name == "FER2013Test"}
    assert len(test_shut) > 50
    assert not test_shut & set(pools.smiling)
    assert {p for p in seen_open if p.parent.name == "FER2013Test"} <= set(pools.smiling)


def test_an_unknown_eye_label_names_the_file_and_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    labels = tmp_path / "eyes.csv"
    labels.write_text("image,eyes\nFER2013Test/fer1.png,open\nFER2013Test/fer2.png,squint\n")
    with pytest.raises(ValueError, match=r"eyes.csv:3: eyes must be one of open, closed"):
        read_eye_labels(labels)
