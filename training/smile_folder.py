"""A folder of labelled face crops -> smile-model training splits (a fine-tune's data).

DIR/none/, DIR/mild/, DIR/moderate/, DIR/huge/: face crops (any size; `smilebooth crops
--faces` cuts them with the device's own detector and crop rule), labelled by the smile
intensity the group score weighs. Read by training.folders (a non-image or an empty class
folder stops with an error naming it) and split by a hash of the file name.

The smile model learns from FER+ vote shares, so each crop gets the votes its class stands
for: the happiness share at the middle of the class's bin (0, 0.3, 0.6, 0.9), the rest
neutral. That fixes the intensity target (the class) and the smiling target (happiness the
majority: moderate and huge); the crops carry no emotion label, so a folder fine-tune
gives the emotion head no weight (training.train.FOLDER_LOSS_WEIGHTS).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.perception.crop import CROP_SIZE
from edge.perception.labels import EMOTIONS, INTENSITY, VOTE_COLUMNS
from training.ferplus import FerPlusSplit
from training.folders import SPLITS, FolderDataError, LabelledImages, load_folder

CLASS_HAPPINESS_SHARE = {"none": 0.0, "mild": 0.3, "moderate": 0.6, "huge": 0.9}
NEUTRAL, HAPPINESS = EMOTIONS.index("neutral"), EMOTIONS.index("happiness")


def class_votes(label: int) -> np.ndarray:
    """The FER+ vote shares (10 columns) a crop of intensity class `label` stands for."""
    votes = np.zeros(len(VOTE_COLUMNS), np.float32)
    share = CLASS_HAPPINESS_SHARE[INTENSITY[label]]
    votes[HAPPINESS], votes[NEUTRAL] = share, 1.0 - share
    return votes


def load_smile_folder(root: Path) -> dict[str, FerPlusSplit]:
    """train / valid / test splits of DIR/<intensity class>/ crops, as 48x48 gray."""
    everything = load_folder(root, INTENSITY)
    splits = {name: _as_split(everything.split(name)) for name in SPLITS}
    for name in ("train", "valid"):
        if not len(splits[name]):
            raise FolderDataError(
                f"{root}: no crop falls in the {name} split ({len(everything)} crops; the "
                "split is by file name, 65/15/20 %): add more crops"
            )
    return splits


def _as_split(part: LabelledImages) -> FerPlusSplit:
    """Crops resized to the model's input (area, as the crop rule does) and their votes."""
    images = np.zeros((len(part), CROP_SIZE, CROP_SIZE), np.uint8)
    votes = np.zeros((len(part), len(VOTE_COLUMNS)), np.float32)
    for row, (image, label) in enumerate(zip(part.images, part.labels, strict=True)):
        images[row] = cv2.resize(image, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
        votes[row] = class_votes(int(label))
    return FerPlusSplit(images, votes, [str(path) for path in part.paths])
