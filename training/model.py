"""The smile model: one small CNN, three heads from one 48x48 grayscale face crop.

Heads: `emotions` (8 FER+ emotions, softmax, trained on the annotators' vote
distribution), `intensity` (none/mild/moderate/huge, softmax) and `smiling` (sigmoid,
happiness is the majority). Plain 3x3 convolutions + BatchNorm + ReLU quantize cleanly to
int8 and run well under XNNPACK; BatchNorm momentum 0.9 converges in few epochs.
"""

from __future__ import annotations

from typing import Any

from edge.perception.crop import CROP_SIZE
from edge.perception.labels import EMOTIONS, INTENSITY

ARCHITECTURES: dict[str, tuple[tuple[int, int], ...]] = {
    # (filters, convolutions) per stage; a 2x2 max-pool follows every stage but the last.
    "small": ((32, 1), (64, 2), (128, 2), (192, 1)),
    "wide": ((48, 1), (96, 2), (160, 2), (256, 1)),
}


def build_model(architecture: str = "small", dropout: float = 0.3, batch_norm: bool = True) -> Any:
    """A Keras functional model with named outputs emotions / intensity / smiling.

    batch_norm=False: the same network with each BatchNorm folded into a bias, the form
    an int8 file keeps (convert.smile_float rebuilds the shipped model's float weights
    in it, to fine-tune from).
    """
    import keras
    from keras import layers

    def normalised(x: Any) -> Any:
        if batch_norm:
            x = layers.BatchNormalization(momentum=0.9)(x)
        return layers.ReLU()(x)

    def conv_bn_relu(x: Any, filters: int) -> Any:
        return normalised(layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm)(x))

    stages = ARCHITECTURES[architecture]
    inputs = keras.Input((CROP_SIZE, CROP_SIZE, 1), name="face")
    x = inputs
    for index, (filters, convolutions) in enumerate(stages):
        for _ in range(convolutions):
            x = conv_bn_relu(x, filters)
        if index < len(stages) - 1:
            x = layers.MaxPooling2D(2)(x)
            x = layers.SpatialDropout2D(dropout / 3)(x) if index > 0 else x
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    features = normalised(layers.Dense(128, use_bias=not batch_norm)(x))
    emotions = layers.Dense(len(EMOTIONS), activation="softmax", name="emotions")(features)
    intensity = layers.Dense(len(INTENSITY), activation="softmax", name="intensity")(features)
    smiling = layers.Dense(1, activation="sigmoid", name="smiling")(features)
    return keras.Model(inputs, {"emotions": emotions, "intensity": intensity, "smiling": smiling})
