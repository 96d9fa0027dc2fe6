"""`smilebooth convert face-detector`: OpenCV Zoo's YuNet (ONNX) -> full-int8 TFLite + card.

The ONNX file (sha256 checked: any other file is refused) is replayed in TensorFlow,
channels last (`convert.onnx_graph`), and the replay is checked against OpenCV's own run of
the ONNX file (REBUILD_TOLERANCE). Each stride's two score maps are multiplied in the graph
(YuNet's score is sqrt(cls x obj): the square root is a 256-entry table in the decoder), so
the file has nine outputs: score, box and keypoint maps at strides 8, 16 and 32, told apart
by their shapes. The input is int8 BGR with scale 1 and zero point -128 (int8 = pixel - 128,
the top bit flipped) and any height and width that are multiples of 32: the edge app runs
one interpreter per input size it needs.

Calibration: frames that span every face size a booth meets (`convert.detector_calibration`),
each at the detector's whole-frame input (640 px wide) and as a face's square at the look
size (CONFIRM_SIZE). The recall gate (`convert.yunet_gate`) then checks on a slice of WIDER
that the saved file finds what OpenCV's `FaceDetectorYN` finds on the float ONNX, per face
size; the conversion fails otherwise. The bytes are reproducible: same inputs, same file.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.onnx_graph import read_onnx, replay
from edge.perception.yunet_model import (
    CONFIRM_SIZE,
    INPUT_MULTIPLE,
    STRIDES,
    WHOLE_FRAME_WIDTH,
    fit_input,
)

log = logging.getLogger(__name__)

ONNX_NAME = "face_detection_yunet_2026may.onnx"
ONNX_SHA256 = "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0"
DEFAULT_ONNX = Path(__file__).resolve().parents[2] / "shared" / "models" / "yunet" / ONNX_NAME
DEFAULT_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
OUTPUT_NAME = "yunet_int8.tflite"
REBUILD_TOLERANCE = 1e-3
CALIBRATION_FRAMES = 240  # whole frames; as many face squares again


class SourceModelError(ValueError):
    """The file given is not the YuNet ONNX file this converter is written for."""


def check_source(path: Path) -> None:
    if not path.is_file():
        raise SourceModelError(f"{path}: no such file (expected OpenCV Zoo's {ONNX_NAME})")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != ONNX_SHA256:
        raise SourceModelError(
            f"{path}: sha256 {digest} is not that of OpenCV Zoo's {ONNX_NAME} "
            f"({ONNX_SHA256}); this converter takes that file only"
        )


def booth_graph(onnx_path: Path) -> Any:
    """The replayed graph with the booth's outputs: per stride the score product map
    (cls x obj), the box map (4) and the keypoint map (10), NHWC."""
    import tensorflow as tf

    graph = read_onnx(onnx_path)
    run = replay(graph)

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="bgr")])
    def detect(bgr: Any) -> dict[str, Any]:
        maps = run(bgr)
        outputs = {}
        for stride in STRIDES:
            outputs[f"score_{stride}"] = maps[f"cls_{stride}"] * maps[f"obj_{stride}"]
            outputs[f"box_{stride}"] = maps[f"bbox_{stride}"]
            outputs[f"points_{stride}"] = maps[f"kps_{stride}"]
        return outputs

    return detect, graph


def check_rebuild(detect: Any, onnx_path: Path, frame: np.ndarray) -> float:
    """Largest difference between the replay and OpenCV's run of the ONNX file (score
    products, boxes, keypoints); RuntimeError beyond REBUILD_TOLERANCE."""
    import tensorflow as tf

    square = fit_input(frame, WHOLE_FRAME_WIDTH)[0]
    net = cv2.dnn.readNetFromONNX(str(onnx_path))
    net.setInput(cv2.dnn.blobFromImage(square))
    names = [f"{k}_{s}" for s in STRIDES for k in ("cls", "obj", "bbox", "kps")]
    ref = dict(zip(names, net.forward(names), strict=True))
    ours = {k: v.numpy() for k, v in detect(tf.constant(square[None].astype(np.float32))).items()}
    worst = 0.0
    for s in STRIDES:
        pairs = (
            (ours[f"score_{s}"], ref[f"cls_{s}"] * ref[f"obj_{s}"]),
            (ours[f"box_{s}"], ref[f"bbox_{s}"]),
            (ours[f"points_{s}"], ref[f"kps_{s}"]),
        )
        for mine, theirs in pairs:
            worst = max(worst, float(np.abs(mine.reshape(theirs.shape) - theirs).max()))
    if worst > REBUILD_TOLERANCE:
        raise RuntimeError(f"replay differs from the ONNX file by {worst} (> {REBUILD_TOLERANCE})")
    return worst


def calibration_inputs(media: Path, count: int = CALIBRATION_FRAMES) -> list[np.ndarray]:
    """The detector's inputs for calibration: whole frames at 640 px wide and, for each,
    the square around one of its faces at the look size, so both input sizes the edge app
    runs are covered."""
    from convert.detector_calibration import calibration_photos

    photos = calibration_photos(media)[:count]
    rng = np.random.default_rng(7)
    inputs = []
    for photo in photos:
        inputs.append(fit_input(photo, WHOLE_FRAME_WIDTH)[0])
        h, w = photo.shape[:2]
        side = int(rng.uniform(0.15, 1.0) * min(h, w))
        x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        square = photo[y0 : y0 + side, x0 : x0 + side]
        inputs.append(
            cv2.resize(square, (CONFIRM_SIZE, CONFIRM_SIZE), interpolation=cv2.INTER_AREA)
        )
    # A pure black and a pure white pixel fix the input range at exactly 0..255.
    inputs[0] = inputs[0].copy()
    inputs[0][0, 0], inputs[0][0, 1] = 0, 255
    return inputs


def quantize(detect: Any, inputs: list[np.ndarray]) -> bytes:
    """Full int8: int8 input and outputs, every op int8 (TFLITE_BUILTINS_INT8 only)."""
    import tensorflow as tf

    from convert.tflite_calibration import full_int8

    converter = full_int8(
        tf.lite.TFLiteConverter.from_concrete_functions([detect.get_concrete_function()], detect),
        lambda: (image[None].astype(np.float32) for image in inputs),
    )
    with warnings.catch_warnings():
        # The input's range comes from the calibration (0..255 -> scale 1, zero point
        # -128), not from statistics given beforehand: TFLite warns that none were given.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        return converter.convert()


def float_file(detect: Any) -> bytes:
    """The same graph as a float TFLite file: the speed comparison's other half."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [detect.get_concrete_function()], detect
    )
    return converter.convert()


