"""Which reading kept from an earlier frame belongs to a face found now.

The live loop's smile and eye schedules and the mesh memory each keep a reading per face
between frames. A face found again where it was (its box overlapping the kept one by
IoU >= SAME_FACE_IOU) is the same face; the best-overlapping kept reading is its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from edge.types import Box

SAME_FACE_IOU = 0.5


class _Boxed(Protocol):
    @property
    def box(self) -> Box: ...


KeptT = TypeVar("KeptT", bound=_Boxed)


def same_face(kept: Iterable[KeptT], box: Box) -> KeptT | None:
    """The kept reading whose box overlaps `box` most, if that is the same face."""
    best = max(kept, key=lambda item: item.box.iou(box), default=None)
    return best if best is not None and best.box.iou(box) >= SAME_FACE_IOU else None
