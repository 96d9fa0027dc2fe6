"""The hand-labelled WIDER group faces that `evaluate.group_faces_eval` measures on."""

from __future__ import annotations

import pytest

from edge.config import AppConfig
from evaluate.group_faces_eval import WIDER_IMAGES, read_labels, readings, report, split_of
from tests.paths import require


def test_the_labels_name_faces_the_photo_pass_finds() -> None:
    """Every labelled face is found where it was labelled, so the figures are measured on
    all of them, and each half holds faces of both kinds."""
    faces = read_labels()
    require(WIDER_IMAGES / faces[0].photo)
    assert len(faces) == 136
    assert sum(f.eyes_open is True for f in faces) == 94
    assert sum(f.eyes_open is False for f in faces) == 4
    assert sum(f.smiling is True for f in faces) == 78
    assert sum(f.smiling is False for f in faces) == 53
    for part in ("valid", "test"):
        half = [f for f in faces if split_of(f) == part]
        assert any(f.eyes_open for f in half) and any(f.smiling is False for f in half)
    figures = report(faces, readings(AppConfig(), faces))
    # The labels were drawn from the faces the MediaPipe stage found: YuNet's photo pass
    # finds 130 of those 136 (and faces MediaPipe missed, which have no label).
    assert figures["not_found"] <= 6, figures
    read, found = figures["closed_faces_read_as_a_blink"].split("/")
    assert read == found and int(found) >= 3  # every closed face found reads closed


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a/b.jpg,1,2,3,4,half,0,yes", "eyes must be open/closed/empty"),
        ("a/b.jpg,1,2,3,4,open,0,maybe", "smiling yes/no/empty"),
        ("a/b.jpg,1,2,3,4,open,2,", "glasses must be 0 or 1"),
    ],
)
def test_a_bad_label_names_its_line(tmp_path, row: str, message: str) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(f"photo,x1,y1,x2,y2,eyes,glasses,smiling\n{row}\n")
    with pytest.raises(ValueError, match=rf"labels.csv:2: .*{message}"):
        read_labels(path)
