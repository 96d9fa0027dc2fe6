"""Image files for the fuzz: every format this OpenCV opens, valid, tiny, mutated, cut, and
bombs of each (headers claiming up to 100000x100000), drawn from a seeded generator."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator

import numpy as np

from tests.reliability.bombs import FORMATS, claiming, encode, j2k_components, tiff_tiled

BOMB_SIZES = (
    (16383, 16383),
    (100000, 100000),
    (65535, 1),
    (1, 65535),
    (30000, 30000),
    (5000, 5000),
    (0, 0),
    (2**31 - 1, 2**31 - 1),
)

TILES = (16000, 65536, 8192, 2**31 - 1)


def _picture(rng: random.Random) -> np.ndarray:
    width, height = rng.randint(1, 160), rng.randint(1, 160)
    array = np.random.default_rng(rng.randrange(2**32)).integers(0, 256, (height, width, 3))
    return array.astype(np.uint8)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    how = rng.choice(("flip", "cut", "header", "append", "zero"))
    if how == "flip" and out:
        for _ in range(rng.randint(1, 20)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif how == "cut":
        out = out[: rng.randint(0, len(out))]
    elif how == "header" and out:
        for _ in range(rng.randint(1, 6)):
            out[rng.randrange(min(len(out), 64))] = rng.randrange(256)
    elif how == "append":
        out += rng.randbytes(rng.randint(1, 4096))
    elif how == "zero" and out:
        start = rng.randrange(len(out))
        out[start : start + rng.randint(1, 512)] = bytes(min(512, len(out) - start))
    return bytes(out)


def image_cases(count: int, seed: int = 30) -> Iterator[tuple[str, bytes]]:
    """(file name, bytes): a quarter bombs, the rest valid, tiny, mutated or junk."""
    rng = random.Random(seed)
    for index in range(count):
        suffix = FORMATS[index % len(FORMATS)]
        kind = rng.choice(("bomb", "bomb", "valid", "mutated", "mutated", "mutated", "junk"))
        name = f"{index:05d}-{kind}{suffix}"
        try:
            if kind == "bomb" and suffix == ".tif" and rng.random() < 0.5:
                data = tiff_tiled(rng.randint(8, 200), rng.randint(8, 200), rng.choice(TILES))
            elif kind == "bomb" and suffix == ".j2k" and rng.random() < 0.5:
                data = j2k_components(rng.choice((64, 1024, 16384)))
            elif kind == "bomb":
                width, height = rng.choice(BOMB_SIZES)
                data = claiming(suffix, width, height)
            elif kind == "valid":
                data = encode(suffix, _picture(rng))
            elif kind == "mutated":
                data = _mutate(encode(suffix, _picture(rng)), rng)
            else:
                data = rng.randbytes(rng.randint(0, 2048))
        except (ValueError, OverflowError, AssertionError, IndexError, struct.error):
            # a format that cannot hold this size or picture (JPEG over 65535, tiny JPEG 2000)
            data = rng.randbytes(64)
        yield name, data
