"""`smilebooth convert eyes`: Keras eye-state model -> full-int8 .tflite + its measured card.

int8 input and output, calibrated on augmented Train crops. Every figure in the card is
measured on the saved file through the edge app's own EyeStateModel: the eyes dataset's
Test split at eye widths 5-40 px, blink_portrait.mp4 against its committed labels and the
six-person faces-dlib photo (both through the shipped face detector and edge's crop rule).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from convert.latency import latency_ms
from convert.tflite_calibration import keras_to_int8
from edge.perception.eye_crop import EYE_CROP_RULE_TEXT, EYE_CROP_SIZE
from edge.perception.eyes import EyeStateModel
from edge.perception.model_card import sha256_of, write_card
from edge.perception.runtime import runtime_name
from evaluate.eyes_real import BLINK_VIDEO, GROUP_PHOTO, blink_figures, group_photo_figures
from training.eyes_data import augmented_set, eval_set
from training.eyes_eval import CLASSES, eye_metrics
from training.train_eyes import as_input, splits

log = logging.getLogger(__name__)
CALIBRATION_CROPS = 600


def to_int8_tflite(model: Any, calibration: np.ndarray) -> bytes:
    """Full int8, calibrated on real eye crops; the batch dimension stays free."""
    return keras_to_int8(model, [as_input(crop[None]) for crop in calibration])


def predict_tflite(model: EyeStateModel, crops: np.ndarray) -> np.ndarray:
    """P(open) of every crop, two per invoke as on the device (an odd last one padded)."""
    padded = np.concatenate([crops, crops[:1]]) if len(crops) % 2 else crops
    pairs = padded.reshape(-1, 2, EYE_CROP_SIZE, EYE_CROP_SIZE)
    return np.concatenate([model.open_probabilities(pair) for pair in pairs])[: len(crops)]


def pair_latency_ms(model: EyeStateModel, runs: int = 500) -> dict[str, float]:
    """One invoke on both eyes of a face (the crop cut is measured by `smilebooth bench`)."""
    pair = np.full((2, EYE_CROP_SIZE, EYE_CROP_SIZE), 128, np.uint8)
    return latency_ms(lambda: model.open_probabilities(pair), runs, warmup=50)


THRESHOLDS = tuple(round(0.05 * step, 2) for step in range(1, 20))  # 0.05 .. 0.95
OPEN_THRESHOLD = 0.5  # eyes.open_threshold's default


def valid_thresholds(
    model: EyeStateModel, crops: np.ndarray, truth: np.ndarray, widths: np.ndarray
) -> dict[str, Any]:
    """Valid balanced accuracy (10-40 px) of the saved file at each P(open) threshold.

    The threshold is Valid's choice, not Test's: the card shows where Valid peaks and how
    flat it is around the default, so a move of eyes.open_threshold can be judged.
    """
    p_open = predict_tflite(model, crops)
    scores = {t: eye_metrics(truth, p_open, widths, t)["balanced_accuracy"] for t in THRESHOLDS}
    best = max(scores, key=lambda t: (scores[t], -abs(t - OPEN_THRESHOLD)))
    return {
        "balanced_accuracy": {str(t): round(v, 4) for t, v in scores.items()},
        "best": best,
        "at_default": round(scores[OPEN_THRESHOLD], 4),
        "default": OPEN_THRESHOLD,
    }


def convert_eyes(keras_path: Path, data: Path, out_dir: Path, smoke: bool = False) -> Path:
    import keras

    model = keras.models.load_model(keras_path, compile=False)
    parts = splits(data)
    train, valid, test = parts["train"], parts["valid"], parts["test"]
    if smoke:
        train, valid, test = (
            train.subset(range(32)),
            valid.subset(range(16)),
            test.subset(range(32)),
        )
    calibration, _ = augmented_set(train.images, train.labels, 2 if smoke else 1, seed=7)
    calibration = calibration[np.random.default_rng(7).permutation(len(calibration))]
    out_dir.mkdir(parents=True, exist_ok=True)
    tflite_path = out_dir / ("eyes_smoke_int8.tflite" if smoke else "eyes_int8.tflite")
    tflite_path.write_bytes(to_int8_tflite(model, calibration[:CALIBRATION_CROPS]))
    crops, truth, widths = eval_set(test.images, test.labels)
    edge_model = EyeStateModel(tflite_path, verify=False)
    float_p = model.predict(as_input(crops), batch_size=512, verbose=0).reshape(-1)
    int8_p = predict_tflite(edge_model, crops)
    metrics: dict[str, Any] = {
        "dataset": f"{data.name} Test split ({len(test)} images, each at every eye width)",
        "float": eye_metrics(truth, float_p, widths),
        "int8": eye_metrics(truth, int8_p, widths),
        "float_int8_agreement": float(((float_p > 0.5) == (int8_p > 0.5)).mean()),
        "valid_thresholds": valid_thresholds(edge_model, *eval_set(valid.images, valid.labels)),
    }
    if not smoke and BLINK_VIDEO.is_file() and GROUP_PHOTO.is_file():
        metrics["blink_portrait"] = blink_figures(tflite_path)
        metrics["group_photo"] = group_photo_figures(tflite_path)
    card = _card(tflite_path, edge_model, metrics, model.count_params(), keras_path)
    write_card(tflite_path, card)
    _plot(metrics["int8"], tflite_path)
    _write_markdown(card, tflite_path.with_suffix(".md"))
    log.info(
        "int8 %s: Test balanced accuracy %.4f",
        tflite_path.name,
        metrics["int8"]["balanced_accuracy"],
    )
    return tflite_path


def _card(
    path: Path, model: EyeStateModel, metrics: dict[str, Any], parameters: int, keras_path: Path
) -> dict[str, Any]:
    detail = model._interpreter.get_input_details()[0]
    output = model._output
    args_file = keras_path.parent / "train_args.json"  # written by smilebooth train eyes
    trained_with = json.loads(args_file.read_text()) if args_file.is_file() else {}
    return {
        "name": "smilebooth eye-state model",
        "file": path.name,
        "sha256": sha256_of(path),
        "size_bytes": path.stat().st_size,
        "input": {
            "shape": [1, EYE_CROP_SIZE, EYE_CROP_SIZE, 1],
            "batch": "free: the edge app runs both eyes of a face as one batch of 2",
            "dtype": detail["dtype"].__name__,
            "quantization": list(detail["quantization"]),
            "crop_rule": EYE_CROP_RULE_TEXT,
        },
        "outputs": {"open": {"shape": [1, 1], "quantization": list(output["quantization"])}},
        "labels": {"open": "P(eye open)", "classes": list(CLASSES)},
        "metrics": metrics,
        "latency_ms_per_face": pair_latency_ms(model),
        "latency_runtime": runtime_name(),
        "training": {
            "parameters": parameters,
            "keras_file": keras_path.name,
            "train_args": trained_with,
            "extra_data": _extra_data_text(trained_with),
            "narrowed_eyes": f"a share ({trained_with.get('narrow_probability', 'unknown')}) "
            "of the training crops of both classes with the lid band squeezed to 0.4-0.85 of "
            "its height, so eyes narrowed by a smile or by their shape read open",
        },
        "reproduce": "python -m training.faces_eyes_crops && smilebooth train eyes "
        "--extra-data build/faces-eyes-crops --out build/eyes && "
        "smilebooth convert eyes --eyes-keras build/eyes/best.keras",
    }


def _extra_data_text(trained_with: dict[str, Any]) -> str:
    """What `train eyes --extra-data` added, in words (empty when nothing was)."""
    folders = trained_with.get("extra_data") or []
    if not folders:
        return ""
    weight = trained_with.get("extra_weight", 1)
    return (
        f"also trained on {', '.join(str(f) for f in folders)} (eyes cut by "
        "`python -m training.faces_eyes_crops` from a quarter of faces-eyes, never its Test "
        f"half, each giving {weight} x the crops of an eye-dataset image; its Valid share "
        "joins the epoch choice)"
    )


def _plot(metrics: dict[str, Any], path: Path) -> None:
    from training.report import plot_confusion

    plot_confusion(
        np.array(metrics["confusion"]),
        CLASSES,
        "int8, Test, 10-40 px",
        path.parent / f"{path.stem}_confusion.png",
    )


def _write_markdown(card: dict[str, Any], path: Path) -> None:
    metrics = card["metrics"]
    rows = [
        ("10-40 px (all)", metrics["float"], metrics["int8"]),
        *(
            (f"{name} px", metrics["float"]["slices"][name], metrics["int8"]["slices"][name])
            for name in metrics["int8"]["slices"]
        ),
    ]
    table = "\n".join(
        f"| {name} | {100 * f['balanced_accuracy']:.2f} % | {100 * q['balanced_accuracy']:.2f} % "
        f"| {q['confusion']} |"
        for name, f, q in rows
    )
    thresholds = metrics["valid_thresholds"]
    sweep = ", ".join(
        f"{t} {100 * v:.2f}"
        for t, v in thresholds["balanced_accuracy"].items()
        if float(t) in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    )
    real = ""
    if "blink_portrait" in metrics:
        blink, group = metrics["blink_portrait"], metrics["group_photo"]
        real = (
            f"\n- blink_portrait.mp4 (int8, against `tests/data/blink_portrait_labels.csv`): "
            f"frame accuracy {100 * blink['frame_accuracy']:.2f} % ({blink['frames']} frames; "
            f"{100 * blink['frame_accuracy_without_transition_frames']:.2f} % without the "
            f"transition frames), blinks caught {blink['blinks_caught']}/{blink['blinks']}; "
            f"rule: {blink['rule']}.\n- faces-dlib/{group['photo']}: eyes_open "
            f"{group['eyes_open']} (left to right).\n"
        )
    extra = card["training"].get("extra_data", "")
    extra = f" It was {extra}." if extra else ""
    path.write_text(
        f"# Eye-state model card\n\n`{card['file']}` — sha256 `{card['sha256']}`, "
        f"{card['size_bytes']} bytes, full int8 (int8 input and output).\n\n"
        f"- Input: {card['input']['shape']} {card['input']['dtype']} (batch free; the app "
        f"runs both eyes as one batch of 2), quantization {card['input']['quantization']}. "
        f"Crop rule: {card['input']['crop_rule']}.\n"
        f"- Output: P(open) (sigmoid), quantization {card['outputs']['open']['quantization']}."
        f" An eye counts as open when P(open) > eyes.open_threshold (0.5).\n"
        f"- Architecture: 5 conv 3x3 + BatchNorm + ReLU (8-8-16-16-32), global average pool, "
        f"one sigmoid; {card['training']['parameters']} parameters.\n"
        f"- Latency: one invoke on both eyes p50 {card['latency_ms_per_face']['p50']:.3f} ms, "
        f"p95 {card['latency_ms_per_face']['p95']:.3f} ms ({card['latency_runtime']}, 1 "
        f"thread, this machine).\n"
        f"- Data: {metrics['dataset']}; split by a hash of the file name (train 65 %, valid "
        f"15 %, test 20 %); epoch chosen on Valid. Each Test crop is shrunk so the eye is "
        f"5-40 px wide and cut by the run-time rule. Augmentation: "
        f"{card['training']['narrowed_eyes']}.{extra}\n{real}\n"
        f"| eye width | balanced accuracy float (Keras) | int8 (this file) | int8 confusion "
        f"[[closed→closed, closed→open], [open→closed, open→open]] |\n|---|---|---|---|\n"
        f"{table}\n\nfloat/int8 agreement: {100 * metrics['float_int8_agreement']:.2f} % of "
        f"crops.\n\nThreshold, chosen on Valid (10-40 px, this file): balanced accuracy "
        f"{100 * thresholds['at_default']:.2f} % at {thresholds['default']}, best "
        f"{100 * thresholds['balanced_accuracy'][str(thresholds['best'])]:.2f} % at "
        f"{thresholds['best']} (thresholds 0.3-0.9: {sweep}).\n\n"
        f"Reproduce: `{card['reproduce']}`\n\nConfusion plot: "
        f"`{path.stem}_confusion.png`.\n"
    )
