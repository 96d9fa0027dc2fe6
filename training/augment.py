"""Augmentation that imitates the face detector's framing and a camera's imaging.

FER2013 crops are registered; detector crops are not. Each batch gets a random similarity
transform (scale, shift, small rotation, flip) plus brightness/contrast and blur, all as
batched TensorFlow ops so two CPU cores keep up with training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AugmentConfig:
    scale: tuple[float, float] = (0.85, 1.18)
    shift: float = 0.08  # fraction of the crop side
    rotation_degrees: float = 12.0
    brightness: float = 0.15  # added to [0, 1] pixels
    contrast: tuple[float, float] = (0.7, 1.3)
    blur_probability: float = 0.3


def augment_batch(images: Any, config: AugmentConfig, seed_stream: Any) -> Any:
    """images: float32 (B, H, W, 1) in [0, 1] -> augmented images of the same shape."""
    import tensorflow as tf

    batch = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)

    def uniform(low: float, high: float) -> Any:
        return seed_stream.uniform([batch], low, high)

    scale = uniform(*config.scale)
    angle = uniform(-config.rotation_degrees, config.rotation_degrees) * (math.pi / 180.0)
    shift_x = uniform(-config.shift, config.shift) * size
    shift_y = uniform(-config.shift, config.shift) * size
    flip = tf.where(uniform(0.0, 1.0) < 0.5, -1.0, 1.0)
    # Output pixel p maps to input pixel: c + R(-angle) * (p - c) / scale * flip_x - shift.
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    centre = (size - 1.0) / 2.0
    a0, a1 = cos * flip, sin
    b0, b1 = -sin * flip, cos
    a2 = centre - a0 * centre - a1 * centre + shift_x
    b2 = centre - b0 * centre - b1 * centre + shift_y
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )
    images = _blur_some(images, config.blur_probability, uniform)
    contrast = tf.reshape(uniform(*config.contrast), [-1, 1, 1, 1])
    brightness = tf.reshape(uniform(-config.brightness, config.brightness), [-1, 1, 1, 1])
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = (images - mean) * contrast + mean + brightness
    return tf.clip_by_value(images, 0.0, 1.0)


def _blur_some(images: Any, probability: float, uniform: Any) -> Any:
    import tensorflow as tf

    kernel_1d = tf.constant([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    kernel = tf.reshape(tf.tensordot(kernel_1d, kernel_1d, axes=0), [5, 5, 1, 1])
    blurred = tf.nn.conv2d(
        tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="SYMMETRIC"), kernel, 1, "VALID"
    )
    chosen = tf.cast(uniform(0.0, 1.0) < probability, tf.float32) * uniform(0.3, 1.0)
    alpha = tf.reshape(chosen, [-1, 1, 1, 1])
    return images * (1.0 - alpha) + blurred * alpha
