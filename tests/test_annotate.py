"""`score --annotate`: each face's label sits where it can be read in a big group."""

from __future__ import annotations

import cv2

from edge.annotate import annotate, place_labels
from edge.config import AppConfig
from edge.perception.pipeline import build_pipeline
from edge.types import Box
from evaluate.eyes_real import GROUP_PHOTO
from tests.paths import require

LABEL = (120, 14)  # a label's width and height, px


def _rect(spot: tuple[int, int]) -> tuple[int, int, int, int]:
    x, y = spot
    return x, y - LABEL[1], x + LABEL[0], y


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_labels_of_faces_side_by_side_do_not_print_over_each_other() -> None:
    # Five faces 40 px apart in a row: labels 120 px wide cannot all sit above them.
    boxes = [Box(100 + 40 * k, 200, 135 + 40 * k, 240) for k in range(5)]
    spots = place_labels(boxes, [LABEL] * 5, (480, 640))
    rects = [_rect(s) for s in spots]
    for i, a in enumerate(rects):
        assert all(not _overlap(a, b) for b in rects[i + 1 :]), rects
        assert a[0] >= 0 and a[2] <= 640 and a[1] >= 0 and a[3] <= 480


def test_a_label_goes_above_its_face_and_keeps_off_other_faces_where_there_is_room() -> None:
    lone = place_labels([Box(300, 200, 340, 240)], [LABEL], (480, 640))
    assert _rect(lone[0])[3] <= 200  # above the box
    # A face right above another: the lower face's label goes below its own box.
    boxes = [Box(300, 150, 340, 190), Box(300, 200, 340, 240)]
    spots = place_labels(boxes, [LABEL] * 2, (480, 640))
    assert not _overlap(_rect(spots[1]), (300, 150, 340, 190))
    assert not _overlap(_rect(spots[0]), _rect(spots[1]))


def test_labels_near_the_edges_stay_in_the_image_and_off_reserved_areas() -> None:
    spots = place_labels(
        [Box(600, 5, 639, 45), Box(0, 30, 40, 70)], [LABEL] * 2, (480, 640), [(0, 0, 200, 28)]
    )
    for spot in spots:
        x1, y1, x2, y2 = _rect(spot)
        assert x1 >= 0 and x2 <= 640 and y1 >= 0 and y2 <= 480
    assert not _overlap(_rect(spots[1]), (0, 0, 200, 28))


def test_the_six_person_photo_is_annotated() -> None:
    image = cv2.imread(str(require(GROUP_PHOTO)))
    result = build_pipeline(AppConfig()).process(image)
    drawn = annotate(image, result)
    assert drawn.shape == image.shape and (drawn != image).any()
    assert len(result.faces) == 6
