"""`smilebooth convert face-detector`: MediaPipe's two face detectors -> full int8.

For each model (full range, 192x192, for faces up to ~7 % of the frame and groups; short
range, 128x128, for faces that fill the frame): take the float file out of the mediapipe
0.10.14 wheel; replay its own ops in TensorFlow on dense float32 weights and check that
equals the original (the conversion fails beyond REBUILD_TOLERANCE); bound the heads so
background anchors' huge raw values do not eat the int8 range; equalize depthwise channels;
quantize with activation ranges clipped to percentiles of frames that span every face size;
check the int8 file finds (nearly) every face its float original finds on a quick slice
(`convert.detector_gate`: the conversion fails otherwise); write the file and its card
(`convert.detector_card`). `python -m convert.detector_eval` then measures the saved files.
The models' names, outputs and grids are in `convert.detector_specs`, once.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.detector_calibration import calibration_photos
from convert.detector_card import detector_card, earlier_figures, write_detector_card
from convert.detector_gate import RecallGateError, check_recall
from convert.detector_specs import (
    DECODER,
    LOGIT_BOUND,
    REGRESSOR_BOUND,
    SPECS,
    WHEEL,
    DetectorSpec,
)
from convert.tflite_graph import FUSED_NONE, FUSED_RELU6, FUSED_RELU_N1_TO_1, Graph
from edge.perception.detector_model import (
    REGRESSORS,
    SCORES,
    find_heads,
    int8_input_values,
    letterbox,
)
from edge.perception.model_card import sha256_of
from edge.perception.runtime import make_interpreter

log = logging.getLogger(__name__)
REBUILD_TOLERANCE = 1e-3  # largest allowed difference between the replay and the original
LOOK_THROUGH = ("RESHAPE", "DEPTH_TO_SPACE", "CONCATENATION")  # ops that only move values
DEFAULT_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
PERCENTILE_DEFAULT = 99.9


class RebuildError(RuntimeError):
    """The replayed graph differs from MediaPipe's float file beyond REBUILD_TOLERANCE."""


def find_wheel(wheel: Path | None) -> Path:
    """The given wheel, or `pip download --no-deps mediapipe==0.10.14` into a temp dir."""
    if wheel is not None:
        if not wheel.is_file():
            raise FileNotFoundError(f"--wheel {wheel}: no such file")
        return wheel
    target = Path(tempfile.mkdtemp(prefix="mediapipe-"))
    log.info("downloading %s (no dependencies) into %s", WHEEL, target)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(target), WHEEL],
        check=True,
    )
    return next(target.glob("mediapipe-*.whl"))


def read_member(wheel: Path, member: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member)


def head_positions(spec: DetectorSpec, graph: Graph) -> dict[str, int]:
    """Where the regressor and score heads are among the float file's outputs, by the
    names `spec` gives them; ValueError naming the member and what was expected."""
    return find_heads(graph.output_shapes(), spec.member, spec.output_names)


def bounded_tensors(spec: DetectorSpec, graph: Graph) -> list[tuple[int, float]]:
    """The tensors `spec.head_input_bounds` names, as (index, bound)."""
    try:
        return [
            (graph.computed_named(name, "a convolution before a head, to be bounded"), bound)
            for name, bound in spec.head_input_bounds
        ]
    except ValueError as exc:
        raise ValueError(f"{spec.member}: {exc}") from exc


def bounded_function(spec: DetectorSpec, model: bytes, samples: list[np.ndarray]) -> Any:
    """The float graph replayed in TensorFlow, heads bounded and depthwise channels
    equalized on sample frames, for int8."""
    import tensorflow as tf

    from convert.tflite_graph import equalize_depthwise, read_graph, replay

    graph = read_graph(model)
    at = head_positions(spec, graph)
    bounds = bounded_tensors(spec, graph)
    graph = equalize_depthwise(graph, [int8_input_values(s) for s in samples])
    for tensor, bound in bounds:
        graph = bound_tensor(graph, tensor, bound)
    regressors, scores = graph.outputs[at[REGRESSORS.role]], graph.outputs[at[SCORES.role]]
    graph = rescale_head(graph, regressors, 3 / (spec.size * REGRESSOR_BOUND))
    graph = rescale_head(graph, scores, 3 / LOGIT_BOUND)

    @tf.function(input_signature=[tf.TensorSpec([1, spec.size, spec.size, 3], tf.float32)])
    def detector(image: Any) -> dict[str, Any]:
        outputs = replay(graph, image)
        return {
            REGRESSORS.role: outputs[at[REGRESSORS.role]],
            SCORES.role: outputs[at[SCORES.role]],
        }

    return detector


