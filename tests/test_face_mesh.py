"""The mesh stage against MediaPipe's own Face Landmarker, output by output.

`tests/data/face_mesh_reference.npz` holds what the `mediapipe` wheel (0.10.14) returned on
real 256x256 face crops (`convert/mesh_reference.py`, run in its own venv): the 478 points,
the 52 blendshapes and the detection its landmarker started from. The crops are remade here
with the same code; crops from ../shared are skipped where it is absent (the astronaut is
in samples/).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from convert.face_mesh import BundleError, read_bundle
from convert.mesh_reference import CROPS, make_crop
from edge.perception.face_mesh import BLENDSHAPE_NAMES, FaceMesh, mesh_roi
from edge.types import Box
from tests.paths import MODELS, ROOT

REFERENCE = ROOT / "tests" / "data" / "face_mesh_reference.npz"
MESH = MODELS / "face_mesh_float16.tflite"
BLEND = MODELS / "face_blendshapes_float16.tflite"


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh(MESH, BLEND)


def _crops(reference: dict[str, np.ndarray]) -> list[tuple[int, np.ndarray]]:
    found = []
    for row, index in enumerate(reference["crop_index"]):
        spec = CROPS[int(index)]
        if (ROOT / spec.image).exists():
            found.append((row, make_crop(spec)))
    return found


def test_blendshape_names_and_order_are_mediapipes(reference: dict[str, np.ndarray]) -> None:
    assert [str(n) for n in reference["blendshape_names"]] == list(BLENDSHAPE_NAMES)


def test_blendshapes_from_mediapipes_points_match_its_blendshapes(
    mesh: FaceMesh, reference: dict[str, np.ndarray]
) -> None:
    """The subset, its order and the coordinates (image pixels): MediaPipe's own points
    (stored to 1/8 px) must give back its own scores."""
    for row in range(len(reference["crop_index"])):
        points = reference["landmarks"][row].astype(np.float32)
        got = mesh.blendshapes(points)
        np.testing.assert_allclose(got, reference["blendshapes"][row], atol=0.01)


def test_mesh_on_the_same_crops_matches_mediapipe(
    mesh: FaceMesh, reference: dict[str, np.ndarray]
) -> None:
    """Fed the detection MediaPipe's landmarker started from (its box is rounded to whole
    pixels, hence the tolerance): points within 0.5 px on average of a 256 px crop, 1.5 px
    at most; every blendshape within 0.1, the eyes' within 0.08."""
    crops = _crops(reference)
    assert crops, "the astronaut crop is always there"
    eyes = [BLENDSHAPE_NAMES.index(n) for n in BLENDSHAPE_NAMES if n.startswith("eye")]
    for row, crop in crops:
        assert abs(float(crop.mean()) - float(reference["crop_mean"][row])) < 0.1
        box = Box(*(float(v) for v in reference["detector_box"][row]))
        right, left = (tuple(float(v) for v in p) for p in reference["detector_eyes"][row])
        result = mesh.read(crop, box, right, left)
        error = np.linalg.norm(result.points - reference["landmarks"][row], axis=1)
        assert error.mean() < 0.5 and error.max() < 1.5, (row, error.mean(), error.max())
        assert result.presence > 0.9
        difference = np.abs(result.blendshapes - reference["blendshapes"][row])
        assert difference.max() < 0.1, (row, BLENDSHAPE_NAMES[int(difference.argmax())])
        assert difference[eyes].max() < 0.08


def test_the_crop_rule_follows_a_turned_head(
    mesh: FaceMesh, reference: dict[str, np.ndarray]
) -> None:
    """The same face turned 25 degrees in the frame: the eye line turns the square with it,
    so the mesh comes back turned with the face (within 1.5 px on average)."""
    crop = make_crop(CROPS[0])
    box = Box(*(float(v) for v in reference["detector_box"][0]))
    right, left = (tuple(float(v) for v in p) for p in reference["detector_eyes"][0])
    upright = mesh.read(crop, box, right, left)
    turn = cv2.getRotationMatrix2D((128.0, 128.0), 25.0, 1.0)
    turned_image = cv2.warpAffine(crop, turn, (256, 256), borderMode=cv2.BORDER_REPLICATE)

    def move(p: tuple[float, ...]) -> tuple[float, float]:
        x, y = turn @ np.array([p[0], p[1], 1.0])
        return float(x), float(y)

    cx, cy = move(box.center)
    half = box.width / 2
    turned = mesh.read(
        turned_image, Box(cx - half, cy - half, cx + half, cy + half), move(right), move(left)
    )
    expected = upright.points @ turn[:, :2].T + turn[:, 2]
    error = np.linalg.norm(turned.points - expected, axis=1)
    assert error.mean() < 1.5
    before = mesh_roi(box, right, left, 1.5).angle
    after = mesh_roi(box, move(right), move(left), 1.5).angle
    assert after - before == pytest.approx(-math.radians(25), abs=1e-3)


def test_no_face_has_low_presence(mesh: FaceMesh) -> None:
    wall = np.full((256, 256, 3), 128, np.uint8)
    result = mesh.read(wall, Box(64, 64, 192, 192), (100.0, 110.0), (156.0, 110.0))
    assert result.presence < 0.5


def test_another_file_as_the_bundle_is_refused(tmp_path) -> None:
    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"not the bundle")
    with pytest.raises(BundleError, match=r"is not the official face_landmarker\.task"):
        read_bundle(fake)
