"""`smilebooth convert face-detector`: MediaPipe full-range face detector -> full int8.

Steps: take the float model out of the mediapipe 0.10.14 wheel; replay its own ops in
TensorFlow on dense float32 weights; check that equals the original; bound the heads so
background anchors' huge raw values do not eat the int8 range; equalize depthwise
channels; quantize with activation ranges clipped to percentiles of real frames; measure
the saved int8 file against the float original on real photos and videos; write the card.
"""

from __future__ import annotations

import argparse
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

from convert.detection_eval import faces_dlib, video_frames
from convert.face_detector_report import (
    build_card,
    latency_ms,
    measure,
    score_bias,
    write_markdown,
)
from edge.face_detector import FaceDetector, letterbox
from edge.model_card import card_path
from edge.runtime import runtime_name

log = logging.getLogger(__name__)
WHEEL = "mediapipe==0.10.14"
MEMBER = "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite"
SIZE = 192
REGRESSOR_BOUND = 1.0  # in units of the input side: boxes/keypoints within the frame
LOGIT_BOUND = 10.0  # sigmoid(-10) = 0.00005: every background anchor looks the same
# Each head's last (depthwise) convolution is rescaled so that its bounded range maps onto
# [0, 6] and gets a fused RELU6: the int8 range of the conv output itself is then the
# bounded one (a clip after the conv would come too late: its input is already int8).
DECODER = {
    "regressor_gain": REGRESSOR_BOUND / 3,
    "regressor_offset": -REGRESSOR_BOUND,
    "logit_gain": LOGIT_BOUND / 3,
    "logit_offset": -LOGIT_BOUND,
}
OUTPUT = "face_detector_int8.tflite"
DEFAULT_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


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


def read_member(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(MEMBER)


# The 4-channel convolution before the score head spans about +-1250 on background
# anchors: clipped here (tensor index in the float file -> bound) so int8 keeps precision
# where faces are.
HEAD_INPUT_BOUNDS = {553: 64.0}


def bounded_function(model: bytes, samples: list[np.ndarray] | None = None) -> Any:
    """The float graph replayed in TensorFlow, heads bounded (and, given sample frames,
    depthwise channels equalized) for int8."""
    import tensorflow as tf

    from convert.tflite_graph import equalize_depthwise, read_graph, replay

    graph = read_graph(model)
    if samples:
        graph = equalize_depthwise(graph, [_model_input(frame) for frame in samples])
    regressors_at = graph.output_names.index("Identity")
    scores_at = graph.output_names.index("Identity_1")

    for tensor, bound in HEAD_INPUT_BOUNDS.items():
        graph = bound_tensor(graph, tensor, bound)
    graph = rescale_head(graph, graph.outputs[regressors_at], 3 / (SIZE * REGRESSOR_BOUND))
    graph = rescale_head(graph, graph.outputs[scores_at], 3 / LOGIT_BOUND)

    @tf.function(input_signature=[tf.TensorSpec([1, SIZE, SIZE, 3], tf.float32, name="image")])
    def detector(image: Any) -> dict[str, Any]:
        outputs = replay(graph, image)
        return {"regressors": outputs[regressors_at], "scores": outputs[scores_at]}

    return detector


def rescale_head(graph: Any, output: int, gain: float) -> Any:
    """Fold y = relu6(gain * x + 3) into the last convolution before a graph output."""
    import dataclasses

    producer = {o: op for op in graph.ops for o in op.outputs}
    op = producer[output]
    while op.name in ("RESHAPE", "DEPTH_TO_SPACE"):  # order-only ops: look through them
        op = producer[op.inputs[0]]
    if op.name not in ("CONV_2D", "DEPTHWISE_CONV_2D") or op.options["fusedActivationFunction"]:
        raise ValueError(f"unexpected head op {op.name} {op.options}")
    constants = dict(graph.constants)
    weights, bias = op.inputs[1], op.inputs[2]
    constants[weights] = constants[weights] * gain
    constants[bias] = constants[bias] * gain + 3.0
    new_op = dataclasses.replace(op, options={**op.options, "fusedActivationFunction": 3})
    ops = tuple(new_op if o is op else o for o in graph.ops)
    return dataclasses.replace(graph, ops=ops, constants=constants)


def bound_tensor(graph: Any, tensor: int, bound: float) -> Any:
    """Clip a convolution's output to +-bound (fused RELU_N1_TO_1 on output/bound) and undo the
    scale in the depthwise convolution that reads it (through a zero PAD, which commutes)."""
    import dataclasses

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
    new_op = dataclasses.replace(op, options={**op.options, "fusedActivationFunction": 2})
    ops = tuple(new_op if o is op else o for o in graph.ops)
    return dataclasses.replace(graph, ops=ops, constants=constants)


def calibration_frames(media: Path, count: int = 160) -> list[np.ndarray]:
    """Real frames (videos + photos), letterboxed as the detector does, RGB."""
    frames = [cv2.imread(str(item.path)) for item in faces_dlib(media)]
    frames.append(cv2.imread(str(media / "faces-dlib" / "dogs.jpg")))
    for name in ("crowd_1080p.mp4", "stage_360p.mp4", "blink_portrait.mp4"):
        frames += video_frames(media / "video" / name, every=6)
    rng = np.random.default_rng(3)
    chosen = rng.choice(len(frames), min(count, len(frames)), replace=False)
    return [letterbox(cv2.cvtColor(frames[i], cv2.COLOR_BGR2RGB), SIZE)[0] for i in chosen]


def _model_input(frame_rgb: np.ndarray) -> np.ndarray:
    return frame_rgb.astype(np.float32)[None] / 127.5 - 1.0


def to_int8(function: Any, frames: list[np.ndarray]) -> bytes:
    """Full int8, activation ranges calibrated on real frames with percentile clipping."""
    import tensorflow as tf

    from convert.tflite_calibration import percentile_int8

    def representative() -> Any:
        for frame in frames:
            yield [_model_input(frame)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()], function
    )
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return percentile_int8(converter, lambda: (_model_input(f) for f in frames[:60]))


