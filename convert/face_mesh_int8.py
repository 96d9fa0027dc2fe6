"""`smilebooth convert face-mesh --int8`: the mesh model (float16 in the bundle) rebuilt
from its own ops and quantized to full int8, gated per face size against the float file.

Rebuild: `convert.tflite_graph` replays the 471 ops (float16 weights read as float32);
the rebuilt graph must give the bundle's points within REBUILD_TOLERANCE px.
Landmark head: the 1,434 outputs are crop pixels 0-256; one int8 scale over that range
is a 1 px step. The head's bias is moved by the mean face (`landmark_offset`, in the card;
the edge stage adds it back), so the int8 output only spans each point's spread.
Calibration: mesh crops cut by the project's own detector and crop rule from faces-eyes
Valid faces pasted at 32-192 px (never the Test half), with percentile-clipped ranges.
Gate (`parity`): on other Valid faces at each size, the int8 points against the float
file's (mean px in the 256 crop) and eye-state agreement; a size over its bound stops
the conversion, and the file stays out of models/.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.face_mesh import MESH_MEMBER, mesh_card, read_bundle
from edge.config.perception import DetectorConfig
from edge.perception.eye_state import DEFAULT_RULE, count_open_eyes, mesh_openness
from edge.perception.face_detector import FaceDetector
from edge.perception.face_mesh import MESH_SIZE, POINTS, FaceMesh, mesh_roi
from edge.perception.model_card import write_card

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
INT8_FILE = "face_mesh_int8.tflite"
REBUILD_TOLERANCE = 0.05  # px in the 256 crop
CALIBRATION_SIZES = (32, 48, 72, 120, 192)
GATE_SIZES = (32, 48, 72, 192)
# The most the int8 file may differ from the float one, per face size: mean point error in
# the 256 px crop, and the share of faces whose eyes_open changes.
MAX_POINT_ERROR = 1.5
MAX_EYE_FLIPS = 0.03


def face_crops(sizes: tuple[int, ...], part: str, count: int, seed: int) -> list[tuple]:
    """(size, open?, frame, box, right eye, left eye) of faces-eyes faces of `part` pasted
    at each size and found by the project's detector."""
    from evaluate.mesh_eyes_eval import DATA, background, faces, is_test, paste

    items = [f for f in faces(DATA) if is_test(f[0]) == (part == "test")]
    rng = np.random.default_rng(seed)
    chosen = [items[i] for i in rng.choice(len(items), min(count, len(items)), replace=False)]
    detector = FaceDetector(DetectorConfig(), root=ROOT)
    base = background()
    found = []
    for n, (path, is_open) in enumerate(chosen):
        size = sizes[n % len(sizes)]
        image = cv2.imread(str(path))
        if image is None:
            continue
        frame, truth = paste(image, size, path, base)
        hits = [f for f in detector.detect(frame) if f.box.iou(truth) > 0.3 and f.keypoints]
        if hits:
            k = hits[0].keypoints
            assert k is not None
            found.append((size, is_open, frame, hits[0].box, k.right_eye, k.left_eye))
    return found


def mesh_inputs(float_mesh: FaceMesh, crops: list[tuple]) -> list[np.ndarray]:
    """The float model's input for each face: (1, 256, 256, 3) RGB 0-1."""
    return [
        float_mesh.crop(frame, mesh_roi(box, right, left, float_mesh.scale))[None]
        for _, _, frame, box, right, left in crops
    ]


def rebuilt(model: bytes, offset: np.ndarray) -> Any:
    """The float graph replayed in TensorFlow, the landmark head's bias moved by `offset`."""
    import dataclasses

    import tensorflow as tf

    from convert.tflite_graph import read_graph, replay

    graph = read_graph(model)
    names = graph.output_names
    head = next(op for op in graph.ops if op.outputs[0] == graph.outputs[names.index("Identity")])
    constants = dict(graph.constants)
    constants[head.inputs[2]] = constants[head.inputs[2]] - offset.astype(np.float32)
    graph = dataclasses.replace(graph, constants=constants)
    at_points, at_presence = names.index("Identity"), names.index("Identity_1")

    @tf.function(input_signature=[tf.TensorSpec([1, MESH_SIZE, MESH_SIZE, 3], tf.float32)])
    def mesh(image: Any) -> dict[str, Any]:
        outputs = replay(graph, image)
        return {"landmarks": outputs[at_points], "presence": outputs[at_presence]}

    return mesh


def rebuild_error(float_mesh: FaceMesh, function: Any, offset: np.ndarray, inputs: list) -> float:
    worst = 0.0
    for x in inputs[:6]:
        ours = function(x)["landmarks"].numpy().reshape(-1) + offset
        theirs = float_mesh.mesh.run(x)[float_mesh._points]
        worst = max(worst, float(np.abs(ours - theirs).max()))
    if worst > REBUILD_TOLERANCE:
        raise ValueError(f"rebuilt mesh differs from the bundle by {worst:.3f} px")
    return worst


