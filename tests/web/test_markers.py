"""The operator's live view at group sizes: one numbered marker per face, none overlapping,
on real detections (the shipped detector on crowd_1080p and on a photo of 25 people) and on
the densest layout a booth can show (24 faces side by side).

Set SMILEBOOTH_SCREENSHOTS=docs/screenshots to save the annotated group photo for the guide.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.config import default_config
from edge.io.sources.base import resize_to_width
from edge.io.video import video_frames
from edge.perception.pipeline import build_pipeline
from edge.types import Box, SmoothedFace
from edge.web.markers import Rect, draw_markers, marker_radius
from tests.paths import MEDIA, require

LIVE_WIDTH = 640  # the loop's model image, which the live view draws on


@pytest.fixture(scope="module")
def pipeline():  # type: ignore[no-untyped-def]
    return build_pipeline(default_config())


def annotate(image: np.ndarray, boxes: list[Box]) -> tuple[np.ndarray, list[Rect]]:
    faces = [
        SmoothedFace(i, 0.9 if i % 3 else 0.2, 2.0 if i % 4 else 0.5) for i in range(len(boxes))
    ]
    drawn = image.copy()
    rects = draw_markers(drawn, boxes, faces, list(range(1, len(boxes) + 1)), holding_back=2)
    return drawn, rects


def assert_readable(image: np.ndarray, rects: list[Rect], faces: int) -> None:
    height, width = image.shape[:2]
    assert len(rects) == faces
    for a, b in itertools.combinations(rects, 2):
        assert not a.overlaps(b), (a, b)
    for rect in rects:
        assert rect.x1 >= 0 and rect.x2 <= width and rect.y1 >= 0 and rect.y2 <= height


def live_frame(image: np.ndarray) -> np.ndarray:
    return resize_to_width(image, LIVE_WIDTH)


def test_markers_on_the_crowd_video_do_not_overlap(pipeline) -> None:  # type: ignore[no-untyped-def]
    _, frame = next(iter(video_frames(require(MEDIA / "video" / "crowd_1080p.mp4"), 1)))
    image = live_frame(frame)
    boxes = [face.face.box for face in pipeline.process(image).faces]
    assert boxes, "the detector found no face on the crowd frame"
    drawn, rects = annotate(image, boxes)
    assert_readable(drawn, rects, len(boxes))


def test_markers_on_a_group_of_25_do_not_overlap(pipeline) -> None:  # type: ignore[no-untyped-def]
    photo = cv2.imread(str(require(MEDIA / "faces-dlib" / "bald_guys.jpg")))
    image = live_frame(photo)
    boxes = [face.face.box for face in pipeline.process(image).faces]
    assert len(boxes) >= 20, f"the detector found {len(boxes)} of the 25 faces"
    drawn, rects = annotate(image, boxes)
    assert_readable(drawn, rects, len(boxes))
    folder = os.environ.get("SMILEBOOTH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(Path(folder) / "live-markers-group.jpg"), drawn)


def test_24_faces_side_by_side_on_a_crowd_frame_get_24_separate_markers() -> None:
    """The densest case: a 6x4 block of touching faces, no room above most of them."""
    _, frame = next(iter(video_frames(require(MEDIA / "video" / "crowd_1080p.mp4"), 1)))
    image = live_frame(frame)
    side = 40
    boxes = [
        Box(100 + col * side, 60 + row * side, 100 + (col + 1) * side, 60 + (row + 1) * side)
        for row in range(4)
        for col in range(6)
    ]
    drawn, rects = annotate(image, boxes)
    assert_readable(drawn, rects, 24)
    radius = marker_radius(*image.shape[1::-1])
    assert all(round(r.x2 - r.x1) == 2 * radius for r in rects)
