"""The face detection stage: one int8 YuNet model, at the two sizes a booth needs.

- `detect()`, the thorough pass (a photo, a live search): the whole frame, its longest side
  at 640 px. One model at one input size finds the back row's 30 px faces and a face that
  fills the frame alike, so there are no tiles and no second model. A face it is not sure
  of (from `candidate_threshold` up to SURE_SCORE) is kept only if a second look at its
  square, where it is ~58 px, scores it `score_threshold`.
- `look_again()`, the live loop's cheap pass: each tracked face looked for alone in a
  square ROI_SCALE times its size around where it was, at TRACK_SIZE (192: a seventh of the
  whole frame's cost), where it is about 87 px.

`detection_schedule` (beside it) decides which runs on each frame of the live loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge.config.perception import DetectorConfig
from edge.perception.yunet_model import (
    CONFIRM_SIZE,
    TRACK_SIZE,
    WHOLE_FRAME_WIDTH,
    YuNetModel,
    fit_input,
)
from edge.types import Box, Face

__all__ = ["BOX_FIT", "FaceDetector", "look_square"]

# How a human-labelled face box (WIDER FACE) relates to the detector's box: width and
# height ratios and the centre's vertical shift in box heights (medians over 793 near WIDER
# face crops the int8 file found at IoU >= 0.3: 0.998, 1.024, -0.010; YuNet was trained on
# WIDER, so its box is WIDER's). Evaluations map boxes with it.
BOX_FIT = (1.0, 1.02, -0.01)

ROI_SCALE = 2.2  # side of the square searched around a known face, in face sizes
# A face looked for where it was must score this (it was found there a moment ago: a
# lower bar than a new face's keeps it through a turn of the head or a blink of motion
# blur).
KNOWN_FACE_THRESHOLD = 0.55
# A face scoring this in the whole frame needs no second look; under it, a second look at
# its square must score it score_threshold. YuNet scores a dog's face 0.82 in the whole
# frame (faces-dlib/dogs.jpg) and under 0.3 looked at alone. On the WIDER groups (int8,
# score 0.75, candidates from 0.6), sure at 0.75 / 0.85 / 0.9: 96.2 / 95.3 / 95.2 % of
# faces >= 32 px found, 95.4 / 94.2 / 93.9 % >= 48 px, 32 / 20 / 20 false detections,
# near faces at 90 % of the frame 95.0 / 94.2 / 92.8 %; a second look at 1.5 face sizes
# as well confirmed the dog again.
SURE_SCORE = 0.85
# The thorough pass's second view for faces that fill the frame: the frame with a black
# margin of this share of its longer side each way, its longest side then at this size
# (0.6 ms here), and only faces at least BIG_FACE of the frame's shorter side kept.
ZOOMED_OUT_MARGIN = 0.25
ZOOMED_OUT_SIDE = 256
BIG_FACE = 0.4
# A live search keeps a tracked face and adds only candidates that overlap none by more.
NEW_FACE_IOU = 0.3


class FaceDetector:
    """Finds faces and their five keypoints in BGR frames of any size."""

    def __init__(self, config: DetectorConfig, root: Path | None = None, verify: bool = True):
        path = Path(config.model)
        if not path.is_absolute() and root is not None:
            path = root / path
        self.model = YuNetModel(path, config.threads, verify=verify)
        self.config = config

    @property
    def card(self) -> dict:
        """The model's card (its sha256 goes into photo sidecars)."""
        return self.model.card

    @property
    def cards(self) -> dict[str, dict]:
        return {"face_detector": self.model.card}

    def detect(self, frame_bgr: np.ndarray, zoomed_out: bool = True) -> tuple[Face, ...]:
        """The thorough pass: the whole frame at WHOLE_FRAME_WIDTH and, with `zoomed_out`,
        the view for faces that fill it (the live loop's frames with nobody tracked skip
        it between searches: an empty booth costs one invoke a frame, and a face up close
        is found at the next search)."""
        bgr = _as_bgr(frame_bgr)
        if bgr is None:
            return ()
        image, scale = fit_input(bgr, WHOLE_FRAME_WIDTH)
        threshold = self.config.score_threshold
        if self.config.candidate_threshold >= threshold:  # no second look: the model alone
            return self.merged(self.model.detect(image, threshold, "whole", scale), bgr.shape)
        found = self.model.detect(image, self.config.candidate_threshold, "whole", scale)
        sure = max(SURE_SCORE, threshold)
        big = self._zoomed_out(bgr) if zoomed_out else []  # seen whole: no second look
        faces = [f for f in found if f.score >= sure] + [f for f in big if f.score >= threshold]
        doubtful = [f for f in found if f.score < sure] + [f for f in big if f.score < threshold]
        faces += self._confirmed(bgr, doubtful)
        return self.merged(faces, bgr.shape)

    def _zoomed_out(self, bgr: np.ndarray) -> list[Face]:
        """The big faces of the frame seen again with a black margin around it, at
        ZOOMED_OUT_SIDE: YuNet, trained on WIDER's crowds, misses a face that fills the
        frame and touches its edges (near WIDER faces at 90 % of the frame: 94.2 % found
        alone, 96.6 % with this pass). Only faces of BIG_FACE of the frame's shorter side
        or more are taken from it, so it adds nothing to a group's back row; one it scores
        score_threshold is kept without a second look (that look's square, 2.2 face sizes,
        would be mostly outside the frame)."""
        height, width = bgr.shape[:2]
        # Shrunk first, then framed: the margin costs nothing at the frame's own size.
        scale = ZOOMED_OUT_SIDE / (max(height, width) * (1 + 2 * ZOOMED_OUT_MARGIN))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)  # AREA: 10x the cost
        margin = round(ZOOMED_OUT_MARGIN * max(size))
        framed = cv2.copyMakeBorder(
            small, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(0, 0, 0)
        )
        image, fitted = fit_input(framed, ZOOMED_OUT_SIDE)  # fitted ~1: padding only
        offset = (-margin / scale, -margin / scale)
        found = self.model.detect(
            image, self.config.candidate_threshold, "zoomed", scale * fitted, offset
        )
        return [f for f in found if f.box.height >= BIG_FACE * min(height, width)]

    def _confirmed(self, bgr: np.ndarray, doubtful: list[Face]) -> list[Face]:
        """The doubtful faces that a second look at their square scores score_threshold:
        a 30 px face in the whole frame is ~58 px there, where YuNet is surest of a real
        face and not of a patch of texture."""
        kept = []
        for face in doubtful:
            square = look_input(bgr, face.box, size=CONFIRM_SIZE)
            if square is None:
                continue
            image, scale, offset = square
            looked = self.model.detect(image, self.config.score_threshold, "confirm", scale, offset)
            again = _closest(looked, face.box)
            if again is not None:
                kept.append(Face(face.box, again.score, face.keypoints))
        return kept

    def discover(self, frame_bgr: np.ndarray, tracked: Sequence[Face]) -> tuple[Face, ...]:
        """The live loop's search: the thorough pass, keeping each tracked face as its
        last look found it and adding only the faces that are new (overlapping no
        tracked one by more than NEW_FACE_IOU)."""
        found = self.detect(frame_bgr)
        new = [f for f in found if all(f.box.iou(t.box) <= NEW_FACE_IOU for t in tracked)]
        return self.merged([*tracked, *new], frame_bgr.shape)

    def look_again(self, frame_bgr: np.ndarray, known: Sequence[Box]) -> list[Face | None]:
        """Each known face looked for alone in its square (`look_input`): the face found
        there, or None, for each box. A face scoring under KNOWN_FACE_THRESHOLD there is
        lost until a search finds it again."""
        bgr = _as_bgr(frame_bgr)
        if bgr is None:
            return [None] * len(known)
        height, width = bgr.shape[:2]
        faces: list[Face | None] = []
        for box in known:
            square = look_input(bgr, box)
            if square is None:
                faces.append(None)
                continue
            image, scale, offset = square
            found = self.model.detect(image, KNOWN_FACE_THRESHOLD, "look", scale, offset)
            closest = _closest(found, box)
            face = _clip(closest, width, height) if closest is not None else None
            faces.append(face if face is not None and self._usable(face) else None)
        return faces

    def _usable(self, face: Face) -> bool:
        return face.box.area > 0 and max(face.box.width, face.box.height) >= self.config.min_face_px

    def merged(self, faces: list[Face], shape: tuple[int, ...]) -> tuple[Face, ...]:
        """Faces found apart (tracked faces' looks, a search) as one frame's: overlaps
        merged, clipped to the frame, too small ones dropped, most confident first."""
        height, width = shape[:2]
        merged = _merge(faces, self.config.nms_iou)
        clipped = [_clip(face, width, height) for face in merged]
        kept = (f for f in clipped if self._usable(f))
        return tuple(sorted(kept, key=lambda f: -f.score))


