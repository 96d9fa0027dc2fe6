"""The eye-state model: a tiny CNN, one 24x24 grayscale eye crop in, P(open) out.

Three stages of plain 3x3 convolutions + BatchNorm + ReLU (int8-friendly, fast under
XNNPACK), global average pooling and one sigmoid: ~9k parameters, ~1 M multiply-adds per
eye. BatchNorm momentum 0.9: with few epochs 0.99 leaves the statistics unconverged.
"""

from __future__ import annotations

from typing import Any

from edge.perception.eye_crop import EYE_CROP_SIZE

STAGES = ((8, 2), (16, 2), (32, 1))  # (filters, convolutions); a 2x2 max-pool between stages


def build_eye_model(dropout: float = 0.2) -> Any:
    """A Keras model: input `eye` (S, S, 1) float 0..1, output `open` (1,) sigmoid."""
    import keras
    from keras import layers

    inputs = keras.Input((EYE_CROP_SIZE, EYE_CROP_SIZE, 1), name="eye")
    x = inputs
    for index, (filters, convolutions) in enumerate(STAGES):
        for _ in range(convolutions):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.ReLU()(x)
        if index < len(STAGES) - 1:
            x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="open")(x)
    return keras.Model(inputs, outputs)
