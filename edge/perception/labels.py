"""Label sets and their meaning: one place, imported by training, convert and the edge app."""

from __future__ import annotations

# FER+ vote columns, in the order of label.csv and fer2013new.csv.
EMOTIONS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
)
VOTE_COLUMNS: tuple[str, ...] = (*EMOTIONS, "unknown", "NF")

# Smile intensity classes, derived from how many of the 10 annotators voted "happiness".
INTENSITY: tuple[str, ...] = ("none", "mild", "moderate", "huge")
# Upper bound (inclusive) of happiness votes out of 10 for each class:
# none 0-1, mild 2-4, moderate 5-7, huge 8-10. Votes are rescaled to 10 when some
# annotators said unknown/NF, so the bins mean "share of annotators who saw a smile".
INTENSITY_UPPER_VOTES: tuple[int, ...] = (1, 4, 7, 10)

# Default group-score weights of each intensity class (the original printability rating).
DEFAULT_INTENSITY_WEIGHTS: dict[str, float] = {
    "none": 0.2,
    "mild": 0.5,
    "moderate": 0.7,
    "huge": 1.0,
}

# Valence of each emotion: a smile with contempt or disgust is not a happy smile.
EMOTION_VALENCE: dict[str, float] = {
    "neutral": 0.0,
    "happiness": 1.0,
    "surprise": 0.3,
    "sadness": -1.0,
    "anger": -1.0,
    "disgust": -1.0,
    "fear": -0.8,
    "contempt": -1.0,
}


def intensity_index(happiness_share: float) -> int:
    """Intensity class index for a share (0..1) of annotators who voted happiness."""
    votes = round(happiness_share * 10.0, 6)
    for index, upper in enumerate(INTENSITY_UPPER_VOTES):
        if votes <= upper + 0.5 - 1e-9:
            return index
    return len(INTENSITY) - 1
