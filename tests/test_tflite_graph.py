"""The TFLite graph replay (convert.tflite_graph), on a tiny float TFLite model made
here: the replay matches TFLite's own interpreter, depthwise equalization changes nothing in
float while evening out the channels, and tensors are found by their fused names."""

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


def test_a_computed_tensor_is_found_by_a_fused_name_a_weight_shares(model: bytes) -> None:
    from convert.tflite_graph import read_graph

    graph = read_graph(model)
    first = next(op for op in graph.ops if op.name == "CONV_2D")
    weights = graph.names[first.inputs[1]]
    assert weights in graph.names[first.outputs[0]].split(";")  # as MediaPipe's biases do
    assert graph.computed_named(weights, "the first convolution") == first.outputs[0]
    with pytest.raises(ValueError, match=r"'no such layer' \(the head\); the graph has none"):
        graph.computed_named("no such layer", "the head")
