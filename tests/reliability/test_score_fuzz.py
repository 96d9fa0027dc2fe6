"""`smilebooth score` fuzzed over file contents and names: truncated, random bytes, header
bombs, non-UTF-8 names, FIFOs. No crash; every bad file named on stderr; good ones scored."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.config.output import ImageConfig
from edge.io.image_io import decode_image
from tests.paths import FACE_MODEL, ROOT, SMILE_MODEL, require
from tests.reliability.helpers import assert_no_traceback, jpeg, jpeg_claiming, smilebooth

pytestmark = pytest.mark.reliability
SAMPLE = (ROOT / "samples" / "astronaut.jpg").read_bytes()
PNG = cv2.imencode(".png", np.full((40, 50, 3), 90, np.uint8))[1].tobytes()
SEEDS = [SAMPLE, jpeg(), PNG, jpeg_claiming(20000, 20000), jpeg_claiming(65535, 65535)]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        elif action == "zero":
            data[at : at + 8] = b"\x00" * 8
    return bytes(data)


@settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.one_of(mutated(), st.binary(max_size=2000)))
def test_decoding_any_bytes_returns_an_image_or_a_reason(data: bytes) -> None:
    result = decode_image(data, ImageConfig(max_pixels=4_000_000))
    if result.image is None:
        assert result.problem
    else:
        assert result.image.ndim == 3 and result.image.shape[0] * result.image.shape[1] <= 4_000_000


def test_score_over_a_folder_of_hostile_files(tmp_path: Path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    rng = random.Random(18)
    folder = tmp_path / "in"
    folder.mkdir()
    good, bad = [], []
    for n in range(120):
        kind = rng.choice(["good", "cut", "random", "bomb", "flip", "empty"])
        name = (
            os.fsencode(folder)
            + b"/%03d-" % n
            + bytes(rng.choice([b"ok", b"\xff\xfe", b"caf\xe9", b"a b"]))
            + b".jpg"
        )
        if kind == "good":
            data = SAMPLE if n % 3 == 0 else jpeg(64 + n, 48)
        elif kind == "cut":
            data = SAMPLE[: rng.randint(0, 600)]
        elif kind == "random":
            data = rng.randbytes(rng.randint(1, 5000))
        elif kind == "bomb":
            data = jpeg_claiming(65535, 65535)
        elif kind == "flip":
            data = bytearray(SAMPLE)
            for _ in range(20):
                data[rng.randrange(len(data))] ^= 0xFF
            data = bytes(data)
        else:
            data = b""
        with open(name, "wb") as handle:
            handle.write(data)
        (good if kind == "good" else bad).append(name)
    fifo = folder / "pipe.jpg"
    os.mkfifo(fifo)
    result = smilebooth("score", str(folder), str(fifo), timeout=300)
    assert_no_traceback(result)
    assert result.returncode == 1
    scored = {os.fsencode(json.loads(line)["image"]) for line in result.stdout.splitlines()}
    stderr = result.stderr
    assert set(good) <= scored, "a good photo was not scored"
    for name in bad:  # named either as skipped or with a warning (a cut that still decodes)
        shown = os.fsdecode(name).encode("utf-8", "backslashreplace")
        assert name in scored or shown in stderr, name
    assert str(fifo).encode() + b": skipped: not a regular file" in stderr
