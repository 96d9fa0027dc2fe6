"""One interpreter factory: ai-edge-litert first, then the legacy tflite-runtime.

The edge app never imports TensorFlow; every interpreter is built here, once per model,
and tensors are quantized with the (scale, zero_point) read from the model itself.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
        with runtime_log_to_logging():
            interpreter = cls(model_path=str(path), num_threads=threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError, OSError) as exc:  # the runtime's own words, first line
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(f"{path}: {name} cannot load this model: {reason}") from exc
    log.debug("loaded %s with %s, %d thread(s)", path.name, name, threads)
    return interpreter


_STDERR_LOCK = threading.Lock()  # fd 2 is the process's: one redirection at a time
RUNTIME_INFO = b"INFO: "  # the C++ runtime's informational lines start so


@contextmanager
def runtime_log_to_logging() -> Iterator[None]:
    """The runtime's C++ logger writes to fd 2 (the first interpreter prints "INFO: Created
    TensorFlow Lite XNNPACK delegate for CPU."), and ai-edge-litert reads no setting that
    quiets it (TF_CPP_MIN_LOG_LEVEL is ignored). So fd 2 goes to a file while an interpreter
    is built; then its INFO lines go through this logger (hidden by -q, timestamped like
    ours) and everything else goes back to fd 2 as written: the runtime's errors stay. What
    another thread writes meanwhile is only delayed."""
    with _STDERR_LOCK, ExitStack() as stack:
        try:
            sys.stderr.flush()
            held = stack.enter_context(tempfile.TemporaryFile())
            saved = os.dup(2)
        except (OSError, ValueError):  # no fd 2 or no temporary file: leave fd 2 alone
            saved = -1
        if saved < 0:
            yield
            return
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            _pass_on(held.read())


def _pass_on(written: bytes) -> None:
    others = []
    for line in written.splitlines(keepends=True):
        if line.startswith(RUNTIME_INFO):
            log.info("%s", line[len(RUNTIME_INFO) :].decode(errors="replace").strip())
        else:
            others.append(line)
    rest = memoryview(b"".join(others))
    while rest:
        rest = rest[os.write(2, rest) :]


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
