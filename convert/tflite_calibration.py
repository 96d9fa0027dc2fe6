"""Full-int8 conversion with percentile-clipped activation ranges.

The converter's calibration takes each activation's min/max over the calibration frames.
In MediaPipe's detector a few pixels per frame (edges, highlights) reach 5-8x the range
of everything else, so min/max spends most of the 256 int8 levels on them and the
quantization noise of all other values adds up through ~90 layers (scores fall, phantom
faces appear). Here calibration runs first, then each range is shrunk to the 0.1 % / 99.9 %
percentiles measured on real frames, and only then is the model quantized: the rare
outliers saturate, everything else keeps its precision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from edge.progress import Progress

PERCENTILE = 99.9


def calibrate(converter: Any) -> bytes:
    """The float model with per-tensor min/max statistics, not yet quantized."""
    converter._experimental_calibrate_only = True
    return converter.convert()


def tighten_ranges(calibrated: bytes, samples: list[np.ndarray], percentile: float) -> bytes:
    """Shrink each activation's recorded [min, max] to percentiles seen on the samples."""
    import flatbuffers
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(calibrated, 0))
    graph = model.subgraphs[0]
    inputs = set(int(i) for i in graph.inputs)
    tracked = [
        i
        for i, t in enumerate(graph.tensors)
        if i not in inputs
        and t.quantization is not None
        and t.quantization.min is not None
        and len(t.quantization.min) == 1
    ]
    interpreter = tf.lite.Interpreter(
        model_content=calibrated,
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    low = {i: np.inf for i in tracked}
    high = {i: -np.inf for i in tracked}
    progress = Progress(len(samples), "activation ranges")  # a terminal only
    for sample in samples:
        progress.step()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], sample)
        interpreter.invoke()
        for i in tracked:
            values = interpreter.get_tensor(i)
            low[i] = min(low[i], float(np.percentile(values, 100 - percentile)))
            high[i] = max(high[i], float(np.percentile(values, percentile)))
    progress.close()
    for i in tracked:
        stats = graph.tensors[i].quantization
        new_low, new_high = max(stats.min[0], low[i]), min(stats.max[0], high[i])
        if new_high > new_low:
            stats.min, stats.max = [new_low], [new_high]
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def quantize_int8(calibrated: bytes) -> bytes:
    """Full int8 (int8 input and outputs) from a calibrated float model."""
    import tensorflow as tf
    from tensorflow.lite.python import convert as lite_convert

    return lite_convert.mlir_quantize(
        calibrated, fully_quantize=True, input_data_type=tf.int8, output_data_type=tf.int8
    )


def percentile_int8(
    converter: Any, samples: Callable[[], Iterator[np.ndarray]], percentile: float = PERCENTILE
) -> bytes:
    calibrated = calibrate(converter)
    return quantize_int8(tighten_ranges(calibrated, list(samples()), percentile))


def full_int8(converter: Any, samples: Callable[[], Iterator[np.ndarray]]) -> Any:
    """`converter` set to full int8: int8 input and outputs, int8 ops only, calibrated on
    `samples()` (each one input in the model's float contract, made as it is consumed: a
    detector's 480 whole frames would be 1.4 GB as float32 at once). The one place every
    converter's int8 settings live."""
    import tensorflow as tf

    def representative() -> Iterator[list[np.ndarray]]:
        for sample in samples():
            yield [sample]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter


def keras_to_int8(model: Any, inputs: list[np.ndarray]) -> bytes:
    """A Keras model -> full int8 (int8 input and outputs), calibrated on `inputs` (each one
    batch in the model's float contract). Through a SavedModel: the path that gives full int8
    with Keras 3, and keeps the batch dimension as the model has it."""
    import tempfile

    import tensorflow as tf

    with tempfile.TemporaryDirectory() as saved:
        model.export(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        return bytes(full_int8(converter, lambda: iter(inputs)).convert())
