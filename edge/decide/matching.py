"""Greedy one-to-one box matching by overlap: tracking (faces to tracks) and the detector
evaluation (detections to ground truth) pair boxes the same way."""

from __future__ import annotations

from collections.abc import Sequence

from edge.types import Box


def greedy_matches(
    first: Sequence[Box], second: Sequence[Box], threshold: float
) -> list[tuple[int, int, float]]:
    """(i, j, IoU) pairs, the best overlap first; each box in at most one pair, and no pair
    under `threshold`."""
    pairs = sorted(
        ((a.iou(b), i, j) for i, a in enumerate(first) for j, b in enumerate(second)),
        reverse=True,
    )
    used_first: set[int] = set()
    used_second: set[int] = set()
    matches = []
    for iou, i, j in pairs:
        if iou < threshold or i in used_first or j in used_second:
            continue
        used_first.add(i)
        used_second.add(j)
        matches.append((i, j, iou))
    return matches
