"""Read a float TFLite model as a plain op list, then replay it with TensorFlow ops.

MediaPipe's face detectors ship as float16/sparse TFLite files without a SignatureDef, so
no quantizer takes them as they are. Replaying their own ops on dense float32 weights gives
a TensorFlow function that the TFLite converter can quantize to full int8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# TFLite's ActivationFunctionType and Padding codes (schema.fbs), as they appear in options.
FUSED_NONE, FUSED_RELU, FUSED_RELU_N1_TO_1, FUSED_RELU6 = 0, 1, 2, 3
PADDING_SAME = 0

# Ops whose outputs are constants (weights stored as float16 or sparse): read, not replayed.
CONSTANT_OPS = {"DEQUANTIZE", "DENSIFY"}


@dataclass(frozen=True)
class Op:
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any]


@dataclass(frozen=True)
class Graph:
    ops: tuple[Op, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    constants: dict[int, np.ndarray]
    names: tuple[str, ...] = ()  # every tensor's name in the file, by index
    shapes: tuple[tuple[int, ...], ...] = ()  # and its shape

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.names[i] for i in self.outputs)

    def output_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, shape) of each graph output, in order."""
        return [(self.names[i], self.shapes[i]) for i in self.outputs]

    def computed_named(self, name: str, what: str) -> int:
        """The index of the one computed tensor (an op's output, not a weight) called
        `name`; TFLite joins the names of fused ops with ';', any one of them matches (a
        fused bias carries its convolution's name too, hence computed ones only).
        ValueError saying what was expected if there is no such tensor or more than one."""
        computed = [o for op in self.ops if op.name not in CONSTANT_OPS for o in op.outputs]
        found = [i for i in computed if name in self.names[i].split(";")]
        if len(found) != 1:
            count = "none" if not found else f"{len(found)}: {found}"
            raise ValueError(
                f"expected one computed tensor named {name!r} ({what}); the graph has {count}"
            )
        return found[0]


def read_graph(model: bytes) -> Graph:
    """Ops with their options (from the flatbuffer) and every constant as dense float32."""
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema

    flat = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    # Old files keep the op code in the deprecated field: take whichever is set.
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in flat.operatorCodes]
    subgraph = flat.subgraphs[0]
    ops = tuple(
        Op(
            names[codes[op.opcodeIndex]],
            tuple(int(i) for i in op.inputs),
            tuple(int(i) for i in op.outputs),
            dict(vars(op.builtinOptions)) if op.builtinOptions is not None else {},
        )
        for op in subgraph.operators
    )
    # No XNNPACK delegate: it would swallow the DEQUANTIZE/DENSIFY outputs we want to read.
    interpreter = tf.lite.Interpreter(
        model_content=model,
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], np.float32))
    interpreter.invoke()
    produced = {i for op in ops for i in op.outputs if op.name not in CONSTANT_OPS}
    needed = {i for op in ops if op.name not in CONSTANT_OPS for i in op.inputs if i >= 0}
    constants = {
        i: np.array(interpreter.get_tensor(i), dtype=np.float32)
        for i in needed - produced - set(subgraph.inputs)
    }
    names = tuple(t.name.decode() for t in subgraph.tensors)
    shapes = tuple(tuple(int(v) for v in t.shape) for t in subgraph.tensors)
    return Graph(ops, tuple(subgraph.inputs), tuple(subgraph.outputs), constants, names, shapes)


def _activation(x: Any, code: int) -> Any:
    import tensorflow as tf

    if code == FUSED_NONE:
        return x
    if code == FUSED_RELU:
        return tf.nn.relu(x)
    if code == FUSED_RELU_N1_TO_1:
        return tf.minimum(tf.maximum(x, -1.0), 1.0)
    if code == FUSED_RELU6:
        return tf.nn.relu6(x)
    raise NotImplementedError(f"fused activation {code}")


def _padding(code: int) -> str:
    return "SAME" if code == PADDING_SAME else "VALID"


