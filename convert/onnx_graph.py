"""Replay a small ONNX convolutional graph with TensorFlow ops, channels last.

YuNet's ONNX file is 53 convolutions (plain, depthwise), ReLU, 2x2 max pooling, 2x nearest
upsampling, additions and, on its heads, a transpose to channels-last, a reshape and a
sigmoid. Replayed here in NHWC from the start, the transposes vanish and each head stays a
feature map: the TFLite converter then sees exactly the ops XNNPACK runs in int8, nothing it
would have to move data around for. Any other op, or a grouped convolution that is not
depthwise, is a ValueError naming it: the replay never guesses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Node:
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: dict[str, Any]


@dataclass(frozen=True)
class OnnxGraph:
    nodes: tuple[Node, ...]
    weights: dict[str, np.ndarray]
    input_name: str
    output_names: tuple[str, ...]


def read_onnx(path: Path) -> OnnxGraph:
    """The graph's nodes with their attributes and every initializer as a numpy array."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    nodes = tuple(
        Node(
            node.op_type,
            tuple(node.input),
            tuple(node.output),
            {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute},
        )
        for node in graph.node
    )
    inputs = [i.name for i in graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise ValueError(f"{path}: expected one image input, found {inputs}")
    return OnnxGraph(nodes, weights, inputs[0], tuple(o.name for o in graph.output))


def _conv(tf: Any, node: Node, weights: dict[str, np.ndarray]) -> Callable[[Any], Any]:
    """An ONNX Conv (weights O, I/group, kH, kW) as a channels-last TF convolution."""
    kernel = weights[node.inputs[1]].astype(np.float32)
    bias = weights[node.inputs[2]].astype(np.float32) if len(node.inputs) > 2 else None
    group = int(node.attributes.get("group", 1))
    strides = list(node.attributes.get("strides", [1, 1]))
    pads = list(node.attributes.get("pads", [0, 0, 0, 0]))
    if list(node.attributes.get("dilations", [1, 1])) != [1, 1]:
        raise ValueError(f"Conv {node.outputs[0]}: dilation is not replayed")
    out_channels, per_group, kh, kw = kernel.shape
    depthwise = group > 1 and per_group == 1 and group == out_channels
    if group > 1 and not depthwise:
        raise ValueError(f"Conv {node.outputs[0]}: grouped ({group}) but not depthwise")
    # ONNX pads are (top, left, bottom, right). Symmetric "same" padding for stride 1 is
    # TF's SAME; anything else is explicit (TF's SAME pads a strided conv asymmetrically).
    same = strides == [1, 1] and pads == [kh // 2, kw // 2, kh // 2, kw // 2]
    padding: Any = (
        "SAME"
        if same
        else "VALID"
        if not any(pads)
        else [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]]
    )
    if depthwise:
        filt = tf.constant(kernel.transpose(2, 3, 0, 1))  # kH, kW, C, 1

        def run(x: Any) -> Any:
            if isinstance(padding, list):
                x = tf.pad(x, padding)
            y = tf.nn.depthwise_conv2d(
                x, filt, [1, *strides, 1], "VALID" if isinstance(padding, list) else padding
            )
            return y if bias is None else tf.nn.bias_add(y, bias)

        return run
    filt = tf.constant(kernel.transpose(2, 3, 1, 0))  # kH, kW, I, O

    def run_plain(x: Any) -> Any:
        y = tf.nn.conv2d(x, filt, [1, *strides, 1], padding)
        return y if bias is None else tf.nn.bias_add(y, bias)

    return run_plain


def replay(graph: OnnxGraph) -> Callable[[Any], dict[str, Any]]:
    """A function NHWC image -> {output name: NHWC feature map} that computes what the
    ONNX graph computes (its heads' transpose + reshape left out: a map per head)."""
    import tensorflow as tf

    steps: list[tuple[Node, Callable[..., Any]]] = []
    for node in graph.nodes:
        if node.op == "Conv":
            steps.append((node, _conv(tf, node, graph.weights)))
        elif node.op == "Relu":
            steps.append((node, tf.nn.relu))
        elif node.op == "Sigmoid":
            steps.append((node, tf.sigmoid))
        elif node.op == "Add":
            steps.append((node, tf.add))
        elif node.op == "MaxPool":
            if list(node.attributes.get("kernel_shape")) != [2, 2] or any(
                node.attributes.get("pads", [0])
            ):
                raise ValueError(f"MaxPool {node.outputs[0]}: only 2x2, unpadded, is replayed")
            steps.append((node, lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID")))
        elif node.op == "Resize":
            scales = graph.weights.get(node.inputs[2]) if len(node.inputs) > 2 else None
            if (
                node.attributes.get("mode") != b"nearest"
                or scales is None
                or list(scales) != [1, 1, 2, 2]
            ):
                raise ValueError(f"Resize {node.outputs[0]}: only 2x nearest is replayed")
            steps.append((node, _upsample2x(tf)))
        elif node.op in ("Transpose", "Reshape"):
            # Only on the heads: NCHW -> NHWC -> (1, cells, width). Kept as the map.
            steps.append((node, lambda x: x))
        else:
            raise ValueError(f"ONNX op {node.op} ({node.outputs[0]}) is not replayed")

    def run(image: Any) -> dict[str, Any]:
        values: dict[str, Any] = {graph.input_name: image}
        for node, step in steps:
            args = [values[name] for name in node.inputs if name not in graph.weights]
            if node.op in ("Conv", "Resize", "Transpose", "Reshape"):
                args = args[:1]
            values[node.outputs[0]] = step(*args)
        return {name: values[name] for name in graph.output_names}

    return run


def _upsample2x(tf: Any) -> Callable[[Any], Any]:
    """2x nearest upsampling (ONNX asymmetric/floor: out[i] = in[i // 2]) as four copies
    of the channels put side by side by DEPTH_TO_SPACE: no op reads the tensor's shape at
    run time, so an input resized on the device gives every tensor a static shape and the
    whole graph stays with XNNPACK (a resize to tf.shape(x) * 2 made the rest dynamic)."""

    def run(x: Any) -> Any:
        return tf.nn.depth_to_space(tf.concat([x, x, x, x], axis=-1), 2)

    return run
