"""The crop rule that training and the device share."""

from __future__ import annotations

import numpy as np
import pytest

from edge.perception.crop import (
    CROP_CENTER_SHIFT_Y,
    CROP_EXPANSION,
    CROP_SIZE,
    crop_face,
    crop_face_in_detail,
    crop_square,
    to_gray,
)
from edge.types import Box


def test_crop_square_is_centred_and_expanded() -> None:
    square = crop_square(Box(10, 20, 50, 100))
    assert square.width == pytest.approx(80 * CROP_EXPANSION)
    assert square.height == pytest.approx(square.width)
    assert square.center == pytest.approx((30, 60 + CROP_CENTER_SHIFT_Y * 80))


@pytest.mark.parametrize(
    "box",
    [Box(100, 100, 140, 150), Box(-30, -30, 60, 60), Box(0, 0, 600, 400), Box(590, 390, 700, 500)],
)
def test_crop_has_the_model_shape_wherever_the_box_is(box: Box) -> None:
    gray = np.random.default_rng(0).integers(0, 255, (400, 600), dtype=np.uint8)
    crop = crop_face(gray, box)
    assert crop.shape == (CROP_SIZE, CROP_SIZE)
    assert crop.dtype == np.uint8


def test_crop_takes_the_pixels_inside_the_square() -> None:
    gray = np.zeros((400, 400), np.uint8)
    gray[100:200, 100:200] = 200  # a bright square reaching into the box's top-left
    crop = crop_face(gray, Box(150, 150, 250, 250))
    quarter = CROP_SIZE // 4
    assert crop[:quarter, :quarter].min() == 200  # the box's top-left corner region
    assert crop[-quarter:, -quarter:].max() == 0  # its bottom-right: nothing bright


def test_to_gray_accepts_gray_bgr_bgra_and_rejects_the_rest() -> None:
    assert to_gray(np.zeros((4, 5), np.uint8)).shape == (4, 5)
    assert to_gray(np.zeros((4, 5, 3), np.uint8)).shape == (4, 5)
    assert to_gray(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5)
    with pytest.raises(ValueError, match="shape"):
        to_gray(np.zeros((4, 5, 2), np.uint8))


def test_a_small_face_is_cut_from_the_full_resolution_frame() -> None:
    """A face 30 px high in the model's frame, its camera frame 3x larger: the crop cut
    there matches the crop of the sharp face (the camera frame read whole) far better than
    the enlarged 30 px one; a big face is left to the model's frame."""
    import cv2

    from edge.types import Detail
    from tests.paths import ROOT

    astronaut = cv2.imread(str(ROOT / "samples" / "astronaut.jpg"))
    camera = np.full((1080, 1920, 3), 128, np.uint8)
    camera[300:600, 900:1200] = cv2.resize(astronaut[0:300, 100:400], (300, 300))
    view = cv2.resize(camera, (640, 360), interpolation=cv2.INTER_AREA)
    box = Box(310, 110, 390, 190)  # in the view: 80 px, so its square is over the crop
    small = Box(330, 130, 360, 160)  # 30 px
    detail = Detail.of(camera, (3.0, 3.0))
    assert crop_face_in_detail(detail, box) is None
    sharp = crop_face(to_gray(camera), small.scale(3.0, 3.0)).astype(float)
    from_detail = crop_face_in_detail(detail, small)
    assert from_detail is not None and from_detail.shape == (CROP_SIZE, CROP_SIZE)
    enlarged = crop_face(to_gray(view), small).astype(float)
    assert np.abs(from_detail - sharp).mean() < 0.5
    assert np.abs(enlarged - sharp).mean() > 3 * np.abs(from_detail - sharp).mean()
