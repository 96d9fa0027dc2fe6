"""Item 11: a corrupt model whose card matches, and malformed cards: named, no traceback."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from edge import exit_codes
from tests.paths import FACE_MODEL, ROOT, SMILE_MODEL, require
from tests.reliability.helpers import assert_no_traceback, smilebooth


def copied_model(tmp_path: Path) -> tuple[Path, Path]:
    require(SMILE_MODEL), require(FACE_MODEL)
    model = tmp_path / "smile.tflite"
    shutil.copy(SMILE_MODEL, model)
    card = model.with_suffix(".card.json")
    shutil.copy(SMILE_MODEL.with_suffix(".card.json"), card)
    return model, card


def edit_card(card: Path, **changes: object) -> None:
    data = json.loads(card.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    card.write_text(json.dumps(data))


def run_both(tmp_path: Path, model: Path) -> list[str]:
    config = tmp_path / "config.yaml"
    config.write_text(f"smile: {{model: {model}}}\ncapture: {{folder: {tmp_path / 'p'}}}\n")
    outputs = []
    for command in (["score", str(ROOT / "samples" / "astronaut.jpg")], ["run"]):
        result = smilebooth(*command, "--config", str(config))
        assert_no_traceback(result)
        assert result.returncode == exit_codes.MODELS, result.stderr
        outputs.append(result.stderr.decode())
    return outputs


def test_corrupt_model_with_a_matching_card_is_named_with_the_reason(tmp_path: Path) -> None:
    model, card = copied_model(tmp_path)
    model.write_bytes(b"\x00garbage" * 100)
    edit_card(card, sha256=hashlib.sha256(model.read_bytes()).hexdigest())
    for stderr in run_both(tmp_path, model):
        assert f"{model}: " in stderr and "cannot load this model" in stderr, stderr
        assert "invalid configuration" not in stderr


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"sha256": 12345}, "sha256: expected 64 lower-case hex digits"),
        ({"input": {"dtype": "int8"}}, "input.shape: expected a list of whole numbers"),
        ({"input": None}, "missing key 'input'"),
        ({"input": "48x48"}, "input: expected an object"),
    ],
)
def test_malformed_cards_are_named(tmp_path: Path, changes: dict, expected: str) -> None:
    model, card = copied_model(tmp_path)
    edit_card(card, **changes)
    for stderr in run_both(tmp_path, model):
        assert f"{card}: " in stderr and expected in stderr, stderr
