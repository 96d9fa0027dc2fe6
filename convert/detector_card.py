"""The face detectors' cards: written once here, for `convert face-detector` and for
`python -m convert.detector_eval --write-cards` alike.

The JSON card goes through `edge.perception.model_card.write_card` (the one card format the
loader checks); a human card (.md) is written beside it from the same dictionary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convert.detector_specs import DECODER, DetectorSpec
from edge.perception.detector_model import KEYPOINT_ORDER, int8_input
from edge.perception.model_card import ModelCardError, load_card, sha256_of, write_card
from edge.perception.runtime import make_interpreter


def detector_card(
    spec: DetectorSpec, path: Path, source: dict[str, str], extra: dict[str, Any]
) -> dict[str, Any]:
    """The card of a converted int8 detector, read off the file itself: its sha256, size,
    input and output quantization; `extra` (rebuild and recall checks, calibration, how to
    reproduce) after. RuntimeError if its input is not the bit-flip input edge expects."""
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
    return {
        "name": spec.title,
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
        "anchors": spec.grid,
        "decoder": {**DECODER, "keypoints": list(KEYPOINT_ORDER)},
        **extra,
    }


def write_detector_card(model_path: Path, card: dict[str, Any]) -> Path:
    """The card beside its model and the human card (.md) beside both; the card path."""
    path = write_card(model_path, card)
    model_path.with_suffix(".md").write_text(markdown(card))
    return path


def earlier_figures(model_path: Path, sha256: str) -> dict[str, Any]:
    """The stage figures of the card already beside `model_path`, if that card is for the
    very same bytes (a conversion that reproduces a file keeps what was measured on it)."""
    try:
        card = load_card(model_path)
    except ModelCardError:  # none yet, or one not worth keeping
        return {}
    if card["sha256"] != sha256 or "stage_metrics" not in card:
        return {}
    return {"stage_metrics": card["stage_metrics"]}


def markdown(card: dict[str, Any]) -> str:
    """The human card: what the file is, how it was made, and the figures the card holds."""
    text = (
        f"# {card['name']}\n\n"
        f"File `{card['file']}`, {card['size_bytes']:,} bytes, sha256 `{card['sha256']}`.\n"
        f"From `{card['source']['member']}` in `{card['source']['package']}`, rebuilt and "
        f"quantized by `{card['reproduce']}`.\n\n"
        f"Input: {card['input']['shape']} int8, {card['input']['preprocessing']}.\n"
        f"Calibration: {card['calibration']['frames']} frames ({card['calibration']['what']}), "
        f"activation ranges clipped at the {card['calibration']['percentile']} % percentile.\n"
    )
    if "recall_check" in card:
        text += "\n" + _recall_check(card["recall_check"])
    if "stage_metrics" in card:
        text += "\n" + _stage_table(card["stage_metrics"])
    return text


def _recall_check(check: dict[str, Any]) -> str:
    rows = [
        f"| {name} | {' / '.join(str(v) for v in check[name]['near'].values())} "
        f"| {check[name]['faces_dlib']} |"
        for name in ("int8", "float")
    ]
    return (
        "## The conversion's recall check (this model alone)\n\n"
        f"| model | near: recall at {' / '.join(check['int8']['near'])} of the frame "
        "| faces-dlib recall |\n|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"{check['what']}\n"
    )


def _stage_table(m: dict[str, Any]) -> str:
    rows = []
    for name in ("int8", "float"):
        if name not in m:
            continue
        r = m[name]
        near = " / ".join(f"{v}" for v in r["near"]["recall"].values())
        groups, dlib = r["groups"], r["faces_dlib"]
        rows.append(
            f"| {name} | {near} | {groups['recall']['>=32px']} / {groups['recall']['>=48px']} "
            f"| {groups['false_detections']} | {dlib['found']}/{dlib['faces']}, "
            f"{r['dogs_detections']} on dogs | {r['blink_portrait_frames_with_a_face']} |"
        )
    return (
        "## The detection stage it is part of (WIDER FACE, faces-dlib, the blink video)\n\n"
        "| models | near: recall at 30 / 50 / 70 / 90 % of the frame | groups: recall >= 32 / "
        "48 px | false detections (397 photos) | faces-dlib | blink video |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Near: the WIDER zoom protocol (503 unoccluded booth faces >= 100 px, IoU >= 0.5); "
        "groups: the seven group events, booth faces by box width, IoU >= 0.4; false: "
        "detections overlapping no labelled box (IoU < 0.2). Boxes mapped to WIDER's "
        "convention first (`edge.perception.face_detector.BOX_FIT`).\n"
    )