def run_op(op: Op, args: list[Any]) -> Any:
    """One TFLite op as TensorFlow ops (only the ops MediaPipe's face models use)."""
    import tensorflow as tf

    o = op.options
    if op.name == "CONV_2D":
        x, w, b = args
        kernel = tf.transpose(w, (1, 2, 3, 0))  # OHWI -> HWIO
        y = tf.nn.conv2d(x, kernel, (1, o["strideH"], o["strideW"], 1), _padding(o["padding"]))
        return _activation(y + b, o["fusedActivationFunction"])
    if op.name == "DEPTHWISE_CONV_2D":
        x, w, b = args
        channels = int(x.shape[-1])
        kernel = tf.reshape(w, (w.shape[1], w.shape[2], channels, -1))  # 1HW(C*M) -> HWCM
        y = tf.nn.depthwise_conv2d(
            x, kernel, (1, o["strideH"], o["strideW"], 1), _padding(o["padding"])
        )
        return _activation(y + b, o["fusedActivationFunction"])
    if op.name == "ADD":
        return _activation(args[0] + args[1], o.get("fusedActivationFunction", FUSED_NONE))
    if op.name == "RELU":
        return tf.nn.relu(args[0])
    if op.name == "PRELU":  # x where positive, alpha * x where negative (per channel)
        x, alpha = args
        return tf.nn.relu(x) - alpha * tf.nn.relu(-x)
    if op.name == "LOGISTIC":
        return tf.sigmoid(args[0])
    if op.name == "PAD":
        return tf.pad(args[0], tf.cast(args[1], tf.int32))
    if op.name == "MAX_POOL_2D":
        size, stride = (
            (1, o["filterHeight"], o["filterWidth"], 1),
            (1, o["strideH"], o["strideW"], 1),
        )
        return tf.nn.max_pool2d(args[0], size, stride, _padding(o["padding"]))
    if op.name == "RESHAPE":
        shape = args[1] if len(args) > 1 else [int(v) for v in o["newShape"]]
        return tf.reshape(args[0], tf.cast(shape, tf.int32))
    if op.name == "CONCATENATION":
        return _activation(
            tf.concat(args, axis=o["axis"]), o.get("fusedActivationFunction", FUSED_NONE)
        )
    if op.name == "RESIZE_BILINEAR":
        size = tf.cast(args[1], tf.int32)
        return tf.compat.v1.image.resize_bilinear(
            args[0],
            size,
            align_corners=bool(o.get("alignCorners")),
            half_pixel_centers=bool(o.get("halfPixelCenters")),
        )
    if op.name == "DEPTH_TO_SPACE":
        return tf.nn.depth_to_space(args[0], o["blockSize"])
    raise NotImplementedError(f"TFLite op {op.name} is not supported by the rebuild")


def replay(graph: Graph, x: Any) -> list[Any]:
    """Run the graph's ops on input x; returns the graph's outputs in order."""
    values = replay_all(graph, x)
    return [values[i] for i in graph.outputs]


def replay_all(graph: Graph, x: Any) -> dict[int, Any]:
    """Run the graph's ops on input x; returns every tensor it computed, by index."""
    import tensorflow as tf

    values: dict[int, Any] = {graph.inputs[0]: x}
    for op in graph.ops:
        if op.name in CONSTANT_OPS:
            continue
        args = [values[i] if i in values else tf.constant(graph.constants[i]) for i in op.inputs]
        values[op.outputs[0]] = run_op(op, args)
    return values


MAX_EQUALIZATION = 16.0


def equalize_depthwise(graph: Graph, samples: list[np.ndarray]) -> Graph:
    """Cross-layer equalization of depthwise -> 1x1 convolution pairs.

    A depthwise convolution without activation feeds a convolution linearly, so scaling
    its output channel c by s_c and the next convolution's input channel c by 1/s_c
    changes nothing in float. Choosing s_c so every channel spans the same range makes the
    one per-tensor int8 scale of that activation fit all channels, not just the widest.
    """
    import dataclasses

    import tensorflow as tf

    readers: dict[int, list[Op]] = {}
    for op in graph.ops:
        for i in op.inputs:
            readers.setdefault(i, []).append(op)
    pairs = [
        (op, readers[op.outputs[0]][0])
        for op in graph.ops
        if op.name == "DEPTHWISE_CONV_2D"
        and op.options["fusedActivationFunction"] == FUSED_NONE
        and len(readers.get(op.outputs[0], [])) == 1
        and readers[op.outputs[0]][0].name == "CONV_2D"
    ]
    peaks: dict[int, np.ndarray] = {}
    for sample in samples:
        values = replay_all(graph, tf.constant(sample))
        for dw, _ in pairs:
            peak = np.abs(values[dw.outputs[0]].numpy()).max(axis=(0, 1, 2))
            peaks[dw.outputs[0]] = np.maximum(peaks.get(dw.outputs[0], 0), peak)
    constants = dict(graph.constants)
    for dw, conv in pairs:
        peak = peaks[dw.outputs[0]]
        # The widest channel keeps its range; boosts are capped so that nearly dead
        # channels do not get extreme weights (int8 kernels reject such scales).
        scale = np.clip(peak.max() / np.maximum(peak, 1e-9), 1.0, MAX_EQUALIZATION)
        scale = np.where(peak > 0, scale, 1.0).astype(np.float32)
        constants[dw.inputs[1]] = constants[dw.inputs[1]] * scale  # (1, H, W, C)
        constants[dw.inputs[2]] = constants[dw.inputs[2]] * scale
        constants[conv.inputs[1]] = constants[conv.inputs[1]] / scale  # (O, H, W, C)
    return dataclasses.replace(graph, constants=constants)
