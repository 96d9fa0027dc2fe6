"""evaluate.smile_sizes_eval's faces: cut from the model's frame, or from a larger camera
frame when the crop would be enlarged (as edge.perception.crop.crop_face_in_detail does)."""

from __future__ import annotations

import numpy as np

from edge.perception.crop import CROP_SIZE
from evaluate.smile_sizes_eval import at_size


def test_a_small_face_from_the_camera_frame_keeps_its_detail() -> None:
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (CROP_SIZE, CROP_SIZE), dtype=np.uint8)  # fine detail
    small = at_size(face, 24, False, rng)
    from_camera = at_size(face, 24, False, rng, full_frame=3.0)
    assert small.shape == from_camera.shape == (CROP_SIZE, CROP_SIZE)
    error = lambda crop: float(np.abs(crop.astype(int) - face).mean())  # noqa: E731
    assert error(from_camera) < error(small) / 2
    # a face the crop does not enlarge is cut from the model's frame either way
    assert np.array_equal(at_size(face, 72, False, rng), at_size(face, 72, False, rng, 3.0))
