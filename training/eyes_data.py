"""Eye crops as a booth camera would see them: scaled down, degraded, cut by edge's rule.

A dataset crop is cut close around one eye (the eye spans ~EYE_OF_CROP of its width). Each
training sample shrinks it so the eye is 5-40 px wide (what the detector gives at booth
distances), degrades it (blur, noise, JPEG, light), then cuts it with edge.perception.eye_crop's own
crop_eye, shifted and turned by about the detector's keypoint error, so a training crop
is made exactly the way a run-time crop is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.perception.eye_crop import EYE_CROP_SIZE, crop_eye

EYE_OF_CROP = 0.75  # eye width / crop width, dataset crops and the run-time rule alike
EVAL_WIDTHS = (5.0, 7.5, 10.0, 12.5, 15.0, 20.0, 25.0, 32.0, 40.0)  # eye widths, px
SLICES = {"5-10": (5, 10), "10-15": (10, 15), "15-25": (15, 25), "25-40": (25, 41)}


@dataclass(frozen=True)
class EyeAugment:
    """Ranges of each augmentation (uniform unless said otherwise)."""

    eye_width: tuple[float, float] = (5.0, 40.0)  # px, drawn log-uniform
    side_jitter: tuple[float, float] = (0.85, 1.2)  # crop side x, as a wrong eye distance
    centre_shift: float = 0.08  # sd of the keypoint error, in crop sides
    rotation_deg: float = 10.0  # the eye line's error
    blur_sigma: tuple[float, float] = (0.0, 1.0)  # px at the shrunken size
    noise_sd: tuple[float, float] = (0.0, 8.0)  # gray levels
    jpeg_quality: tuple[int, int] = (30, 95)
    jpeg_probability: float = 0.5
    contrast: tuple[float, float] = (0.6, 1.4)
    brightness: tuple[float, float] = (-40.0, 40.0)
    gamma: tuple[float, float] = (0.7, 1.4)
    # Eyes narrowed by a smile or by their shape are open: the dataset's open eyes are
    # mostly wide, so a share of crops (closed ones too, so height alone says nothing)
    # gets its lid band squeezed to this fraction of its height.
    narrow_probability: float = 0.0
    narrow: tuple[float, float] = (0.4, 0.85)


def at_eye_width(image: np.ndarray, eye_width: float) -> np.ndarray:
    """The dataset crop shrunk (area) so its eye is eye_width pixels wide."""
    scale = eye_width / (EYE_OF_CROP * image.shape[1])
    if scale >= 1.0:
        return image
    height = max(2, round(image.shape[0] * scale))
    width = max(2, round(image.shape[1] * scale))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


NARROW_BAND = (0.3, 0.7)  # rows of a dataset crop (fractions of its height) holding the lids


def narrowed(image: np.ndarray, factor: float) -> np.ndarray:
    """The crop with its lid band (NARROW_BAND) squeezed to `factor` of its height.

    Brow above and cheek below stay as they are and the eye centre stays the crop's
    centre, as when a smile pushes the lower lid up or a face has narrow eyes.
    """
    height = image.shape[0]
    top, bottom = round(NARROW_BAND[0] * height), round(NARROW_BAND[1] * height)
    if bottom - top < 2:
        return image
    band = image[top:bottom]
    rows = max(1, round((bottom - top) * factor))
    squeezed = cv2.resize(band, (image.shape[1], rows), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.concatenate([image[:top], squeezed, image[bottom:]]))


def cut(
    image: np.ndarray,
    shift: tuple[float, float] = (0.0, 0.0),
    jitter: float = 1.0,
    angle: float = 0.0,
) -> np.ndarray:
    """The run-time crop of a (shrunken) dataset crop: centred, side = its width."""
    side = image.shape[1] * jitter
    centre = (
        (image.shape[1] - 1) / 2 + shift[0] * side,
        (image.shape[0] - 1) / 2 + shift[1] * side,
    )
    return crop_eye(image, centre, side, angle, EYE_CROP_SIZE)


def augment(image: np.ndarray, rng: np.random.Generator, config: EyeAugment) -> np.ndarray:
    """One random booth-like crop (EYE_CROP_SIZE square uint8) of one dataset crop."""
    if rng.random() < config.narrow_probability:
        image = narrowed(image, rng.uniform(*config.narrow))
    low, high = np.log(config.eye_width[0]), np.log(config.eye_width[1])
    small = at_eye_width(image, float(np.exp(rng.uniform(low, high))))
    if rng.random() < 0.5:
        small = small[:, ::-1]
    sigma = rng.uniform(*config.blur_sigma)
    if sigma > 0.3:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    small = _light(small.astype(np.float32), rng, config)
    noise = rng.normal(0.0, rng.uniform(*config.noise_sd), small.shape)
    small = np.clip(small + noise, 0, 255).astype(np.uint8)
    if rng.random() < config.jpeg_probability:
        quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
        _, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
        small = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    shift = (rng.normal(0, config.centre_shift), rng.normal(0, config.centre_shift))
    angle = rng.uniform(-config.rotation_deg, config.rotation_deg)
    return cut(np.ascontiguousarray(small), shift, rng.uniform(*config.side_jitter), angle)


def _light(image: np.ndarray, rng: np.random.Generator, config: EyeAugment) -> np.ndarray:
    """Gamma, contrast about the mean, brightness."""
    image = 255.0 * (np.clip(image, 0, 255) / 255.0) ** rng.uniform(*config.gamma)
    mean = image.mean()
    image = (image - mean) * rng.uniform(*config.contrast) + mean
    return image + rng.uniform(*config.brightness)


def augmented_set(
    images: list[np.ndarray],
    labels: np.ndarray,
    copies: int,
    seed: int,
    config: EyeAugment | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`copies` random crops of every image: (N x copies, S, S) uint8 and their labels."""
    config = config or EyeAugment()
    rng = np.random.default_rng(seed)
    crops = [augment(image, rng, config) for _ in range(copies) for image in images]
    return np.stack(crops), np.tile(labels, copies)


def eval_set(
    images: list[np.ndarray], labels: np.ndarray, widths: tuple[float, ...] = EVAL_WIDTHS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every image at every eye width, cut centred: crops, labels, eye widths."""
    crops, ys, ws = [], [], []
    for width in widths:
        for image, label in zip(images, labels, strict=True):
            crops.append(cut(at_eye_width(image, width)))
            ys.append(label)
            ws.append(width)
    return np.stack(crops), np.array(ys), np.array(ws)
