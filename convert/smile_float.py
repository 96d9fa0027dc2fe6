"""The shipped smile model's float weights, read back out of its full-int8 .tflite.

Fine-tuning (`smilebooth train smile --init-from`) needs float weights. The int8 file keeps
every weight (int8, per-channel scales) and every bias (int32) with BatchNorm folded in, so
dequantizing them and loading them into the same network with its BatchNorms folded
(`training.model.build_model(batch_norm=False)`) gives a float model that computes what the
shipped file computes, up to int8 rounding of activations. `convert smile-float` writes it
to models/smile_float.keras with a card naming the int8 file (sha256) it came from.

A flip-averaged file runs the backbone twice (on the crop and on its mirror); only the
branch fed by the crop itself is read (both branches share their weights).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.perception.model_card import sha256_of, write_card

log = logging.getLogger(__name__)
FLOAT_MODEL = "smile_float.keras"
HEADS = ("emotions", "intensity", "smiling")


class Int8GraphError(ValueError):
    """The .tflite is not the smile network this module knows how to read back."""


@dataclass(frozen=True)
class Layer:
    """One dequantized CONV_2D or FULLY_CONNECTED: Keras-ordered kernel and bias."""

    op: str
    kernel: np.ndarray
    bias: np.ndarray


def read_int8_layers(tflite_path: Path) -> list[Layer]:
    """Conv and dense layers on the crop's own branch, in graph order, as float32."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # No XNNPACK delegate: it would take the weight tensors out of reach.
    interpreter = Interpreter(
        model_path=str(tflite_path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()
    mirrored = {o for op in ops if op["op_name"] == "REVERSE_V2" for o in op["outputs"]}
    reached = {interpreter.get_input_details()[0]["index"]}
    layers = []
    for op in ops:  # the file lists ops in execution order
        if not any(i in reached for i in op["inputs"]) or op["op_name"] == "REVERSE_V2":
            continue
        if any(i in mirrored for i in op["inputs"]):
            continue
        reached.update(op["outputs"])
        if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED"):
            weights, bias = (tensors[i] for i in op["inputs"][1:3])
            kernel = _dequantize(interpreter.get_tensor(weights["index"]), weights)
            # TFLite OHWI / (out, in) -> Keras HWIO / (in, out)
            kernel = kernel.transpose(1, 2, 3, 0) if kernel.ndim == 4 else kernel.T
            layers.append(
                Layer(
                    op["op_name"], kernel, _dequantize(interpreter.get_tensor(bias["index"]), bias)
                )
            )
    return layers


def _dequantize(values: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """int8 weights or int32 biases with per-channel (axis 0) or per-tensor quantization."""
    parameters = detail["quantization_parameters"]
    scales, zero_points = parameters["scales"], parameters["zero_points"]
    if scales.size == 0:
        return values.astype(np.float32)
    shape = (-1,) + (1,) * (values.ndim - 1) if scales.size > 1 else ()
    if scales.size > 1 and parameters["quantized_dimension"] != 0:
        raise Int8GraphError(
            f"{detail['name']}: quantized along axis {parameters['quantized_dimension']}"
        )
    return (
        (values.astype(np.float32) - zero_points.reshape(shape)) * scales.reshape(shape)
    ).astype(np.float32)


def architecture_of(filters: tuple[int, ...]) -> str | None:
    """The smile architecture (training.model.ARCHITECTURES) with these conv widths."""
    from training.model import ARCHITECTURES

    return next(
        (
            name
            for name, stages in ARCHITECTURES.items()
            if filters == tuple(f for f, count in stages for _ in range(count))
        ),
        None,
    )


def float_model_from_int8(tflite_path: Path) -> Any:
    """A Keras model (BatchNorm folded) holding the int8 file's dequantized weights."""
    from training.model import ARCHITECTURES, build_model

    layers = read_int8_layers(tflite_path)
    convs = [layer for layer in layers if layer.op == "CONV_2D"]
    filters = tuple(int(layer.kernel.shape[-1]) for layer in convs)
    architecture = architecture_of(filters)
    if architecture is None or len(layers) != len(convs) + 1 + len(HEADS):
        raise Int8GraphError(
            f"{tflite_path}: conv filters {filters} and {len(layers) - len(convs)} dense "
            f"layers match no smile architecture ({', '.join(ARCHITECTURES)})"
        )
    model = build_model(architecture, batch_norm=False)
    keras_layers = [layer for layer in model.layers if layer.weights]
    dense = layers[len(convs)]
    heads = {int(layer.kernel.shape[1]): layer for layer in layers[len(convs) + 1 :]}
    sizes = {name: int(model.get_layer(name).units) for name in HEADS}
    if sorted(heads) != sorted(sizes.values()):
        raise Int8GraphError(f"{tflite_path}: head sizes {sorted(heads)}, expected {sizes}")
    for target, source in zip(keras_layers[: len(convs) + 1], [*convs, dense], strict=True):
        target.set_weights([source.kernel, source.bias])
    for name in HEADS:
        head = heads[sizes[name]]
        model.get_layer(name).set_weights([head.kernel, head.bias])
    return model


def write_float_model(tflite_path: Path, out_dir: Path) -> Path:
    """models/smile_float.keras and its card (the int8 file it came from, by sha256)."""
    model = float_model_from_int8(tflite_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FLOAT_MODEL
    model.save(path)
    card = {
        "name": "smilebooth smile model, float weights",
        "file": path.name,
        "sha256": sha256_of(path),
        "from_int8": {"file": tflite_path.name, "sha256": sha256_of(tflite_path)},
        "use": "smilebooth train smile --init-from models/smile_float.keras",
        "how": "the int8 file's weights and biases dequantized into the same network with "
        "its BatchNorms folded (training.model.build_model(batch_norm=False)); only the "
        "crop's own branch of a flip-averaged file is read",
        "parameters": int(model.count_params()),
    }
    write_card(path, card)
    log.info("%s: float weights of %s (%d parameters)", path, tflite_path.name, card["parameters"])
    return path
