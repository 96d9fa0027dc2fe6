"""Why a model is refused: its own module so that the cards (model_card) and the
interpreter factory (runtime) can both raise them without importing each other."""

from __future__ import annotations


class ModelCardError(ValueError):
    """The model file and its card disagree, or the card is missing or malformed."""


class ModelLoadError(ModelCardError):
    """The model file matches its card but the runtime cannot load it (corrupt, wrong
    format, unsupported ops); the message names the file and the runtime's reason."""
