"""Small immutable values passed between stages: frame -> faces -> face scores -> group score.

Every stage takes and returns these, never raw tensors, so each stage can be tested alone
and the data only ever flows one way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in pixel coordinates of the frame it was found in."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return max(0.0, self.x2 - self.x1)

    @property
    def height(self) -> float:
        return max(0.0, self.y2 - self.y1)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> Point:
        return ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)

    def iou(self, other: Box) -> float:
        """Intersection over union; 0 when either box is empty."""
        ix = max(0.0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0.0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def scale(self, sx: float, sy: float) -> Box:
        """The same box in a frame resized by (sx, sy), e.g. lores -> main stream."""
        return Box(self.x1 * sx, self.y1 * sy, self.x2 * sx, self.y2 * sy)

    def as_list(self) -> list[float]:
        return [round(self.x1, 1), round(self.y1, 1), round(self.x2, 1), round(self.y2, 1)]


@dataclass(frozen=True)
class Keypoints:
    """The detector's five face keypoints (YuNet's), in frame pixels. "Right"/"left" are
    the person's own: their right eye is on the image's left in a frontal face."""

    right_eye: Point
    left_eye: Point
    nose_tip: Point
    right_mouth: Point
    left_mouth: Point

    def scale(self, sx: float, sy: float) -> Keypoints:
        def s(p: Point) -> Point:
            return (p[0] * sx, p[1] * sy)

        return Keypoints(*(s(p) for p in self.as_tuple()))

    def as_tuple(self) -> tuple[Point, ...]:
        """The points in KEYPOINT_NAMES order (the detector's output order)."""
        return tuple(getattr(self, name) for name in KEYPOINT_NAMES)


# The one list of keypoint names, in the order the detector emits them.
KEYPOINT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Keypoints))


@dataclass(frozen=True)
class Detail:
    """The frame at its full resolution, for what is too small in the model's frame (a
    small face's eyes): the source's own array, never a copy made for this, fetched only
    when something needs it (a Pi camera's main stream is mapped then)."""

    fetch: Callable[[], np.ndarray | None]  # BGR (or gray), the same scene; None: gone
    scale: tuple[float, float]  # detail pixels per model-frame pixel, (x, y)

    @classmethod
    def of(cls, image: np.ndarray, scale: tuple[float, float]) -> Detail:
        """A detail already in hand."""
        return cls(lambda: image, scale)


@dataclass(frozen=True)
class Face:
    """One detection: where a face is, how sure the detector is, and its keypoints."""

    box: Box
    score: float
    keypoints: Keypoints | None = None


@dataclass(frozen=True)
class SmileResult:
    """What the smile model says about one face crop."""

    emotions: dict[str, float]  # the 8 FER+ emotion names -> probability
    intensity: dict[str, float]  # none/mild/moderate/huge -> probability
    smile_probability: float  # P(happiness is the annotators' majority)
    valence: float  # -1 (negative) .. +1 (positive), from the emotion distribution

    @property
    def intensity_class(self) -> str:
        return max(self.intensity, key=self.intensity.__getitem__)


@dataclass(frozen=True, eq=False)
class MeshResult:
    """One face's mesh (edge.perception.face_mesh): 478 (x, y) points in the frame's
    pixels, the mesh model's face presence (0-1) and the 52 blendshape scores."""

    points: np.ndarray  # (478, 2) float32
    presence: float
    blendshapes: np.ndarray  # (52,) float32, in face_mesh.BLENDSHAPE_NAMES order


@dataclass(frozen=True)
class FaceScore:
    """Everything known about one face in one frame."""

    face: Face
    smile: SmileResult
    eyes_open: int  # 0, 1 or 2
    smile_weight: float  # expected intensity weight under the model's probabilities
    smiling: bool
    # P(open) of the person's (right, left) eye; None when eyes were not read.
    eye_open_probability: tuple[float, float] | None = None
    # The face mesh, when eyes are read from it (eyes.reader: mesh); not compared.
    mesh: MeshResult | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class GroupScore:
    """The group rating of one frame; score is None when no face was found."""

    score: float | None
    face_count: int
    average_smile: float | None
    open_eye_ratio: float | None


@dataclass(frozen=True)
class SmoothedFace:
    """One tracked face's values smoothed over frames: what the live group rating counts."""

    track_id: int
    smile_weight: float
    eyes_open: float  # smoothed open-eye count, 0..2
    # smoothed P(smiling), what trigger.rule everyone reads; None: not known (the smile
    # weight stands in for it)
    smile_probability: float | None = None


@dataclass(frozen=True)
class FrameResult:
    """The result of running the per-image pipeline on one frame."""

    faces: tuple[FaceScore, ...]
    group: GroupScore
    width: int
    height: int
    timings_ms: dict[str, float] = field(default_factory=dict)
