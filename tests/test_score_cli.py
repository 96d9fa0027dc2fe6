"""`smilebooth score` end to end: real photos, the shipped models, bad files."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import cv2
import pytest

from edge import exit_codes
from edge.perception.labels import EMOTIONS
from tests.paths import FACE_MODEL, FERPLUS, MEDIA, ROOT, SMILE_MODEL, require


def run_score(*args: str) -> subprocess.CompletedProcess[str]:
    require(SMILE_MODEL)
    require(FACE_MODEL)
    return subprocess.run(
        [sys.executable, "-m", "edge.cli", "score", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_json_lines_carry_the_documented_fields(tmp_path) -> None:
    photos = require(MEDIA / "faces-dlib")
    result = run_score(str(photos / "2008_002506.jpg"), str(photos / "dogs.jpg"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == [
        str(photos / "2008_002506.jpg"),
        str(photos / "dogs.jpg"),
    ]
    people, dogs = lines
    assert len(people["faces"]) >= 3
    assert 0.0 <= people["group"]["score"] <= 1.0
    assert people["group"]["faces"] == len(people["faces"])
    for face in people["faces"]:
        x1, y1, x2, y2 = face["box"]
        assert 0 <= x1 < x2 <= people["width"] and 0 <= y1 < y2 <= people["height"]
        assert isinstance(face["smiling"], bool)
        assert 0.0 <= face["smile_probability"] <= 1.0
        assert list(face["emotions"]) == list(EMOTIONS)
        assert sum(face["emotions"].values()) == pytest.approx(1.0, abs=1e-3)
        assert face["eyes_open"] in (0, 1, 2)
        probabilities = face["eye_open_probability"]
        assert list(probabilities) == ["right", "left"]
        assert face["eyes_open"] == sum(p > 0.5 for p in probabilities.values())
    assert dogs["faces"] == []
    assert dogs["group"]["score"] is None


def test_bad_files_are_reported_and_the_rest_still_scored(tmp_path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(require(SMILE_MODEL.parent.parent / "samples" / "astronaut.jpg"), folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    (folder / "notes.txt").write_text("not an image")  # not an image suffix: not picked up
    missing = tmp_path / "missing.png"
    result = run_score(str(folder), str(missing))
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(folder / "a.jpg")]
    assert len(lines[0]["faces"]) == 1
    assert f"{folder / 'b.jpg'}: skipped: not a readable image" in result.stderr
    assert f"{missing}: skipped: no such file" in result.stderr


def test_crops_mode_scores_fer_faces_without_detection(tmp_path) -> None:
    folder = require(FERPLUS) / "FER2013Test"
    with (folder / "label.csv").open() as handle:
        rows = list(csv.reader(handle))
    happy = next(r[0] for r in rows if r[3] == "10")  # 10 of 10 voted happiness
    neutral = next(r[0] for r in rows if r[2] == "10")  # 10 of 10 voted neutral
    result = run_score("--crops", str(folder / happy), str(folder / neutral))
    assert result.returncode == 0, result.stderr
    smiling, calm = (json.loads(line) for line in result.stdout.splitlines())
    assert smiling["faces"][0]["box"] == [0, 0, 48, 48]
    assert smiling["faces"][0]["smiling"] and not calm["faces"][0]["smiling"]
    assert smiling["group"]["score"] > calm["group"]["score"]


def test_annotate_writes_one_image_per_input(tmp_path) -> None:
    sample = ROOT / "samples" / "astronaut.jpg"
    result = run_score("--annotate", str(tmp_path / "out"), str(sample))
    assert result.returncode == 0, result.stderr
    drawn = cv2.imread(str(tmp_path / "out" / "astronaut.jpg"))
    original = cv2.imread(str(sample))
    assert drawn.shape == original.shape
    assert (cv2.absdiff(drawn, original) > 40).sum() > 500  # boxes and text were drawn


def test_each_line_says_whether_the_booth_would_fire_and_why_not() -> None:
    """`ready` is the trigger rule on the one photo; `held_by` is the face (its index in
    `faces`) that holds the shutter back, `message` the page's words for it."""
    photos = require(MEDIA / "faces-dlib")
    names = ("2009_004587.jpg", "2008_002506.jpg", "dogs.jpg")
    result = run_score(*(str(photos / name) for name in names))
    assert result.returncode == 0, result.stderr
    both_smile, one_straight, dogs = (json.loads(line) for line in result.stdout.splitlines())
    assert both_smile["ready"] is True and both_smile["held_by"] is None
    assert both_smile["message"] == "Looking good!"
    assert all(face["smiling"] for face in both_smile["faces"])
    # the average is over the threshold, but one face is not smiling: the booth waits
    assert one_straight["group"]["score"] >= 0.7 and one_straight["ready"] is False
    assert one_straight["reason"] == "not_smiling"
    assert one_straight["faces"][one_straight["held_by"]]["smiling"] is False
    assert one_straight["message"] == "Not everyone is smiling yet."
    assert (dogs["ready"], dogs["reason"], dogs["message"]) == (
        False,
        "no_faces",
        "Nobody in view yet.",
    )


def test_rule_score_fires_on_the_average(tmp_path) -> None:
    photos = require(MEDIA / "faces-dlib")
    config = tmp_path / "config.yaml"
    config.write_text("trigger: {rule: score}\n")
    result = run_score(str(photos / "2008_002506.jpg"), "--config", str(config))
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["ready"] is True and line["reason"] == "ready"


def test_mesh_on_request_for_every_face_without_changing_the_eyes(tmp_path) -> None:
    """cnn+mesh reads the astronaut's eyes with the CNN alone; --mesh reads the mesh for
    the JSON anyway, and the eye state is the same as without it."""
    photo = str(ROOT / "samples" / "astronaut.jpg")
    plain = run_score(photo)
    with_mesh = run_score(photo, "--mesh")
    assert plain.returncode == with_mesh.returncode == 0, with_mesh.stderr
    (face,) = json.loads(plain.stdout)["faces"]
    (meshed,) = json.loads(with_mesh.stdout)["faces"]
    assert "mesh" not in face
    assert len(meshed["mesh"]["points"]) == 478 and len(meshed["mesh"]["blendshapes"]) == 52
    assert meshed["eyes_open"] == face["eyes_open"] == 2
    assert meshed["eye_open_probability"] == face["eye_open_probability"]
    config = tmp_path / "cnn.yaml"
    config.write_text("eyes:\n  reader: cnn\n")
    refused = run_score(photo, "--mesh", "--config", str(config))
    assert refused.returncode == exit_codes.CONFIG
    assert "--mesh: needs eyes.reader mesh or cnn+mesh" in refused.stderr
    assert refused.stdout == "" and "Traceback" not in refused.stderr
