"""eyes.reader cnn+mesh (the default): the eye CNN first, the face mesh where the CNN is not
sure a face is open. Real models on real footage."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from edge.config import AppConfig
from edge.io.video import video_frames
from edge.perception.pipeline import Pipeline, build_pipeline
from edge.perception.screened_eyes import ScreenedEyeReader
from edge.types import FrameResult
from evaluate.eyes_real import BLINK_VIDEO, GROUP_PHOTO, read_blink_labels
from tests.paths import ROOT, require

ASTRONAUT = ROOT / "samples" / "astronaut.jpg"


@pytest.fixture()
def pipeline() -> Pipeline:
    config = AppConfig()
    assert config.eyes.reader == "cnn+mesh"  # the default
    return build_pipeline(config)


def reader_of(pipeline: Pipeline) -> ScreenedEyeReader:
    reader = pipeline.parts.eyes
    assert isinstance(reader, ScreenedEyeReader)
    return reader


def test_a_face_the_cnn_is_sure_of_is_not_handed_to_the_mesh(pipeline: Pipeline) -> None:
    (face,) = pipeline.process(cv2.imread(str(ASTRONAUT))).faces
    reader = reader_of(pipeline)
    assert face.eyes_open == 2
    assert face.eye_open_probability is not None
    assert max(face.eye_open_probability) >= pipeline.parts.eyes_config.sure_open
    assert (reader.reads, reader.mesh_reads) == (1, 0)
    assert face.mesh is None


def test_a_blink_is_read_closed_by_the_mesh(pipeline: Pipeline) -> None:
    labels = read_blink_labels()
    closed = int(np.flatnonzero(labels.closed & ~labels.transition)[0])
    frame = next(f for i, f in video_frames(require(BLINK_VIDEO)) if i == closed)
    (face,) = pipeline.process(frame).faces
    assert reader_of(pipeline).mesh_reads == 1
    assert face.mesh is not None
    assert face.eyes_open == 0


def test_laughing_eyes_the_cnn_reads_closed_are_read_open(pipeline: Pipeline) -> None:
    """The six-person photo: the CNN alone reads two narrowed, smiling eyes closed
    (tests/test_eyes.py's strict xfail); the mesh is asked about the faces the CNN does not
    read as two open eyes and reads all twelve open."""
    image = cv2.imread(str(require(GROUP_PHOTO)))
    faces = pipeline.process(image).faces
    reader = reader_of(pipeline)
    assert len(faces) == 6
    assert 0 < reader.mesh_reads < len(faces)
    assert [face.eyes_open for face in faces] == [2] * 6


def test_sure_open_1_hands_every_face_to_the_mesh() -> None:
    config = AppConfig()
    config = dataclasses.replace(config, eyes=dataclasses.replace(config.eyes, sure_open=1.0))
    pipeline = build_pipeline(config)
    (face,) = pipeline.process(cv2.imread(str(ASTRONAUT))).faces
    assert reader_of(pipeline).mesh_reads == 1
    assert face.mesh is not None and face.eyes_open == 2


def test_the_live_page_draws_the_mesh_of_faces_the_mesh_read(pipeline: Pipeline) -> None:
    """The live view's frame (edge.web.live) carries the mesh's outlines on a face read by
    the mesh (a blink) and none on a face the CNN alone read (the astronaut)."""
    from edge.config.decide import TrackingConfig
    from edge.decide.burst import ScoredFrame
    from edge.decide.explain import Explanation
    from edge.decide.tracking import Tracker
    from edge.io.image_io import decode_image
    from edge.io.sources.base import Frame
    from edge.loop import LoopView
    from edge.web.live import LiveView

    labels = read_blink_labels()
    closed = int(np.flatnonzero(labels.closed & ~labels.transition)[0])
    blink = next(f for i, f in video_frames(require(BLINK_VIDEO)) if i == closed)

    def drawn(result: FrameResult, image: np.ndarray) -> np.ndarray:
        tracked = Tracker(TrackingConfig()).update(result)
        scored = ScoredFrame(Frame(image, 0, 0.0), tracked, result.group)
        view = LoopView(scored, None, None, 0.0, False, 10.0, None)  # type: ignore[arg-type]
        live = LiveView(width=image.shape[1], quality=95)
        decoded = decode_image(live._draw(view, Explanation("ready", ""))).image
        assert decoded is not None
        return decoded.astype(int)

    def mesh_pixels(image: np.ndarray) -> int:
        """Pixels the mesh changes: the page drawn with the result, and without its meshes."""
        result = pipeline.process(image)
        bare = [dataclasses.replace(face, mesh=None) for face in result.faces]
        without = drawn(dataclasses.replace(result, faces=tuple(bare)), image)
        return int((np.abs(drawn(result, image) - without).max(axis=2) > 40).sum())

    assert mesh_pixels(blink) > 200
    assert mesh_pixels(cv2.imread(str(ASTRONAUT))) < 20