def to_int8(function: Any, inputs: list[np.ndarray]) -> bytes:
    """Full int8 (int8 input pixel/255 - 128 steps, int8 outputs), percentile ranges."""
    import tensorflow as tf

    from convert.tflite_calibration import full_int8, percentile_int8

    first = inputs[0].copy()
    first[0, 0, 0], first[0, 0, 1] = 0.0, 1.0  # the input range exactly 0-1: scale 1/255

    samples = [first, *inputs[1:]]

    converter = full_int8(
        tf.lite.TFLiteConverter.from_concrete_functions(
            [function.get_concrete_function()], function
        ),
        lambda: iter(samples),
    )
    # tighten_ranges feeds the calibrated float model, which takes float input.
    tighten_on = samples[:: max(1, len(samples) // 40)]
    return percentile_int8(converter, lambda: iter(tighten_on))


def parity(float_mesh: FaceMesh, int8_mesh: FaceMesh, crops: list[tuple]) -> dict[str, Any]:
    """Per face size: mean point error (crop px), eye-state flips, blink difference."""
    result: dict[str, Any] = {}
    for size in sorted({c[0] for c in crops}):
        errors, flips, blinks = [], 0, []
        chosen = [c for c in crops if c[0] == size]
        for _, _, frame, box, right, left in chosen:
            a = float_mesh.read(frame, box, right, left)
            b = int8_mesh.read(frame, box, right, left)
            side = max(box.width, box.height) * float_mesh.scale
            errors.append(float(np.linalg.norm(a.points - b.points, axis=1).mean()) * 256 / side)
            threshold = DEFAULT_RULE.threshold(box.height)
            eyes_a = count_open_eyes(mesh_openness(a, DEFAULT_RULE), threshold)
            eyes_b = count_open_eyes(mesh_openness(b, DEFAULT_RULE), threshold)
            flips += (eyes_a == 0) != (eyes_b == 0)
            blinks.append(float(np.abs(a.blendshapes[9:11] - b.blendshapes[9:11]).max()))
        result[f"{size} px"] = {
            "faces": len(chosen),
            "mean_point_error_px_in_crop": round(float(np.mean(errors)), 3),
            "closed_decision_flips": round(flips / max(1, len(chosen)), 4),
            "max_eye_blink_difference": round(float(np.max(blinks)), 3),
            "mean_eye_blink_difference": round(float(np.mean(blinks)), 4),
        }
    return result


def gate_problems(figures: dict[str, Any]) -> list[str]:
    problems = []
    for size, row in figures.items():
        if row["mean_point_error_px_in_crop"] > MAX_POINT_ERROR:
            problems.append(f"{size}: points {row['mean_point_error_px_in_crop']} px off")
        if row["closed_decision_flips"] > MAX_EYE_FLIPS:
            problems.append(f"{size}: {row['closed_decision_flips']:.1%} eye decisions flip")
    return problems


def convert_int8(bundle: Path, out_dir: Path, calibration: int = 120, gate: int = 200) -> Path:
    """Rebuild, check, quantize, gate; the file and its card into out_dir only if it passes."""
    model = read_bundle(bundle)[MESH_MEMBER]
    float_mesh = FaceMesh(
        out_dir / "face_mesh_float16.tflite", out_dir / "face_blendshapes_float16.tflite"
    )
    calibration_inputs = mesh_inputs(
        float_mesh, face_crops(CALIBRATION_SIZES, "valid", calibration, seed=11)
    )
    points = np.stack([float_mesh.mesh.run(x)[float_mesh._points] for x in calibration_inputs])
    offset = points.mean(axis=0)
    function = rebuilt(model, offset)
    error = rebuild_error(float_mesh, function, offset, calibration_inputs)
    log.info("rebuilt mesh: within %.4f px of the bundle", error)
    data = to_int8(function, calibration_inputs)
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / INT8_FILE
        staged.write_bytes(data)
        card = _int8_card(staged, offset, {}, error)
        write_card(staged, card)
        int8_mesh = FaceMesh(staged, out_dir / "face_blendshapes_float16.tflite")
        figures = parity(float_mesh, int8_mesh, face_crops(GATE_SIZES, "valid", gate, seed=29))
        problems = gate_problems(figures)
        for size, row in figures.items():
            log.info("int8 parity %s: %s", size, row)
        if problems:
            kept = out_dir / "face_mesh_int8.rejected.tflite"
            kept.write_bytes(data)
            write_card(kept, _int8_card(kept, offset, figures, error))
            raise ValueError(
                "int8 mesh fails its parity gate (" + "; ".join(problems) + f"); kept at {kept}, "
                "the float16 mesh stays the one to use"
            )
        target = out_dir / INT8_FILE
        target.write_bytes(data)
        write_card(target, _int8_card(target, offset, figures, error))
    return target


def _int8_card(path: Path, offset: np.ndarray, figures: dict, error: float) -> dict[str, Any]:
    card = mesh_card(
        path,
        quantization="full int8 (int8 input and outputs), percentile-clipped ranges",
        landmark_offset=[round(float(v), 4) for v in offset],
        rebuild_max_error_px=round(error, 5),
        parity_against_float=figures,
        gate={"max_mean_point_error_px": MAX_POINT_ERROR, "max_eye_flips": MAX_EYE_FLIPS},
    )
    card["input"]["dtype"] = "int8"
    card["outputs"]["landmarks"] += " minus landmark_offset (add it back)"
    assert len(offset) == POINTS * 3
    return card
