"""The int8 mesh converter's parts: the replayed graph equals the bundle's float model, and
the per-face-size gate refuses a file that moves points or flips eye decisions."""

from __future__ import annotations

import numpy as np
import pytest

from convert.face_mesh import BUNDLE, MESH_MEMBER, read_bundle
from convert.face_mesh_int8 import gate_problems, rebuilt
from convert.mesh_reference import CROPS, make_crop
from edge.perception.face_mesh import POINTS, FaceMesh, mesh_roi
from edge.types import Box
from tests.paths import MODELS, require

# read_graph reads the weights through TensorFlow's own (deprecated) interpreter.
DEPRECATED = "ignore:\\s*Warning. tf.lite.Interpreter is deprecated:UserWarning"


@pytest.mark.train
@pytest.mark.filterwarnings(DEPRECATED)
def test_the_replayed_mesh_equals_the_bundle() -> None:
    pytest.importorskip("tensorflow", reason="the train extra is not installed")
    model = read_bundle(require(BUNDLE))[MESH_MEMBER]
    mesh = FaceMesh(MODELS / "face_mesh_float16.tflite", MODELS / "face_blendshapes_float16.tflite")
    crop = make_crop(CROPS[0])
    x = mesh.crop(crop, mesh_roi(Box(63, 65, 191, 193), (100.1, 101.6), (155.3, 105.9), 1.5))
    offset = np.linspace(0, 100, POINTS * 3).astype(np.float32)  # any offset: taken back
    ours = rebuilt(model, offset)(x[None])["landmarks"].numpy().reshape(-1) + offset
    theirs = mesh.mesh.run(x[None])[int(np.argmax([o["shape"][-1] for o in mesh.mesh.outputs]))]
    assert np.abs(ours - theirs).max() < 0.05


def test_the_gate_names_each_size_that_fails() -> None:
    good = {"faces": 40, "mean_point_error_px_in_crop": 0.4, "closed_decision_flips": 0.0}
    bad = {"faces": 40, "mean_point_error_px_in_crop": 4.5, "closed_decision_flips": 0.1}
    assert gate_problems({"72 px": good}) == []
    problems = gate_problems({"72 px": good, "32 px": bad})
    assert len(problems) == 2 and all(p.startswith("32 px") for p in problems)
