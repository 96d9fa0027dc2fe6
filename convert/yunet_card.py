"""The YuNet int8 file's card: written by `convert face-detector`, figures added by
`python -m evaluate.detector_eval --write-cards`.

The JSON card goes through `edge.perception.model_card.write_card` (the one card format the
loader checks); a human card (.md) is written beside it from the same dictionary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convert.yunet import ONNX_NAME, ONNX_SHA256
from edge.perception.model_card import ModelCardError, load_card, sha256_of, write_card
from edge.perception.runtime import make_interpreter
from edge.perception.yunet_model import CONFIRM_SIZE, STRIDES, TRACK_SIZE, WHOLE_FRAME_WIDTH
from edge.types import KEYPOINT_NAMES

SOURCE = {
    "name": "YuNet (OpenCV Zoo, models/face_detection_yunet)",
    "file": ONNX_NAME,
    "sha256": ONNX_SHA256,
    "licence": "MIT, Copyright (c) 2020 Shiqi Yu (see models/LICENSE-yunet)",
    "paper": "YuNet: A Tiny Millisecond-level Face Detector, Machine Intelligence Research 2023",
}
REPRODUCE = "smilebooth convert face-detector --onnx ../shared/models/yunet/" + ONNX_NAME


def card_for(
    path: Path, calibration_inputs: int, rebuild_error: float, gate: dict[str, Any]
) -> dict[str, Any]:
    """The card, read off the saved file: sha256, size, input and output quantization."""
    interpreter = make_interpreter(path)
    detail = interpreter.get_input_details()[0]
    outputs = [
        {
            "shape_at_640x384": [int(v) for v in d["shape"]],
            "dtype": d["dtype"].__name__,
            "quantization": [float(q) for q in d["quantization"]],
        }
        for d in interpreter.get_output_details()
    ]
    card: dict[str, Any] = {
        "name": "YuNet face detector, full int8",
        "file": path.name,
        "sha256": sha256_of(path),
        "size_bytes": path.stat().st_size,
        "source": SOURCE,
        "reproduce": REPRODUCE,
        "input": {
            "shape": [int(v) for v in detail["shape"]],
            "shape_signature": [int(v) for v in detail["shape_signature"]],
            "dtype": "int8",
            "quantization": [float(q) for q in detail["quantization"]],
            "preprocessing": (
                f"BGR; the whole frame with its longest side at {WHOLE_FRAME_WIDTH} px, or a "
                f"tracked face's square at {TRACK_SIZE}x{TRACK_SIZE}, or a doubtful face's at "
                f"{CONFIRM_SIZE}x{CONFIRM_SIZE}; padded bottom and right "
                "with black to multiples of 32; int8 = pixel - 128 (scale 1, zero point -128). "
                "Any height and width that are multiples of 32 (resize the input tensor)."
            ),
        },
        "outputs": outputs,
        "decoder": {
            "strides": list(STRIDES),
            "maps": "per stride: score = sqrt(cls x obj) from the 1-channel map; box (dx, dy, "
            "log w, log h) -> centre ((col + dx) s, (row + dy) s), size (exp(log w) s, "
            "exp(log h) s); keypoints (kx, ky) x 5 -> ((col + kx) s, (row + ky) s); "
            "outputs told apart by shape (channels 1 / 4 / 10, cells = input / stride)",
            "nms_iou": 0.3,
            "keypoints": list(KEYPOINT_NAMES),
        },
        "calibration": {
            "inputs": calibration_inputs,
            "what": "near WIDER faces zoomed to 30-90 % of the frame, WIDER group photos, "
            "faces-dlib, dogs.jpg, frames of the three videos, dim and empty scenes; each "
            f"whole at {WHOLE_FRAME_WIDTH} px and as a face-sized square at {CONFIRM_SIZE} px",
            "method": "TFLite full-integer post-training quantization (min/max ranges)",
        },
        "rebuild_check": {
            "largest_difference": rebuild_error,
            "what": "the TensorFlow replay of the ONNX graph against OpenCV's run of it",
        },
        "recall_check": gate,
    }
    return card


def write_card_for(
    path: Path, onnx_path: Path, calibration_inputs: int, rebuild_error: float, gate: dict
) -> Path:
    """Write the card (keeping stage figures measured on these very bytes) and the .md."""
    card = card_for(path, calibration_inputs, rebuild_error, gate)
    card.update(earlier_figures(path, card["sha256"]))
    return write_yunet_card(path, card)


def write_yunet_card(path: Path, card: dict[str, Any]) -> Path:
    written = write_card(path, card)
    path.with_suffix(".md").write_text(markdown(card))
    return written


def earlier_figures(path: Path, sha256: str) -> dict[str, Any]:
    """Stage figures of the card already beside `path`, if it is for the same bytes."""
    try:
        card = load_card(path)
    except ModelCardError:
        return {}
    if card.get("sha256") != sha256 or "stage_metrics" not in card:
        return {}
    return {"stage_metrics": card["stage_metrics"]}


def markdown(card: dict[str, Any]) -> str:
    """The human card: what the file is, how it was made, the figures the card holds."""
    source = card["source"]
    text = (
        f"# {card['name']}\n\n"
        f"File `{card['file']}`, {card['size_bytes']:,} bytes, sha256 `{card['sha256']}`.\n"
        f"From {source['name']}, `{source['file']}` (sha256 `{source['sha256']}`), "
        f"{source['licence']}. Rebuilt and quantized by `{card['reproduce']}`.\n\n"
        f"Input: int8 {card['input']['shape_signature']}, {card['input']['preprocessing']}\n\n"
        f"Outputs: {card['decoder']['maps']}. Keypoints: "
        f"{', '.join(card['decoder']['keypoints'])}.\n\n"
        f"Calibration: {card['calibration']['inputs']} inputs ({card['calibration']['what']}).\n"
        f"Replay check: {card['rebuild_check']['largest_difference']:.2g} largest difference.\n"
    )
    gate = card.get("recall_check")
    if gate:
        names = list(gate["float"])
        text += (
            "\n## Recall gate (quick slice)\n\n| | "
            + " | ".join(names)
            + " |\n|---|"
            + "---|" * len(names)
            + "\n"
            + "".join(
                f"| {kind} | " + " | ".join(str(gate[kind][n]) for n in names) + " |\n"
                for kind in ("int8", "float")
            )
            + f"\n{gate['what']}.\n"
        )
    metrics = card.get("stage_metrics")
    if metrics:
        text += "\n## The detection stage (`python -m evaluate.detector_eval`)\n\n" + _stage_table(
            metrics
        )
    return text


def _stage_table(m: dict[str, Any]) -> str:
    rows = []
    for name, r in m.items():
        if not isinstance(r, dict) or "near" not in r or "groups" not in r:
            continue
        near = " / ".join(f"{v}" for v in r["near"]["recall"].values())
        groups, dlib = r["groups"], r["faces_dlib"]
        rows.append(
            f"| {name} | {near} | {groups['recall']['>=32px']} / {groups['recall']['>=48px']} "
            f"| {groups['false_detections']} | {dlib['found']}/{dlib['faces']}, "
            f"{r['dogs_detections']} on dogs | {r['blink_portrait_frames_with_a_face']} |"
        )
    return (
        "| model | near: recall at 30 / 50 / 70 / 90 % of the frame | groups: recall >= 32 / "
        "48 px | false detections (397 photos) | faces-dlib | blink video |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"{m.get('what', '')}\n"
    )