def head_convolutions(graph: Any, output: int) -> list[Any]:
    """The convolutions that compute a graph output, looking through ops that only move values."""
    producer = {o: op for op in graph.ops for o in op.outputs}
    found, pending = [], [producer[output]]
    while pending:
        op = pending.pop()
        if op.name in LOOK_THROUGH:
            inputs = op.inputs if op.name == "CONCATENATION" else op.inputs[:1]
            pending += [producer[i] for i in inputs]
        elif op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            found.append(op)
        else:
            raise ValueError(f"unexpected op {op.name} before a head output")
    return found


def rescale_head(graph: Any, output: int, gain: float) -> Any:
    """Fold y = relu6(gain * x + 3) into every last convolution before a graph output."""
    constants = dict(graph.constants)
    replaced = {}
    for op in head_convolutions(graph, output):
        if op.options["fusedActivationFunction"] != FUSED_NONE:
            raise ValueError(f"head convolution {op.outputs[0]} already has an activation")
        weights, bias = op.inputs[1], op.inputs[2]
        constants[weights] = constants[weights] * gain
        constants[bias] = constants[bias] * gain + 3.0
        options = {**op.options, "fusedActivationFunction": FUSED_RELU6}
        replaced[id(op)] = dataclasses.replace(op, options=options)
    ops = tuple(replaced.get(id(o), o) for o in graph.ops)
    return dataclasses.replace(graph, ops=ops, constants=constants)


def bound_tensor(graph: Any, tensor: int, bound: float) -> Any:
    """Clip a convolution's output to +-bound (fused RELU_N1_TO_1 on output/bound) and undo
    the scale in the depthwise convolution that reads it (through a zero PAD, which commutes)."""
    producer = {o: op for op in graph.ops for o in op.outputs}
    op = producer[tensor]
    readers = [o for o in graph.ops if tensor in o.inputs]
    pad = readers[0] if len(readers) == 1 and readers[0].name == "PAD" else None
    consumers = [o for o in graph.ops if pad is not None and pad.outputs[0] in o.inputs]
    has_activation = op.options.get("fusedActivationFunction") != FUSED_NONE
    if op.name != "CONV_2D" or has_activation or len(consumers) != 1:
        raise ValueError(f"cannot bound tensor {tensor}: {op.name} -> {readers}")
    constants = dict(graph.constants)
    constants[op.inputs[1]] = constants[op.inputs[1]] / bound
    constants[op.inputs[2]] = constants[op.inputs[2]] / bound
    constants[consumers[0].inputs[1]] = constants[consumers[0].inputs[1]] * bound
    options = {**op.options, "fusedActivationFunction": FUSED_RELU_N1_TO_1}
    new_op = dataclasses.replace(op, options=options)
    ops = tuple(new_op if o is op else o for o in graph.ops)
    return dataclasses.replace(graph, ops=ops, constants=constants)


def squares(spec: DetectorSpec, photos: list[np.ndarray]) -> list[np.ndarray]:
    """Photos letterboxed as the detector does, RGB."""
    return [letterbox(cv2.cvtColor(p, cv2.COLOR_BGR2RGB), spec.size)[0] for p in photos]


