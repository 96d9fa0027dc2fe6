"""Does the smile model's mirror average pay for itself? FER+ Valid and Test, both ways.

The shipped smile model used to run every crop and its mirror image through the network
(two passes per face, `convert smile --flip-average`). This measures the same weights
four ways on FER2013Valid (where the choice is made) and FER2013Test (reported only):
float with and without the mirror, and the two saved int8 files through the edge app's
own SmileModel, so the figures are the ones a device would get.

    python -m evaluate.smile_mirror --single build/smile_single/smile_int8.tflite \
        --mirrored models/smile_int8.tflite --float models/smile_float.keras
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from convert.cli import DEFAULT_DATA
from convert.smile import invoke_latency_ms, predict_tflite, with_flip_average
from edge.perception.smile_model import SmileModel
from training.evaluate import HEADLINE_KEYS, evaluate_heads
from training.ferplus import load_split
from training.report import predict_keras

SPLITS = ("valid", "test")


def measure(
    float_path: Path, mirrored: Path, single: Path, data: Path, limit: int = 0
) -> dict[str, Any]:
    """{variant: {split: headline metrics}, "latency_ms": {variant: p50}} for four variants."""
    import keras

    plain = keras.models.load_model(float_path, compile=False)
    keras_models = {"float, one pass": plain, "float, mirror": with_flip_average(plain)}
    int8_models = {
        "int8, one pass": SmileModel(single, threads=1, verify=False),
        "int8, mirror": SmileModel(mirrored, threads=1, verify=False),
    }
    figures: dict[str, Any] = {name: {} for name in (*keras_models, *int8_models)}
    for split in SPLITS:
        data_split = load_split(data, split)
        if limit:
            data_split = data_split.subset(np.arange(min(limit, len(data_split))))
        for name, keras_model in keras_models.items():
            outputs = predict_keras(keras_model, data_split.images)
            figures[name][split] = _headline(evaluate_heads(outputs, data_split.votes))
        for name, int8_model in int8_models.items():
            outputs = predict_tflite(int8_model, data_split.images)
            figures[name][split] = _headline(evaluate_heads(outputs, data_split.votes))
    crop = load_split(data, "test").images[0]
    figures["latency_ms"] = {
        name: round(invoke_latency_ms(model, crop)["p50"], 3) for name, model in int8_models.items()
    }
    return figures


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {"images": metrics["images"], **{key: metrics[key] for key in HEADLINE_KEYS}}


def format_table(figures: dict[str, Any]) -> str:
    keys = ("emotion_accuracy", "smiling_accuracy", "intensity_accuracy")
    header = "| variant | split | " + " | ".join(keys) + " |"
    lines = [header, "|" + "---|" * (len(keys) + 2)]
    for name, splits in figures.items():
        if name == "latency_ms":
            continue
        for split, metrics in splits.items():
            cells = " | ".join(f"{100 * metrics[key]:.2f} %" for key in keys)
            lines.append(f"| {name} | {split} ({metrics['images']}) | {cells} |")
    latency = ", ".join(f"{k} {v:.3f} ms" for k, v in figures["latency_ms"].items())
    lines.append(f"\none invoke p50 (1 thread): {latency}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluate.smile_mirror", description=__doc__)
    parser.add_argument("--float", dest="float_path", type=Path, required=True)
    parser.add_argument("--mirrored", type=Path, required=True, help="int8 file with the mirror")
    parser.add_argument("--single", type=Path, required=True, help="int8 file, one pass")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FER+ folder")
    parser.add_argument("--limit", type=int, default=0, help="first N images per split (tests)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    for path in (args.float_path, args.mirrored, args.single):
        if not path.is_file():
            print(f"smile_mirror: not found: {path}", file=sys.stderr)
            return 2
    figures = measure(args.float_path, args.mirrored, args.single, args.data, args.limit)
    print(format_table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
