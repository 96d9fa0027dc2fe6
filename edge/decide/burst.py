"""After the shutter fires: keep the best frame of the burst, and say what its photo shows.

The trigger (edge.decide.trigger) times the burst window; the burst only ranks the frames offered
during it, by the same smoothed group score the trigger fired on (a one-frame raw outlier
is not the photo the booth decided to take), a frame the rule calls ready (everyone
smiling, edge.decide.rule) above one it does not, then any frame without closed eyes above
those with.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from edge.decide.rule import is_closed
from edge.decide.tracking import TrackedFrame
from edge.io.serialize import face_to_dict, group_to_dict
from edge.io.sources.base import Frame
from edge.types import FrameResult, GroupScore


@dataclass(frozen=True)
class ScoredFrame:
    """One frame after tracking and the live group rating: what the trigger fires on, the
    burst keeps and the events report."""

    frame: Frame
    tracked: TrackedFrame
    group: GroupScore  # the smoothed group rating (edge.decide.scoring.smoothed_group)


@dataclass
class Burst:
    """The best frame offered since the shutter fired."""

    reason: str  # "score" or "manual"
    avoid_closed_eyes: bool = True  # rank any frame without closed eyes above those with
    best: ScoredFrame | None = None
    _rank: tuple[bool, bool, float] = (False, False, -2.0)

    def offer(self, scored: ScoredFrame, ready: bool = True) -> None:
        """ready: the rule's verdict on this frame (edge.decide.rule)."""
        score = scored.group.score if scored.group.score is not None else -1.0
        open_eyes = not (self.avoid_closed_eyes and eyes_closed(scored.tracked.result))
        rank = (ready, open_eyes, score)
        if self.best is None or rank > self._rank:
            # keep(): a camera frame's photo is copied out of its buffer only here.
            kept = dataclasses.replace(scored, frame=scored.frame.keep())
            self.best, self._rank = kept, rank


def eyes_closed(result: FrameResult) -> bool:
    """Some face of the frame had its eyes read, and both read closed."""
    return any(is_closed(f) for f in result.faces)


def capture_sidecar(
    scored: ScoredFrame, reason: str, when: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """What a photo's JSON sidecar says; boxes in the saved (full-resolution) photo's pixels."""
    frame, tracked = scored.frame, scored.tracked
    sx, sy = frame.scale
    faces = []
    for track, face in zip(tracked.tracks, tracked.result.faces, strict=True):
        entry = face_to_dict(face)
        entry["box"] = face.face.box.scale(sx, sy).as_list()
        entry.pop("keypoints", None)
        faces.append({"track_id": track.track_id, **entry})
    return {
        "time": dt.datetime.fromtimestamp(when, dt.timezone.utc).isoformat(),
        "reason": reason,
        "frame_index": frame.index,
        "score": _round(tracked.result.group.score),
        "smoothed": group_to_dict(scored.group),
        "group": group_to_dict(tracked.result.group),
        "faces": faces,
        **extra,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
