"""The int8 smile model on a device: one face crop in, a SmileResult out.

The interpreter is built once; the output tensors are found through the model card (by
name and shape), and every tensor is (de)quantized with the scale and zero point the
model itself declares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge.perception.crop import CROP_SIZE, model_input
from edge.perception.labels import EMOTION_VALENCE, EMOTIONS, INTENSITY
from edge.perception.model_card import ModelCardError, open_checked
from edge.perception.runtime import dequantize, quantize
from edge.types import SmileResult

OUTPUT_SIZES = {"emotions": len(EMOTIONS), "intensity": len(INTENSITY), "smiling": 1}


class SmileModel:
    """Runs the shipped smile .tflite on 48x48 grayscale crops from edge.perception.crop."""

    def __init__(self, model_path: str | Path, threads: int = 1, verify: bool = True) -> None:
        self.path = Path(model_path)
        self._interpreter, self.card = open_checked(self.path, threads, verify)
        self._input = self._interpreter.get_input_details()[0]
        self._outputs = _find_outputs(self._interpreter.get_output_details(), self.path)
        expected = [1, CROP_SIZE, CROP_SIZE, 1]
        if [int(v) for v in self._input["shape"]] != expected:
            raise ModelCardError(
                f"{self.path}: input shape {self._input['shape']}, expected {expected}"
            )
        # uint8 pixel -> the input tensor's value, from model_input and the tensor's own
        # quantization: one table lookup into a preallocated tensor, no float per crop.
        pixels = np.arange(256, dtype=np.uint8)
        self._lookup = quantize(model_input(pixels), self._input)
        self._quantized = np.empty(self._input["shape"], self._input["dtype"])
        self._quantized_crop = self._quantized.reshape(CROP_SIZE, CROP_SIZE)  # a view
        # raw output byte -> its dequantized value, per head (int8 or uint8 outputs).
        self._values = {
            name: dequantize(pixels.view(detail["dtype"]), detail)
            for name, detail in self._outputs.items()
        }

    def raw_outputs(self, crop: np.ndarray) -> dict[str, np.ndarray]:
        """Dequantized outputs for one uint8 crop (48, 48)."""
        np.take(self._lookup, crop.reshape(CROP_SIZE, CROP_SIZE), out=self._quantized_crop)
        self._interpreter.set_tensor(self._input["index"], self._quantized)
        self._interpreter.invoke()
        return {
            name: self._values[name][
                self._interpreter.get_tensor(detail["index"])[0].view(np.uint8)
            ]
            for name, detail in self._outputs.items()
        }

    def predict(self, crop: np.ndarray) -> SmileResult:
        return smile_result(self.raw_outputs(crop))


VALENCE_WEIGHTS = tuple(EMOTION_VALENCE[name] for name in EMOTIONS)


def smile_result(outputs: dict[str, np.ndarray]) -> SmileResult:
    """Model outputs -> named probabilities, smile probability and valence.

    On Python floats: for 8 + 4 + 1 values numpy's per-call overhead is most of the cost."""
    emotions = _normalised(outputs["emotions"].tolist())
    intensity = _normalised(outputs["intensity"].tolist())
    valence = sum(w * p for w, p in zip(VALENCE_WEIGHTS, emotions, strict=True))
    smiling = float(outputs["smiling"].reshape(-1)[0])
    return SmileResult(
        emotions=dict(zip(EMOTIONS, emotions, strict=True)),
        intensity=dict(zip(INTENSITY, intensity, strict=True)),
        smile_probability=max(0.0, min(1.0, smiling)),
        valence=max(-1.0, min(1.0, valence)),
    )


def _normalised(values: list[float]) -> list[float]:
    """int8 softmax outputs do not sum to exactly 1: renormalise for clean probabilities."""
    clipped = [max(0.0, v) for v in values]
    total = sum(clipped)
    return [v / total for v in clipped] if total > 0 else [1.0 / len(values)] * len(values)


def _find_outputs(details: list[dict[str, Any]], path: Path) -> dict[str, dict[str, Any]]:
    """Match output tensors to heads by their unique sizes (8, 4, 1)."""
    by_size = {int(np.prod(d["shape"])): d for d in details}
    missing = [name for name, size in OUTPUT_SIZES.items() if size not in by_size]
    if missing or len(details) != len(OUTPUT_SIZES):
        raise ModelCardError(
            f"{path}: expected outputs of sizes {sorted(OUTPUT_SIZES.values())}, got "
            f"{[list(d['shape']) for d in details]}"
        )
    return {name: by_size[size] for name, size in OUTPUT_SIZES.items()}
