"""`smilebooth train` takes a model name; without one it trains the smile model, as before."""

from __future__ import annotations

from edge.cli import with_default_model


def test_train_without_a_model_name_means_smile() -> None:
    assert with_default_model(["train", "--out", "x"]) == ["train", "smile", "--out", "x"]
    assert with_default_model(["-v", "train"]) == ["-v", "train", "smile"]


def test_a_named_model_help_and_other_commands_are_left_alone() -> None:
    assert with_default_model(["train", "eyes", "--smoke"]) == ["train", "eyes", "--smoke"]
    assert with_default_model(["train", "--help"]) == ["train", "--help"]
    assert with_default_model(["convert", "eyes"]) == ["convert", "eyes"]
    assert with_default_model(["score", "train"]) == ["score", "train"]
