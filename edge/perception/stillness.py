"""Whether part of a frame has changed since a model last looked at it.

A model given the same pixels gives the same answer, so a region that has not changed
since its last look needs no new one. A booth spends most of its time like that: empty,
or a group holding still for the photo. The test is a thumbnail of the region (cells of
about CELL_PX pixels, area-averaged, colour kept) compared with the one taken at the last
look: unchanged while no cell moved by more than CHANGE_LEVELS grey levels. Averaging over
a cell smooths sensor and compression noise; a face moving by a pixel moves its edges'
cells by several levels, and a person stepping into an empty frame by dozens.
"""

from __future__ import annotations

import cv2
import numpy as np

CELL_PX = 6  # side of a thumbnail cell in frame pixels
MAX_CELLS = 16  # along the longer side (a 640x360 frame: 16x9 cells of 40 px)
MIN_CELLS = 4
# The largest change of any cell still called noise. On the blink portrait (a real H.264
# video of a person sitting still, blinking) the face's square changes by 2 / 4 / 5 levels
# (10th / 50th / 75th percentile) from one frame to the next; see README "Models".
CHANGE_LEVELS = 6


def thumbnail(image: np.ndarray) -> np.ndarray:
    """The area-averaged thumbnail `unchanged` compares (int16, so differences are exact)."""
    height, width = image.shape[:2]
    cells = int(np.clip(max(height, width) // CELL_PX, MIN_CELLS, MAX_CELLS))
    scale = cells / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.int16)


def unchanged(before: np.ndarray | None, now: np.ndarray) -> bool:
    """True when `now` is the same region as `before` up to noise (None: never looked)."""
    if before is None or before.shape != now.shape:
        return False
    return int(np.abs(now - before).max()) <= CHANGE_LEVELS
