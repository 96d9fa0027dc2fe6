"""The crop rule that training and the device share."""

from __future__ import annotations

import numpy as np
import pytest

from edge.perception.crop import (
    CROP_CENTER_SHIFT_Y,
    CROP_EXPANSION,
    CROP_SIZE,
    crop_face,
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
