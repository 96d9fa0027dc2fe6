"""Augmentation that imitates the face detector's framing and a camera's imaging.

FER2013 crops are registered; detector crops are not. Each batch gets a random similarity
transform (scale, shift, small rotation, flip) plus brightness/contrast and blur, all as
batched TensorFlow ops so two CPU cores keep up with training.

A group's faces are 30-80 px high, soft, noisy and JPEG-compressed: `AugmentConfig.distance`
adds what that does to a face (off by default, `smilebooth train --distance-augment`): some
faces shrunk to 16-40 px and brought back to 48 (as the crop does), sensor noise, JPEG.
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
    # Faces seen from a distance (a group): shrunk to a size in shrink_px and back up.
    shrink_probability: float = 0.0
    shrink_px: tuple[float, float] = (16.0, 40.0)
    noise_sigma: float = 0.0  # the most sensor noise, in [0, 1] pixel units
    jpeg_probability: float = 0.0  # of a batch being JPEG-compressed at a quality in jpeg_quality
    jpeg_quality: tuple[float, float] = (35.0, 90.0)

    @classmethod
    def distance(cls, strength: float = 1.0) -> AugmentConfig:
        """Faces at a distance (issue 26): at strength 1, half the faces shrunk, noise up to
        0.03, a third of the batches JPEG; a strength scales all three."""
        return cls(
            shrink_probability=min(1.0, 0.5 * strength),
            noise_sigma=0.03 * strength,
            jpeg_probability=min(1.0, 0.3 * strength),
        )


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
    if config.shrink_probability > 0:
        images = _shrink_some(images, config, uniform)
    contrast = tf.reshape(uniform(*config.contrast), [-1, 1, 1, 1])
    brightness = tf.reshape(uniform(-config.brightness, config.brightness), [-1, 1, 1, 1])
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = (images - mean) * contrast + mean + brightness
    images = tf.clip_by_value(images, 0.0, 1.0)
    if config.noise_sigma > 0:
        sigma = tf.reshape(uniform(0.0, config.noise_sigma), [-1, 1, 1, 1])
        # uniform noise of the same spread as a Gaussian of sigma (sqrt(12) x sigma wide)
        spread = seed_stream.uniform(tf.shape(images), -0.5, 0.5) * (12.0**0.5)
        images = tf.clip_by_value(images + spread * sigma, 0.0, 1.0)
    if config.jpeg_probability > 0:
        images = _jpeg_some(images, config, uniform)
    return images


def _shrink_some(images: Any, config: AugmentConfig, uniform: Any) -> Any:
    """Some faces of the batch shrunk to one size (per batch) and brought back: a face
    that few pixels high in the frame, as the crop upsamples it to the model's size."""
    import tensorflow as tf

    size = tf.shape(images)[1:3]
    side = tf.cast(uniform(*config.shrink_px)[0], tf.int32)
    small = tf.image.resize(images, [side, side], method="area")
    back = tf.image.resize(small, size, method="bilinear")
    chosen = tf.reshape(
        tf.cast(uniform(0.0, 1.0) < config.shrink_probability, tf.float32), [-1, 1, 1, 1]
    )
    return images * (1.0 - chosen) + back * chosen


def _jpeg_some(images: Any, config: AugmentConfig, uniform: Any) -> Any:
    """The whole batch JPEG-compressed (one quality), with probability jpeg_probability."""
    import tensorflow as tf

    quality = tf.cast(uniform(*config.jpeg_quality)[0], tf.int32)
    apply = uniform(0.0, 1.0)[0] < config.jpeg_probability

    def compressed() -> Any:
        return tf.map_fn(
            lambda image: tf.image.adjust_jpeg_quality(image, quality),
            images,
            fn_output_signature=tf.float32,
        )

    return tf.cond(apply, compressed, lambda: images)


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