def _square(box: Box, roi: float = ROI_SCALE) -> tuple[int, int, int]:
    """(x1, y1, side) of the square `roi` face sizes around `box`, in frame pixels."""
    side = max(8, round(roi * max(box.width, box.height)))
    cx, cy = box.center
    return round(cx - side / 2), round(cy - side / 2), side


def look_square(frame: np.ndarray, box: Box, roi: float = ROI_SCALE) -> np.ndarray | None:
    """The pixels a look for the face at `box` sees, cut at the frame's edges (None: too
    little of it in the frame). The stillness check compares these."""
    x1, y1, side = _square(box, roi)
    height, width = frame.shape[:2]
    cx1, cy1 = max(0, x1), max(0, y1)
    cx2, cy2 = min(width, x1 + side), min(height, y1 + side)
    if cx2 - cx1 < 8 or cy2 - cy1 < 8:
        return None
    return frame[cy1:cy2, cx1:cx2]


def look_input(
    bgr: np.ndarray, box: Box, roi: float = ROI_SCALE, size: int = TRACK_SIZE
) -> tuple[np.ndarray, float, tuple[float, float]] | None:
    """The face's square at size x size, black where it leaves the frame: (input, model
    px per frame px, the square's top-left corner in the frame)."""
    x1, y1, side = _square(box, roi)
    region = look_square(bgr, box, roi)
    if region is None:
        return None
    scale = size / side
    canvas = np.zeros((size, size, 3), np.uint8)
    left, top = round((max(0, x1) - x1) * scale), round((max(0, y1) - y1) * scale)
    w = min(size - left, max(1, round(region.shape[1] * scale)))
    h = min(size - top, max(1, round(region.shape[0] * scale)))
    canvas[top : top + h, left : left + w] = cv2.resize(
        region, (w, h), interpolation=cv2.INTER_LINEAR
    )
    return canvas, scale, (float(x1), float(y1))


def _closest(found: list[Face], box: Box) -> Face | None:
    """The face a square was cut for, not a neighbour reaching into it."""
    near = [f for f in found if f.box.iou(box) > 0.2]
    return max(near, key=lambda f: f.box.iou(box) + f.score) if near else None


def _as_bgr(frame: np.ndarray) -> np.ndarray | None:
    """BGR, gray or BGRA frames -> BGR; None for frames that cannot hold a face."""
    if frame.ndim < 2 or frame.size == 0 or min(frame.shape[:2]) < 8:
        return None
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    return None


def _clip(face: Face, width: int, height: int) -> Face:
    b = face.box
    box = Box(max(0.0, b.x1), max(0.0, b.y1), min(float(width), b.x2), min(float(height), b.y2))
    return Face(box, face.score, face.keypoints)


def _merge(faces: list[Face], iou: float) -> list[Face]:
    """Keep the most confident of overlapping detections (tracked looks, a search)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(face.box.iou(other.box) <= iou for other in kept):
            kept.append(face)
    return kept
