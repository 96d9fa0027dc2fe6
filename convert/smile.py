"""`smilebooth convert smile`: Keras smile model -> full-int8 .tflite + its measured card.

Full int8 means int8 input and outputs, int8 weights and activations, calibrated on real
training crops. The card's metrics are measured on the saved .tflite file itself, through
the edge app's own SmileModel, so what ships is what was measured.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from convert.latency import latency_ms
from convert.tflite_calibration import keras_to_int8
from edge.perception.crop import CROP_RULE_TEXT, CROP_SIZE, model_input
from edge.perception.labels import EMOTIONS, INTENSITY, INTENSITY_UPPER_VOTES
from edge.perception.model_card import card_path, sha256_of, write_card
from edge.perception.runtime import runtime_name
from edge.perception.smile_model import SmileModel
from training.evaluate import HEADLINE_KEYS, evaluate_heads, headline
from training.ferplus import FerPlusSplit, load_split
from training.report import predict_keras

log = logging.getLogger(__name__)
CALIBRATION_IMAGES = 500
MIRROR_TEXT = " Outputs are averaged over the crop and its mirror image."
ONE_PASS_TEXT = (
    " One pass per crop: averaging with the mirror image (`--flip-average`, two passes) "
    "was measured on FER+ Valid and left out (`python -m evaluate.smile_mirror`; README)."
)


def with_flip_average(model: Any) -> Any:
    """Average the model's outputs on the crop and its mirror image, inside one graph.

    Faces are left-right symmetric in meaning but not in pixels; averaging both views
    removes some of the model's noise at the cost of running the backbone twice.
    """
    import keras

    crop = keras.Input(model.input_shape[1:], name="face")
    mirrored = keras.layers.Lambda(lambda t: keras.ops.flip(t, axis=2), name="mirror")(crop)
    direct, flipped = model(crop), model(mirrored)
    outputs = {
        name: keras.layers.Average(name=name)([direct[name], flipped[name]]) for name in direct
    }
    return keras.Model(crop, outputs)


def to_int8_tflite(model: Any, calibration: np.ndarray) -> bytes:
    """Full int8, calibrated on real 48x48 crops (uint8 -> the model's 0..1 float input)."""
    inputs = [model_input(c.reshape(1, CROP_SIZE, CROP_SIZE, 1)) for c in calibration]
    return keras_to_int8(model, inputs)


def predict_tflite(model: SmileModel, images: np.ndarray) -> dict[str, np.ndarray]:
    """Run the saved int8 file on every crop, as the edge app does."""
    rows = [model.raw_outputs(crop) for crop in images]
    return {name: np.stack([row[name] for row in rows]) for name in rows[0]}


def invoke_latency_ms(model: SmileModel, crop: np.ndarray, runs: int = 300) -> dict[str, float]:
    return latency_ms(lambda: model.raw_outputs(crop), runs, warmup=20)


def _card(
    tflite_path: Path, model: SmileModel, metrics: dict[str, Any], extra: dict[str, Any]
) -> dict[str, Any]:
    details = model._interpreter.get_input_details()[0]
    outputs = {
        name: {"shape": [int(v) for v in d["shape"]], "quantization": list(d["quantization"])}
        for name, d in model._outputs.items()
    }
    return {
        "name": "smilebooth smile model",
        "file": tflite_path.name,
        "sha256": sha256_of(tflite_path),
        "size_bytes": tflite_path.stat().st_size,
        "input": {
            "shape": [int(v) for v in details["shape"]],
            "dtype": details["dtype"].__name__,
            "quantization": list(details["quantization"]),
            "crop_rule": CROP_RULE_TEXT,
        },
        "outputs": outputs,
        "labels": {
            "emotions": list(EMOTIONS),
            "intensity": list(INTENSITY),
            "intensity_bins_happiness_votes_of_10": {
                name: [lo, hi]
                for name, lo, hi in zip(
                    INTENSITY,
                    (0, *[u + 1 for u in INTENSITY_UPPER_VOTES[:-1]]),
                    INTENSITY_UPPER_VOTES,
                    strict=True,
                )
            },
            "smiling": "P(happiness is the annotators' majority)",
        },
        "metrics": metrics,
        **extra,
    }


def _write_markdown(card: dict[str, Any], path: Path) -> None:
    metrics = card["metrics"]
    splits = [("Test", metrics)] + ([("Valid", metrics["valid"])] if "valid" in metrics else [])
    rows = "\n".join(
        f"| {key} ({name}) | {100 * split['float'][key]:.2f} % | {100 * split['int8'][key]:.2f} % |"
        for name, split in splits
        for key in HEADLINE_KEYS
    )
    path.write_text(
        f"# Smile model card\n\n`{card['file']}` — sha256 `{card['sha256']}`, "
        f"{card['size_bytes']} bytes, full int8.\n\n"
        f"- Data: FER2013 images with FER+ votes; trained on FER2013Train with the epoch chosen "
        f"on FER2013Valid{_finetune_text(card)}; measured on FER2013Test "
        f"({metrics['int8']['images']} images: majority label, majority unknown/NF left out)."
        f"{MIRROR_TEXT if card['training']['flip_average'] else ONE_PASS_TEXT}\n"
        f"- Input: {card['input']['shape']} {card['input']['dtype']}, quantization "
        f"{card['input']['quantization']}. Crop rule: {card['input']['crop_rule']}.\n"
        f"- Outputs: emotions ({', '.join(EMOTIONS)}), intensity ({', '.join(INTENSITY)}; "
        f"bins in happiness votes of 10: {card['labels']['intensity_bins_happiness_votes_of_10']}"
        f"), smiling (sigmoid).\n"
        f"- Architecture: {card['training']['architecture']}, "
        f"{card['training']['parameters']} parameters.\n"
        f"- Latency: one invoke p50 {card['latency_ms']['p50']:.3f} ms, p95 "
        f"{card['latency_ms']['p95']:.3f} ms ({card['latency_runtime']}, 1 thread, this "
        f"machine).\n\n| metric (FER+) | float (Keras) | int8 (this file) |\n|---|---|---|\n"
        f"{rows}\n\nReproduce: `{card['reproduce']}` (from `{card['training']['keras_file']}`"
        f" of sha256 `{card['training'].get('keras_sha256', '?')}`)\n\n"
        f"Full metrics, per-class precision/recall and confusion matrices: "
        f"`{card_path(Path(card['file'])).name}`; plotted in "
        f"`{Path(card['file']).stem}_confusion_intensity.png` and "
        f"`{Path(card['file']).stem}_confusion_emotions.png`.\n"
    )


def convert_smile(
    keras_path: Path, data: Path, out_dir: Path, smoke: bool = False, flip_average: bool = False
) -> Path:
    import keras

    model = keras.models.load_model(keras_path, compile=False)
    if flip_average:
        model = with_flip_average(model)
    train, test = load_split(data, "train"), load_split(data, "test")
    valid = load_split(data, "valid")
    rng = np.random.default_rng(7)
    calibration = train.images[rng.choice(len(train), CALIBRATION_IMAGES, replace=False)]
    if smoke:
        test, valid = test.subset(np.arange(256)), valid.subset(np.arange(256))
    out_dir.mkdir(parents=True, exist_ok=True)
    tflite_path = out_dir / ("smile_smoke_int8.tflite" if smoke else "smile_int8.tflite")
    tflite_path.write_bytes(to_int8_tflite(model, calibration[:64] if smoke else calibration))
    metrics = _measure(model, tflite_path, test)
    metrics["valid"] = _measure(model, tflite_path, valid, "FER+ Valid")
    edge_model = SmileModel(tflite_path, threads=1, verify=False)
    extra = {
        "latency_ms": invoke_latency_ms(edge_model, test.images[0]),
        "latency_runtime": runtime_name(),
        "training": {
            "architecture": _architecture(keras_path, model),
            "parameters": model.count_params(),
            "keras_file": keras_path.name,
            "keras_sha256": sha256_of(keras_path),  # what `reproduce` starts from
            "flip_average": flip_average,
            "finetune_epochs": _train_args(keras_path).get("finetune_epochs", "0"),
        },
        "reproduce": _reproduce(keras_path, flip_average),
    }
    card = _card(tflite_path, edge_model, metrics, extra)
    write_card(tflite_path, card)
    _plot_int8_confusions(metrics["int8"], tflite_path)
    _write_markdown(card, tflite_path.with_suffix(".md"))
    log.info("int8 %s: %s", tflite_path.name, headline(metrics["int8"]))
    return tflite_path


def _measure(
    model: Any, tflite_path: Path, split: FerPlusSplit, dataset: str = "FER+ Test"
) -> dict[str, Any]:
    float_metrics = evaluate_heads(predict_keras(model, split.images), split.votes)
    edge_model = SmileModel(tflite_path, threads=1, verify=False)
    int8_metrics = evaluate_heads(predict_tflite(edge_model, split.images), split.votes)
    gap = {k: round(100 * (float_metrics[k] - int8_metrics[k]), 2) for k in HEADLINE_KEYS}
    return {
        "dataset": dataset,
        "float": float_metrics,
        "int8": int8_metrics,
        "float_minus_int8_points": gap,
    }


def _plot_int8_confusions(metrics: dict[str, Any], tflite_path: Path) -> None:
    """Confusion matrices of the saved int8 file, beside it."""
    from training.report import plot_confusion

    stem = tflite_path.with_suffix("").name
    plot_confusion(
        np.array(metrics["intensity_confusion"]),
        INTENSITY,
        "FER+ Test, int8 file: smile intensity",
        tflite_path.parent / f"{stem}_confusion_intensity.png",
    )
    plot_confusion(
        np.array(metrics["emotion_confusion"]),
        EMOTIONS,
        "FER+ Test, int8 file: emotions",
        tflite_path.parent / f"{stem}_confusion_emotions.png",
    )


def _finetune_text(card: dict[str, Any]) -> str:
    epochs = card["training"].get("finetune_epochs", "0")
    return (
        ""
        if epochs in ("0", None)
        else (f", then fine-tuned {epochs} epochs on Train+Valid at a low rate")
    )


def _train_args(keras_path: Path) -> dict[str, Any]:
    args_file = keras_path.parent / "train_args.json"
    return json.loads(args_file.read_text()) if args_file.is_file() else {}


def _reproduce(keras_path: Path, flip_average: bool) -> str:
    """The commands that rebuild this file: every training argument that differs from
    its default, so a changed default cannot silently change what they make."""
    import argparse

    from training.train import add_arguments

    convert = f"smilebooth convert smile --keras {_shown(keras_path)}" + (
        " --flip-average" if flip_average else ""
    )
    if not (keras_path.parent / "train_args.json").is_file():
        return convert  # e.g. models/smile_float.keras: weights with no training run beside
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = vars(parser.parse_args([]))  # every training option at its default
    skipped = {"out", "data", "fer2013_csv", "smoke", "help"}
    train = "smilebooth train --out build/smile"
    for name, value in _train_args(keras_path).items():
        if name in skipped or name not in defaults or value == str(defaults[name]):
            continue
        train += f" --{name.replace('_', '-')} {value}"
    return f"{train} && {convert}"


def _shown(keras_path: Path) -> str:
    """The path as a command in the project's folder would name it."""
    try:
        return str(keras_path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(keras_path)


def _architecture(keras_path: Path, model: Any) -> str:
    """From the training run's arguments, else from the network's conv widths."""
    from convert.smile_float import architecture_of

    args = keras_path.parent / "train_args.json"
    if args.is_file():
        return str(json.loads(args.read_text()).get("architecture", "?"))
    filters = tuple(
        int(layer.filters) for layer in model.layers if layer.__class__.__name__ == "Conv2D"
    )
    return architecture_of(filters) or "?"
