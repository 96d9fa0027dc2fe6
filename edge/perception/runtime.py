"""One interpreter factory: ai-edge-litert first, then the legacy tflite-runtime.

The edge app never imports TensorFlow; every interpreter is built here, once per model,
and tensors are quantized with the (scale, zero_point) read from the model itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from edge.perception.model_errors import ModelLoadError

log = logging.getLogger(__name__)

_INSTALL_HINT = (
    "no TFLite runtime found: install ai-edge-litert (pip install ai-edge-litert) or, on an "
    "older board, the legacy one (pip install 'smilebooth[tflite-runtime]')"
)


def _interpreter_class() -> tuple[type, str]:
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai-edge-litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, "tflite-runtime"
    except ImportError as exc:
        raise RuntimeError(_INSTALL_HINT) from exc


def runtime_name() -> str:
    """Which runtime make_interpreter will use, for reports and benchmarks."""
    return _interpreter_class()[1]


def make_interpreter(model_path: str | Path, threads: int = 1) -> Any:
    """Build and allocate an interpreter for a .tflite file."""
    path = Path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    cls, name = _interpreter_class()
    try:
        interpreter = cls(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError, OSError) as exc:  # the runtime's own words, first line
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(f"{path}: {name} cannot load this model: {reason}") from exc
    log.debug("loaded %s with %s, %d thread(s)", path.name, name, threads)
    return interpreter


def quantize(values: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Float values -> the tensor's dtype, using the tensor's own quantization."""
    dtype = detail["dtype"]
    scale, zero_point = detail["quantization"]
    if scale == 0:
        return values.astype(dtype)
    info = np.iinfo(dtype)
    q = np.round(values / scale + zero_point)
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """A tensor's raw values -> float32, using the tensor's own quantization."""
    scale, zero_point = detail["quantization"]
    if scale == 0:
        return values.astype(np.float32)
    return (values.astype(np.float32) - zero_point) * np.float32(scale)
