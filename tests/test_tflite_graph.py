"""The graph rebuild the detector conversion relies on, on a tiny float TFLite model made
here: the replay matches TFLite's own interpreter, depthwise equalization changes nothing in
float while evening out the channels, and a head rescale is exactly relu6(gain * x + 3)."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="the train extra is not installed")
# read_graph reads constants through TensorFlow's own interpreter (deprecated for inference
# in favour of LiteRT, which is what the edge uses): the warning is expected here.
DEPRECATED = "ignore:\\s*Warning. tf.lite.Interpreter is deprecated:UserWarning"
pytestmark = [pytest.mark.train, pytest.mark.filterwarnings(DEPRECATED)]

SIZE = 16


@pytest.fixture(scope="module")
def model() -> bytes:
    """conv -> depthwise (no activation, channels scaled 1..100 apart) -> 1x1 conv head."""
    import keras

    keras.utils.set_random_seed(5)
    image = keras.Input((SIZE, SIZE, 3), batch_size=1)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(image)
    depthwise = keras.layers.DepthwiseConv2D(3, padding="same")
    x = depthwise(x)
    head = keras.layers.Conv2D(4, 1)(x)
    built = keras.Model(image, head)
    kernel, bias = depthwise.get_weights()
    spread = np.geomspace(1.0, 100.0, kernel.shape[2]).astype(np.float32)
    depthwise.set_weights([kernel * spread[None, None, :, None], bias * spread])
    return tf.lite.TFLiteConverter.from_keras_model(built).convert()


def interpreted(model: bytes, x: np.ndarray) -> np.ndarray:
    interpreter = tf.lite.Interpreter(model_content=model)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def samples(count: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.uniform(-1, 1, (1, SIZE, SIZE, 3)).astype(np.float32) for _ in range(count)]


def test_the_replay_matches_the_interpreter(model: bytes) -> None:
    from convert.tflite_graph import read_graph, replay

    graph = read_graph(model)
    assert {op.name for op in graph.ops} >= {"CONV_2D", "DEPTHWISE_CONV_2D"}
    for x in samples():
        np.testing.assert_allclose(replay(graph, x)[0].numpy(), interpreted(model, x), atol=1e-4)


def test_equalization_keeps_the_function_and_evens_the_channels(model: bytes) -> None:
    from convert.tflite_graph import MAX_EQUALIZATION, equalize_depthwise, read_graph, replay_all

    graph = read_graph(model)
    equalized = equalize_depthwise(graph, samples())
    [depthwise] = [op for op in graph.ops if op.name == "DEPTHWISE_CONV_2D"]

    def spread(g) -> float:  # widest over narrowest channel peak of the depthwise output
        values = replay_all(g, samples()[0])[depthwise.outputs[0]].numpy()
        peaks = np.abs(values).max(axis=(0, 1, 2))
        return float(peaks.max() / peaks.min())

    assert spread(graph) > 30
    assert spread(equalized) < spread(graph) / (MAX_EQUALIZATION / 2)
    for x in samples():
        before, after = replay_all(graph, x), replay_all(equalized, x)
        out = graph.outputs[0]
        np.testing.assert_allclose(after[out].numpy(), before[out].numpy(), rtol=1e-4, atol=1e-4)


def test_a_head_rescale_is_relu6_of_gain_x_plus_3(model: bytes) -> None:
    from convert.face_detector import rescale_head
    from convert.tflite_graph import FUSED_RELU6, read_graph, replay

    graph = read_graph(model)
    gain = 0.37
    rescaled = rescale_head(graph, graph.outputs[0], gain)
    assert [op.options["fusedActivationFunction"] for op in rescaled.ops][-1] == FUSED_RELU6
    for x in samples():
        raw = replay(graph, x)[0].numpy()
        np.testing.assert_allclose(
            replay(rescaled, x)[0].numpy(), np.clip(gain * raw + 3.0, 0.0, 6.0), atol=1e-4
        )
    with pytest.raises(ValueError, match="already has an activation"):
        rescale_head(rescaled, rescaled.outputs[0], gain)


def test_a_graph_without_the_detector_heads_is_refused_naming_what_was_expected(
    model: bytes,
) -> None:
    from convert.detector_specs import FULL_RANGE
    from convert.face_detector import bounded_tensors, head_positions
    from convert.tflite_graph import read_graph

    graph = read_graph(model)
    [(name, shape)] = graph.output_shapes()
    with pytest.raises(ValueError) as failure:
        head_positions(FULL_RANGE, graph)
    message = str(failure.value)
    assert message.startswith(f"{FULL_RANGE.member}: expected an output named ")
    assert "(1, anchors, 16)" in message or "(1, anchors, 1)" in message
    assert f"its outputs are {name!r} {list(shape)}" in message
    with pytest.raises(ValueError, match="expected one computed tensor named 'model_1/model/"):
        bounded_tensors(FULL_RANGE, graph)


def test_a_computed_tensor_is_found_by_a_fused_name_a_weight_shares(model: bytes) -> None:
    from convert.tflite_graph import read_graph

    graph = read_graph(model)
    first = next(op for op in graph.ops if op.name == "CONV_2D")
    weights = graph.names[first.inputs[1]]
    assert weights in graph.names[first.outputs[0]].split(";")  # as MediaPipe's biases do
    assert graph.computed_named(weights, "the first convolution") == first.outputs[0]
    with pytest.raises(ValueError, match=r"'no such layer' \(the head\); the graph has none"):
        graph.computed_named("no such layer", "the head")


@pytest.fixture(scope="module")
def padded() -> bytes:
    """conv (no activation) -> zero PAD -> depthwise (stride 2) -> 1x1 conv: the shape of
    the full-range model's score branch that the converter bounds."""
    import keras

    keras.utils.set_random_seed(7)
    image = keras.Input((SIZE, SIZE, 3), batch_size=1)
    x = keras.layers.Conv2D(4, 3, padding="same")(image)
    x = keras.layers.ZeroPadding2D(((0, 2), (0, 2)))(x)
    x = keras.layers.DepthwiseConv2D(3, strides=2)(x)
    return tf.lite.TFLiteConverter.from_keras_model(
        keras.Model(image, keras.layers.Conv2D(2, 1)(x))
    ).convert()


def test_a_bounded_convolution_is_clipped_and_unchanged_within_its_bound(padded: bytes) -> None:
    from convert.face_detector import bound_tensor
    from convert.tflite_graph import FUSED_RELU_N1_TO_1, read_graph, replay, replay_all

    graph = read_graph(padded)
    conv = next(op for op in graph.ops if op.name == "CONV_2D")
    tensor = conv.outputs[0]
    peak = max(float(np.abs(replay_all(graph, x)[tensor].numpy()).max()) for x in samples())
    wide, narrow = bound_tensor(graph, tensor, 2 * peak), bound_tensor(graph, tensor, peak / 4)
    assert (
        next(op for op in wide.ops if op.outputs == conv.outputs).options["fusedActivationFunction"]
        == FUSED_RELU_N1_TO_1
    )
    for x in samples():
        expected = replay(graph, x)[0].numpy()
        np.testing.assert_allclose(replay(wide, x)[0].numpy(), expected, rtol=1e-4, atol=1e-4)
        assert np.abs(replay_all(narrow, x)[tensor].numpy()).max() <= 1.0
        assert not np.allclose(replay(narrow, x)[0].numpy(), expected, atol=1e-3)
    depthwise = next(op for op in graph.ops if op.name == "DEPTHWISE_CONV_2D")
    with pytest.raises(ValueError, match="cannot bound tensor"):
        bound_tensor(graph, depthwise.outputs[0], 1.0)
