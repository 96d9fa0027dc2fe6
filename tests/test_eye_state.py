"""Eye state from the face mesh, through the real pipeline and models (eyes.reader: mesh)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from edge.annotate import annotate
from edge.config import AppConfig
from edge.io.serialize import frame_to_dict
from edge.io.video import video_frames
from edge.perception.eye_state import (
    DEFAULT_RULE,
    EyeRule,
    count_open_eyes,
    eye_openness,
    open_values,
)
from edge.perception.face_mesh import POINTS
from edge.perception.pipeline import Pipeline, build_pipeline
from edge.types import Detail
from evaluate.eyes_real import BLINK_VIDEO, read_blink_labels
from tests.paths import ROOT, require

ASTRONAUT = ROOT / "samples" / "astronaut.jpg"


def mesh_config() -> AppConfig:
    config = AppConfig()
    return dataclasses.replace(config, eyes=dataclasses.replace(config.eyes, reader="mesh"))


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return build_pipeline(mesh_config())


def test_open_eyes_read_open_with_the_mesh_on_the_face(pipeline: Pipeline) -> None:
    image = cv2.imread(str(ASTRONAUT))
    (face,) = pipeline.process(image).faces
    assert face.eyes_open == 2
    assert face.eye_open_probability is not None
    assert all(0.7 < v <= 1.0 for v in face.eye_open_probability)
    assert face.mesh is not None and face.mesh.points.shape == (POINTS, 2)
    box = face.face.box
    inside = (
        (face.mesh.points[:, 0] > box.x1 - box.width * 0.3)
        & (face.mesh.points[:, 0] < box.x2 + box.width * 0.3)
        & (face.mesh.points[:, 1] > box.y1 - box.height * 0.5)
        & (face.mesh.points[:, 1] < box.y2 + box.height * 0.3)
    )
    assert inside.all()


def test_mesh_in_the_json_only_on_request(pipeline: Pipeline) -> None:
    result = pipeline.process(cv2.imread(str(ASTRONAUT)))
    assert "mesh" not in frame_to_dict(result)["faces"][0]
    mesh = frame_to_dict(result, mesh=True)["faces"][0]["mesh"]
    assert len(mesh["points"]) == POINTS and len(mesh["points"][0]) == 2
    assert set(mesh["blendshapes"]) >= {"eyeBlinkLeft", "eyeSquintRight", "mouthSmileLeft"}
    assert mesh["presence"] > 0.9


def test_annotate_draws_the_mesh(pipeline: Pipeline) -> None:
    image = cv2.imread(str(ASTRONAUT))
    result = pipeline.process(image)
    without = dataclasses.replace(
        result, faces=tuple(dataclasses.replace(f, mesh=None) for f in result.faces)
    )
    drawn, plain = annotate(image, result), annotate(image, without)
    face = result.faces[0]
    assert face.mesh is not None
    x, y = np.round(face.mesh.points[159]).astype(int)  # the right eye's upper lid
    around = (slice(y - 3, y + 4), slice(x - 3, x + 4))
    assert np.abs(drawn[around].astype(int) - plain[around]).sum() > 0


def test_a_small_face_is_read_from_the_full_resolution_frame(pipeline: Pipeline) -> None:
    """The 640 px frame's face is small; with the 4x frame as detail, the mesh is cut
    there and its points come back in the small frame's pixels."""
    big = cv2.imread(str(ASTRONAUT))
    frame = np.full((480, 640, 3), 120, np.uint8)
    frame[100:356, 200:456] = cv2.resize(big, (256, 256), interpolation=cv2.INTER_AREA)
    detail_image = cv2.resize(frame, (2560, 1920), interpolation=cv2.INTER_LINEAR)
    detail_image[400:1424, 800:1824] = cv2.resize(big, (1024, 1024))
    (small,) = pipeline.process(frame).faces
    (sharp,) = pipeline.process(frame, Detail.of(detail_image, (4.0, 4.0))).faces
    assert small.mesh is not None and sharp.mesh is not None
    distance = np.linalg.norm(small.mesh.points - sharp.mesh.points, axis=1)
    assert np.median(distance) < 1.5
    assert sharp.eyes_open == 2


def test_blink_frames_read_closed_and_open_frames_open(pipeline: Pipeline) -> None:
    labels = read_blink_labels()
    closed = int(np.flatnonzero(labels.closed & ~labels.transition)[0])
    opened = int(np.flatnonzero(~labels.closed & ~labels.transition)[0])
    frames = {i: f for i, f in video_frames(require(BLINK_VIDEO)) if i in (closed, opened)}
    assert pipeline.process(frames[closed]).faces[0].eyes_open == 0
    assert pipeline.process(frames[opened]).faces[0].eyes_open == 2


def test_the_rule_reads_a_face_closed_only_when_both_eyes_are_on_average() -> None:
    rule = EyeRule(((32.0, 0.6), (192.0, 0.7)), squint_weight=0.0)
    assert rule.threshold(20) == 0.6 and rule.threshold(400) == 0.7
    assert 0.6 < rule.threshold(80) < 0.7
    assert count_open_eyes((0.9, 0.35), 0.6) == 1  # a wink: the face still reads open
    assert count_open_eyes((0.73, 0.63), 0.64) == 2  # one eye's noise is not a wink
    assert count_open_eyes((0.7, 0.4), 0.6) == 0
    assert count_open_eyes((0.9, 0.8), 0.6) == 2
    for openness in ((0.9, 0.35), (0.73, 0.63), (0.7, 0.4), (0.9, 0.8), (0.95, 0.3)):
        values = open_values(openness, 0.64)
        assert sum(v > 0.5 for v in values) == count_open_eyes(openness, 0.64)
    squinting = eye_openness(0.5, 0.5, 0.8, 0.8, EyeRule(squint_weight=0.5))
    assert squinting == pytest.approx((0.9, 0.9))
    assert DEFAULT_RULE.thresholds


def test_swapped_mesh_models_are_refused_by_name() -> None:
    from edge.perception.face_mesh import FaceMesh
    from edge.perception.model_card import ModelCardError

    models = ROOT / "models"
    with pytest.raises(ModelCardError, match=r"face_blendshapes_float16\.tflite: input shape"):
        FaceMesh(models / "face_blendshapes_float16.tflite", models / "face_mesh_float16.tflite")


def test_score_without_the_mesh_model_says_which_file(tmp_path) -> None:
    import subprocess
    import sys

    config = tmp_path / "config.yaml"
    config.write_text(f"eyes:\n  reader: mesh\n  mesh_model: {tmp_path / 'gone.tflite'}\n")
    run = subprocess.run(
        [sys.executable, "-m", "edge", "score", str(ASTRONAUT), "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "gone.tflite" in run.stderr and "Traceback" not in run.stderr