def rebuild_error(model: bytes, function: Any, frames: list[np.ndarray]) -> dict[str, float]:
    """Largest difference between the replayed graph and the original float file."""
    from edge.runtime import make_interpreter

    with tempfile.NamedTemporaryFile(suffix=".tflite") as handle:
        handle.write(model)
        handle.flush()
        original = make_interpreter(handle.name)
    score_error = regressor_error = 0.0
    for frame in frames[:8]:
        x = frame.astype(np.float32)[None] / 127.5 - 1.0
        original.set_tensor(original.get_input_details()[0]["index"], x)
        original.invoke()
        raw = {d["name"]: original.get_tensor(d["index"]) for d in original.get_output_details()}
        ours = {k: v.numpy() for k, v in function(x).items()}
        expected_regressors = np.clip(raw["Identity"] / SIZE, -REGRESSOR_BOUND, REGRESSOR_BOUND)
        expected_logits = np.clip(raw["Identity_1"], -LOGIT_BOUND, LOGIT_BOUND)
        regressors = ours["regressors"] * DECODER["regressor_gain"] + DECODER["regressor_offset"]
        logits = ours["scores"] * DECODER["logit_gain"] + DECODER["logit_offset"]
        regressor_error = max(
            regressor_error, float(np.abs(expected_regressors - regressors).max())
        )
        score_error = max(score_error, float(np.abs(expected_logits - logits).max()))
    return {
        "max_abs_logit_difference": score_error,
        "max_abs_regressor_difference": regressor_error,
    }


def convert(wheel: Path | None, out_dir: Path, media: Path) -> Path:
    wheel_path = find_wheel(wheel)
    model = read_member(wheel_path)
    source = {
        "package": WHEEL,
        "wheel": wheel_path.name,
        "member": MEMBER,
        "member_sha256": hashlib.sha256(model).hexdigest(),
    }
    frames = calibration_frames(media)
    function = bounded_function(model, frames[:40])
    error = rebuild_error(model, function, frames)
    log.info("rebuild vs float original: %s", error)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / OUTPUT
    path.write_bytes(to_int8(function, frames))
    reproduce = "smilebooth convert face-detector --wheel mediapipe-0.10.14-*.whl"
    card_path(path).write_text(json.dumps(build_card(path, source, DECODER, {}), indent=2))
    with tempfile.NamedTemporaryFile(suffix=".tflite") as handle:
        handle.write(model)
        handle.flush()
        original = FaceDetector(handle.name, threads=1, verify=False)
        int8 = FaceDetector(path, threads=1)
        bias = score_bias(int8, original, frames)
        log.info("int8 score logits differ from float by %.2f (median) near decisions", bias)
        metrics = measure(int8, original, media)
    photo = cv2.imread(str(faces_dlib(media)[0].path))
    extra = {
        "rebuild_check": error,
        "median_float_minus_int8_logit": bias,
        "metrics": metrics,
        "latency_ms": latency_ms(int8, photo),
        "latency_runtime": f"{runtime_name()}, 1 thread",
        "reproduce": reproduce,
    }
    card = build_card(path, source, DECODER, extra)
    card_path(path).write_text(json.dumps(card, indent=2) + "\n")
    write_markdown(card, path.with_suffix(".md"), (REGRESSOR_BOUND, LOGIT_BOUND))
    log.info("int8 detector: %s", json.dumps(metrics["faces_dlib_recall"]["int8"]["found"]))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smilebooth convert face-detector")
    parser.add_argument("--wheel", type=Path, help="mediapipe 0.10.14 wheel (else pip download)")
    parser.add_argument("--out-dir", type=Path, default=Path("models"))
    parser.add_argument("--media-dir", type=Path, default=DEFAULT_MEDIA)
    args = parser.parse_args(argv)
    convert(args.wheel, args.out_dir, args.media_dir)
    return 0
