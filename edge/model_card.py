"""Model cards: the JSON written beside each shipped .tflite, checked when a model loads.

A card pins the file's sha256 and its input contract, so a model swapped or corrupted on a
device is refused with a clear message instead of producing silently wrong scores.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


class ModelCardError(ValueError):
    """The model file and its card disagree, or the card is missing or malformed."""


def card_path(model_path: Path) -> Path:
    """models/smile_int8.tflite -> models/smile_int8.card.json"""
    return model_path.with_suffix(".card.json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_card(model_path: Path) -> dict[str, Any]:
    path = card_path(model_path)
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ModelCardError(f"{model_path}: no model card at {path}") from exc
    except json.JSONDecodeError as exc:
        raise ModelCardError(f"{path}: not valid JSON ({exc})") from exc
    for key in ("sha256", "input"):
        if key not in card:
            raise ModelCardError(f"{path}: missing key {key!r}")
    return card


def verify_hash(model_path: Path) -> dict[str, Any]:
    """Check the file against its card's sha256 before anything parses it; return the card."""
    card = load_card(model_path)
    actual = sha256_of(model_path)
    if actual != card["sha256"]:
        raise ModelCardError(
            f"{model_path}: sha256 {actual[:12]}... does not match its card "
            f"({card['sha256'][:12]}...); re-run `smilebooth convert` or restore the file"
        )
    return card


def verify_model(model_path: Path, input_detail: dict[str, Any]) -> dict[str, Any]:
    """Check hash and input shape/dtype of a loaded model against its card; return the card."""
    card = verify_hash(model_path)
    shape = [int(v) for v in input_detail["shape"]]
    dtype = getattr(input_detail["dtype"], "__name__", str(input_detail["dtype"]))
    expected = card["input"]
    if shape != list(expected["shape"]) or dtype != expected["dtype"]:
        raise ModelCardError(
            f"{model_path}: input {shape} {dtype} differs from its card "
            f"({expected['shape']} {expected['dtype']})"
        )
    return card