def to_int8(function: Any, samples: list[np.ndarray], percentile: float) -> bytes:
    """Full int8, activation ranges calibrated on `samples` with percentile clipping."""
    import tensorflow as tf

    from convert.tflite_calibration import percentile_int8

    # The input range must be exactly [-1, 127/128] for the input's scale to be 1/128 and
    # its zero point 0: one sample holds both extreme pixels.
    first = samples[0].copy()
    first[0, 0], first[0, 1] = 0, 255
    samples = [first, *samples[1:]]

    def representative() -> Any:
        for square in samples:
            yield [int8_input_values(square)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()], function
    )
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    tighten_on = samples[:: max(1, len(samples) // 120)]
    return percentile_int8(
        converter, lambda: (int8_input_values(s) for s in tighten_on), percentile
    )


def rebuild_error(
    spec: DetectorSpec, model: bytes, function: Any, samples: list[np.ndarray]
) -> dict[str, float]:
    """Largest difference between the replayed, bounded graph and the original float file;
    RebuildError beyond REBUILD_TOLERANCE."""
    with tempfile.NamedTemporaryFile(suffix=".tflite") as handle:
        handle.write(model)
        handle.flush()
        original = make_interpreter(handle.name)
    details = original.get_output_details()
    at = find_heads([(d["name"], d["shape"]) for d in details], spec.member, spec.output_names)
    score_error = regressor_error = 0.0
    for square in samples[:8]:
        x = int8_input_values(square)
        original.set_tensor(original.get_input_details()[0]["index"], x)
        original.invoke()
        raw_regressors = original.get_tensor(details[at[REGRESSORS.role]]["index"])
        raw_logits = original.get_tensor(details[at[SCORES.role]]["index"])
        ours = {k: v.numpy() for k, v in function(x).items()}
        expected_regressors = np.clip(raw_regressors / spec.size, -REGRESSOR_BOUND, REGRESSOR_BOUND)
        expected_logits = np.clip(raw_logits, -LOGIT_BOUND, LOGIT_BOUND)
        regressors = ours[REGRESSORS.role] * DECODER["regressor_gain"] + DECODER["regressor_offset"]
        logits = ours[SCORES.role] * DECODER["logit_gain"] + DECODER["logit_offset"]
        regressor_error = max(
            regressor_error, float(np.abs(expected_regressors - regressors).max())
        )
        score_error = max(score_error, float(np.abs(expected_logits - logits).max()))
    error = {
        "max_abs_logit_difference": score_error,
        "max_abs_regressor_difference": regressor_error,
    }
    if max(error.values()) > REBUILD_TOLERANCE:
        raise RebuildError(
            f"{spec.member}: the rebuilt graph differs from the original by more than "
            f"{REBUILD_TOLERANCE}: {error}"
        )
    return error


def convert(spec: DetectorSpec, wheel: Path, out_dir: Path, media: Path, percentile: float) -> Path:
    """One detector: rebuild, check, quantize, gate on recall, and only then into out_dir
    (a file the gate rejects stays in a temporary folder the error names)."""
    model = read_member(wheel, spec.member)
    source = {
        "package": WHEEL,
        "wheel": wheel.name,
        "member": spec.member,
        "member_sha256": hashlib.sha256(model).hexdigest(),
    }
    samples = squares(spec, calibration_photos(media))
    log.info("%s: %d calibration frames", spec.name, len(samples))
    function = bounded_function(spec, model, samples[:48])
    error = rebuild_error(spec, model, function, samples)
    log.info("%s: rebuild vs float original: %s", spec.name, error)
    staged = Path(tempfile.mkdtemp(prefix=f"smilebooth-{spec.name}-")) / spec.output
    staged.write_bytes(to_int8(function, samples, percentile))
    reproduce = "smilebooth convert face-detector --wheel mediapipe-0.10.14-*.whl"
    if percentile != PERCENTILE_DEFAULT:
        reproduce += f" --percentile {percentile}"
    checks: dict[str, Any] = {"rebuild_check": error}
    details = {
        "calibration": {
            "frames": len(samples),
            "percentile": percentile,
            "what": "WIDER near faces zoomed to 30-90 % of the frame, WIDER group "
            "photos, faces-dlib, the three videos, dim and empty scenes",
        },
        "reproduce": reproduce,
    }
    write_detector_card(staged, detector_card(spec, staged, source, {**checks, **details}))
    reference = staged.parent / Path(spec.member).name
    reference.write_bytes(model)
    checks["recall_check"] = check_recall(staged, reference, spec, media)
    log.info("%s: recall check passed: %s", spec.name, checks["recall_check"])
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / spec.output
    earlier = earlier_figures(path, sha256_of(staged))
    shutil.move(staged, path)
    shutil.rmtree(staged.parent)
    write_detector_card(path, detector_card(spec, path, source, {**checks, **details, **earlier}))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smilebooth convert face-detector")
    parser.add_argument(
        "--wheel", type=Path, help="mediapipe 0.10.14 wheel (default: pip download)"
    )
    parser.add_argument("--out-dir", type=Path, default=Path("models"), help="default: models")
    parser.add_argument(
        "--media-dir",
        type=Path,
        default=DEFAULT_MEDIA,
        help="calibration media (default: ../shared/media)",
    )
    parser.add_argument(
        "--model",
        choices=(*SPECS, "both"),
        default="both",
        help="which detector to convert (default: both)",
    )
    parser.add_argument(
        "--percentile",
        type=float,
        default=PERCENTILE_DEFAULT,
        help=f"activation range clip percentile (default: {PERCENTILE_DEFAULT})",
    )
    args = parser.parse_args(argv)
    try:
        wheel = find_wheel(args.wheel)
        for spec in SPECS.values():
            if args.model in (spec.name, "both"):
                path = convert(spec, wheel, args.out_dir, args.media_dir, args.percentile)
                log.info("wrote %s", path)
    except (FileNotFoundError, ValueError, RebuildError, RecallGateError) as exc:
        print(f"smilebooth convert face-detector: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    raise SystemExit(main())