def convert(onnx_path: Path, out_dir: Path, media: Path, smoke: bool = False) -> Path:
    """Check, replay, calibrate, quantize, gate, write the file and its card."""
    from convert.yunet_card import write_card_for
    from convert.yunet_gate import check_recall

    check_source(onnx_path)
    detect, _ = booth_graph(onnx_path)
    inputs = calibration_inputs(media, 24 if smoke else CALIBRATION_FRAMES)
    worst = check_rebuild(detect, onnx_path, inputs[0])
    log.info("replay matches the ONNX file within %.2g", worst)
    model = quantize(detect, inputs)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / OUTPUT_NAME
    tmp = path.with_suffix(".tflite.tmp")
    tmp.write_bytes(model)
    gate = check_recall(tmp, onnx_path, media, smoke=smoke)
    tmp.replace(path)
    write_card_for(path, onnx_path, len(inputs), worst, gate)
    log.info("wrote %s (%d bytes)", path, len(model))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smilebooth convert face-detector", description=__doc__)
    parser.add_argument("--onnx", type=Path, default=DEFAULT_ONNX, help="YuNet ONNX file")
    parser.add_argument("--out-dir", type=Path, default=Path("models"))
    parser.add_argument("--media-dir", type=Path, default=DEFAULT_MEDIA)
    parser.add_argument("--smoke", action="store_true", help="small calibration and gate")
    args = parser.parse_args(argv)
    try:
        convert(args.onnx, args.out_dir, args.media_dir, smoke=args.smoke)
    except SourceModelError as exc:
        print(f"smilebooth convert face-detector: {exc}", file=sys.stderr)
        return 2
    return 0


__all__ = ["INPUT_MULTIPLE", "check_source", "convert", "main"]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    raise SystemExit(main())
