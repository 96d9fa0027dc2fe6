"""`smilebooth convert face-detector`: MediaPipe's two face detectors -> full int8.

For each model (full range, 192x192, for faces up to ~7 % of the frame and groups; short
range, 128x128, for faces that fill the frame): take the float file out of the mediapipe
0.10.14 wheel; replay its own ops in TensorFlow on dense float32 weights and check that
equals the original (the conversion fails beyond REBUILD_TOLERANCE); bound the heads so
background anchors' huge raw values do not eat the int8 range; equalize depthwise channels;
quantize with activation ranges clipped to percentiles of frames that span every face size;
write the file and a card. `python -m convert.detector_eval` then measures the saved files.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.detector_calibration import calibration_photos
from convert.tflite_graph import FUSED_RELU6, FUSED_RELU_N1_TO_1
from edge.perception.detector_model import ANCHOR_GRIDS, KEYPOINT_ORDER, int8_input, letterbox
from edge.perception.model_card import card_path, sha256_of
from edge.perception.runtime import make_interpreter

log = logging.getLogger(__name__)
WHEEL = "mediapipe==0.10.14"
REGRESSOR_BOUND = 1.0  # in units of the input side: boxes/keypoints within the frame
LOGIT_BOUND = 10.0  # sigmoid(-10) = 0.00005: every background anchor looks the same
REBUILD_TOLERANCE = 1e-3  # largest allowed difference between the replay and the original
# Each head's last convolution is rescaled so that its bounded range maps onto [0, 6] and
# gets a fused RELU6: the int8 range of the conv output itself is then the bounded one (a
# clip after the conv would come too late: its input is already int8).
DECODER = {
    "regressor_gain": REGRESSOR_BOUND / 3,
    "regressor_offset": -REGRESSOR_BOUND,
    "logit_gain": LOGIT_BOUND / 3,
    "logit_offset": -LOGIT_BOUND,
}
LOOK_THROUGH = ("RESHAPE", "DEPTH_TO_SPACE", "CONCATENATION")  # ops that only move values
DEFAULT_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


@dataclasses.dataclass(frozen=True)
class DetectorSpec:
    """One MediaPipe face model: where it is in the wheel and how its graph is shaped."""

    name: str
    member: str
    output: str
    regressors: str  # output tensor names in the float file
    scores: str
    # Convolutions before a head whose background values span far more than faces need:
    # (tensor index in the float file -> bound), clipped so int8 keeps precision.
    head_input_bounds: tuple[tuple[int, float], ...] = ()

    @property
    def anchors(self) -> dict[str, Any]:
        return ANCHOR_GRIDS[2304 if self.name == "full_range" else 896]

    @property
    def size(self) -> int:
        return int(self.anchors["input_size"])


FULL_RANGE = DetectorSpec(
    name="full_range",
    member="mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
    output="face_detector_int8.tflite",
    regressors="Identity",
    scores="Identity_1",
    head_input_bounds=((553, 64.0),),  # the 4-channel conv before the score head: +-1250
)
SHORT_RANGE = DetectorSpec(
    name="short_range",
    member="mediapipe/modules/face_detection/face_detection_short_range.tflite",
    output="face_detector_short_int8.tflite",
    regressors="regressors",
    scores="classificators",
)
SPECS = {spec.name: spec for spec in (FULL_RANGE, SHORT_RANGE)}


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


def model_input(square_rgb: np.ndarray) -> np.ndarray:
    """The float input the int8 file is calibrated for: (pixel - 128) / 128, so that its
    int8 input is exactly pixel - 128 (edge.perception.detector_model.int8_input)."""
    return (square_rgb.astype(np.float32)[None] - 128.0) / 128.0


def bounded_function(spec: DetectorSpec, model: bytes, samples: list[np.ndarray]) -> Any:
    """The float graph replayed in TensorFlow, heads bounded and depthwise channels
    equalized on sample frames, for int8."""
    import tensorflow as tf

    from convert.tflite_graph import equalize_depthwise, read_graph, replay

    graph = equalize_depthwise(read_graph(model), [model_input(s) for s in samples])
    regressors_at = graph.output_names.index(spec.regressors)
    scores_at = graph.output_names.index(spec.scores)
    for tensor, bound in spec.head_input_bounds:
        graph = bound_tensor(graph, int(tensor), bound)
    graph = rescale_head(graph, graph.outputs[regressors_at], 3 / (spec.size * REGRESSOR_BOUND))
    graph = rescale_head(graph, graph.outputs[scores_at], 3 / LOGIT_BOUND)

    @tf.function(input_signature=[tf.TensorSpec([1, spec.size, spec.size, 3], tf.float32)])
    def detector(image: Any) -> dict[str, Any]:
        outputs = replay(graph, image)
        return {"regressors": outputs[regressors_at], "scores": outputs[scores_at]}

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
        if op.options["fusedActivationFunction"]:
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
    if op.name != "CONV_2D" or op.options["fusedActivationFunction"] or len(consumers) != 1:
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
            yield [model_input(square)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()], function
    )
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    tighten_on = samples[:: max(1, len(samples) // 120)]
    return percentile_int8(converter, lambda: (model_input(s) for s in tighten_on), percentile)


def rebuild_error(
    spec: DetectorSpec, model: bytes, function: Any, samples: list[np.ndarray]
) -> dict[str, float]:
    """Largest difference between the replayed, bounded graph and the original float file."""
    with tempfile.NamedTemporaryFile(suffix=".tflite") as handle:
        handle.write(model)
        handle.flush()
        original = make_interpreter(handle.name)
    names = {d["name"]: d["index"] for d in original.get_output_details()}
    score_error = regressor_error = 0.0
    for square in samples[:8]:
        x = model_input(square)
        original.set_tensor(original.get_input_details()[0]["index"], x)
        original.invoke()
        raw_regressors = original.get_tensor(names[spec.regressors])
        raw_logits = original.get_tensor(names[spec.scores])
        ours = {k: v.numpy() for k, v in function(x).items()}
        expected_regressors = np.clip(raw_regressors / spec.size, -REGRESSOR_BOUND, REGRESSOR_BOUND)
        expected_logits = np.clip(raw_logits, -LOGIT_BOUND, LOGIT_BOUND)
        regressors = ours["regressors"] * DECODER["regressor_gain"] + DECODER["regressor_offset"]
        logits = ours["scores"] * DECODER["logit_gain"] + DECODER["logit_offset"]
        regressor_error = max(
            regressor_error, float(np.abs(expected_regressors - regressors).max())
        )
        score_error = max(score_error, float(np.abs(expected_logits - logits).max()))
    error = {
        "max_abs_logit_difference": score_error,
        "max_abs_regressor_difference": regressor_error,
    }
    if max(error.values()) > REBUILD_TOLERANCE:
        raise RuntimeError(f"{spec.name}: the rebuilt graph differs from the original: {error}")
    return error


def write_card(
    spec: DetectorSpec, path: Path, source: dict[str, str], extra: dict[str, Any]
) -> None:
    interpreter = make_interpreter(path)
    detail = interpreter.get_input_details()[0]
    if int8_input(detail) is None:
        raise RuntimeError(
            f"{path}: input quantization {detail['quantization']} is not "
            "(1/128, 0): the calibration frames lacked a 0 or 255 pixel"
        )
    outputs = {
        d["name"]: {
            "shape": [int(v) for v in d["shape"]],
            "dtype": d["dtype"].__name__,
            "quantization": [float(q) for q in d["quantization"]],
        }
        for d in interpreter.get_output_details()
    }
    card = {
        "name": f"MediaPipe face detection, {spec.name.replace('_', ' ')}, full int8",
        "file": path.name,
        "sha256": sha256_of(path),
        "size_bytes": path.stat().st_size,
        "source": source,
        "input": {
            "shape": [int(v) for v in detail["shape"]],
            "dtype": "int8",
            "quantization": [float(q) for q in detail["quantization"]],
            "preprocessing": (
                f"RGB, letterboxed (scaled to fit with bilinear interpolation, centred, black "
                f"borders) to {spec.size}x{spec.size}; int8 = pixel - 128"
            ),
        },
        "outputs": outputs,
        "anchors": spec.anchors,
        "decoder": {**DECODER, "keypoints": list(KEYPOINT_ORDER)},
        **extra,
    }
    card_path(path).write_text(json.dumps(card, indent=2) + "\n")


def convert(spec: DetectorSpec, wheel: Path, out_dir: Path, media: Path, percentile: float) -> Path:
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
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / spec.output
    path.write_bytes(to_int8(function, samples, percentile))
    reproduce = "smilebooth convert face-detector --wheel mediapipe-0.10.14-*.whl"
    if percentile != PERCENTILE_DEFAULT:
        reproduce += f" --percentile {percentile}"
    write_card(
        spec,
        path,
        source,
        {
            "rebuild_check": error,
            "calibration": {
                "frames": len(samples),
                "percentile": percentile,
                "what": "WIDER near faces zoomed to 30-90 % of the frame, WIDER group "
                "photos, faces-dlib, the three videos, dim and empty scenes",
            },
            "reproduce": reproduce,
        },
    )
    return path


PERCENTILE_DEFAULT = 99.9


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
    wheel = find_wheel(args.wheel)
    for spec in SPECS.values():
        if args.model in (spec.name, "both"):
            log.info(
                "wrote %s", convert(spec, wheel, args.out_dir, args.media_dir, args.percentile)
            )
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    raise SystemExit(main())
