"""Model cards: the JSON written beside each shipped .tflite, checked when a model loads.

A card pins the file's sha256 and its input contract, so a model swapped or corrupted on a
device is refused with a clear message instead of producing silently wrong scores.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

# ModelCardError is raised here and imported from here (app, score, tests, convert)
from edge.perception.model_errors import ModelCardError
from edge.perception.runtime import make_interpreter


def card_path(model_path: Path) -> Path:
    """models/smile_int8.tflite -> models/smile_int8.card.json"""
    return model_path.with_suffix(".card.json")


def write_card(model_path: Path, card: dict[str, Any]) -> Path:
    """The card beside its model, in the one format every converter writes."""
    path = card_path(model_path)
    path.write_text(json.dumps(card, indent=2) + "\n")
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_card(model_path: Path) -> dict[str, Any]:
    """The card, checked like the config: each key's type, so a bad card is a message."""
    path = card_path(model_path)
    try:
        card = json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise ModelCardError(f"{model_path}: no model card at {path}") from exc
    except OSError as exc:
        raise ModelCardError(f"{path}: cannot read the card: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelCardError(f"{path}: not valid JSON ({exc})") from exc
    problems = card_problems(card)
    if problems:
        raise ModelCardError(f"{path}: " + "; ".join(problems))
    return card


def card_problems(card: Any) -> list[str]:
    """What is wrong with a parsed card: the keys every loader relies on, with their types."""
    if not isinstance(card, dict):
        return [f"expected a JSON object, got {type(card).__name__}"]
    problems = []
    digest = card.get("sha256")
    if "sha256" not in card:
        problems.append("missing key 'sha256'")
    elif not (
        isinstance(digest, str)
        and len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
    ):
        problems.append(f"sha256: expected 64 lower-case hex digits, got {digest!r:.80}")
    spec = card.get("input")
    if "input" not in card:
        problems.append("missing key 'input'")
    elif not isinstance(spec, dict):
        problems.append(f"input: expected an object with shape and dtype, got {spec!r:.80}")
    else:
        shape = spec.get("shape")
        if not (
            isinstance(shape, list)
            and shape
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in shape)
        ):
            problems.append(f"input.shape: expected a list of whole numbers, got {shape!r:.80}")
        if not isinstance(spec.get("dtype"), str):
            problems.append(
                f"input.dtype: expected a name such as 'int8', got {spec.get('dtype')!r:.80}"
            )
    return problems


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


def open_checked(model_path: Path, threads: int, verify: bool = True) -> tuple[Any, dict[str, Any]]:
    """A model's interpreter and card: the sha256 checked before the runtime parses the file
    (a corrupted one is refused, not half-loaded), the input contract after."""
    if verify:
        verify_hash(model_path)
    interpreter = make_interpreter(model_path, threads)
    detail = interpreter.get_input_details()[0]
    return interpreter, (verify_model(model_path, detail) if verify else {})
