"""The face detection stage: two int8 MediaPipe models, each where it is strong.

- The full-range model (192x192) finds faces from ~4 % of the frame's side up and whole
  groups; it weakens once a face fills the frame.
- The short-range model (128x128, a quarter of the cost) finds faces that fill the frame.

`detect()` is the thorough pass for a still photo (and for the live loop now and then): both
models on the whole frame, plus the full-range model on 2x2 overlapping tiles when the frame
is large enough for small faces to hide in it. `redetect()` is the cheap pass between
thorough ones: the short-range model only inside a square around each face already found,
where that face is exactly the size the model likes. `detection_schedule` (beside it) decides which
runs on each frame of the live loop.

Both models' boxes come out in one convention (the full-range model's), so the crop rule
(`edge.perception.crop`) holds whichever model found the face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.config.perception import DetectorConfig
from edge.perception.detector_model import DetectorModel, letterbox
from edge.types import Box, Face, Keypoints

__all__ = ["FaceDetector", "letterbox"]

# How a human-labelled face box (WIDER FACE) relates to each model's box: width and height
# ratios and the centre's vertical shift in box heights. Medians over the 503 near WIDER
# faces at 30-90 % of the frame (`python -m convert.detector_eval --fit-boxes`, float models).
# The short-range box is mapped into the full-range convention with them.
BOX_FIT = {
    "full_range": (0.87, 1.18, -0.06),
    "short_range": (0.91, 1.24, -0.10),
}
TILE_MIN_SIDE = 640  # frames smaller than this hold no face too small for the whole-frame pass
TILE_TARGET = 400  # tiles of about this many pixels: a 32 px face is 15 px at the model's input
ROI_SCALE = 2.2  # side of the square searched around a known face, in face sizes
MOSAIC_GRID = 2  # a search confirms new candidates 2x2 to one short-range input
# A face looked for where it was must score this: on the panned WIDER groups 0.4 gave
# 90.2 / 87.3 % found (>= 32 / >= 48 px) and 23.2 false per 100 frames, 0.55 89.3 / 87.9 %
# and 14.8, 0.6 89.1 / 86.7 % and 11.3 (a missed face then looked for on every frame).
KNOWN_FACE_THRESHOLD = 0.55
# A tracked face the cheap pass scores at least this needs no confirmation in a live search
# (100 WIDER group photos panned as video, with the whole-frame full-range pass: 10.7 false
# detections per 100 frames at 0.85, 12.4 at 0.5, 10.7 confirming every tracked face, which
# finds 0.6 % fewer faces).
TRACKED_SURE = 0.85


@dataclass(frozen=True)
class DetectorModels:
    full_range: DetectorModel
    short_range: DetectorModel | None


class FaceDetector:
    """Finds faces and their six keypoints in BGR frames of any size."""

    def __init__(self, config: DetectorConfig, root: Path | None = None, verify: bool = True):
        def resolve(path: str) -> Path:
            candidate = Path(path)
            return candidate if candidate.is_absolute() or root is None else root / candidate

        full = DetectorModel(resolve(config.model), config.threads, verify=verify)
        short = (
            DetectorModel(resolve(config.short_range_model), config.threads, verify=verify)
            if config.short_range_model
            else None
        )
        self.models = DetectorModels(full, short)
        self.config = config

    @property
    def card(self) -> dict:
        """The full-range model's card (its sha256 goes into photo sidecars)."""
        return self.models.full_range.card

    @property
    def cards(self) -> dict[str, dict]:
        cards = {"face_detector": self.models.full_range.card}
        if self.models.short_range is not None:
            cards["face_detector_short"] = self.models.short_range.card
        return cards

    # -- passes ------------------------------------------------------------------------

    def detect(self, frame_bgr: np.ndarray) -> tuple[Face, ...]:
        """The thorough pass: both models on the whole frame, and tiles on large frames."""
        rgb = _as_rgb(frame_bgr)
        if rgb is None:
            return ()
        faces = self._confirmed(rgb, self._whole_frame(rgb), self.config.confirm_threshold)
        if self.config.tiles:
            # Tiles see 5-9 small views of everything: stricter on both scores.
            faces += self._confirmed(rgb, self._tiles(rgb), self.config.tile_threshold)
        return self.merged(faces, rgb.shape)

    def detect_whole(self, frame_bgr: np.ndarray) -> tuple[Face, ...]:
        """Both models on the whole frame, no tiles: the live loop's pass with no face known."""
        rgb = _as_rgb(frame_bgr)
        if rgb is None:
            return ()
        faces = self._confirmed(rgb, self._whole_frame(rgb), self.config.confirm_threshold)
        return self.merged(faces, rgb.shape)

    def discover(self, frame_bgr: np.ndarray, tracked: Sequence[Face]) -> tuple[Face, ...]:
        """The live loop's search for faces not tracked yet: both models on the whole frame
        and, on frames of TILE_MIN_SIDE and more, the full-range model on square tiles.

        Square tiles: a 640x360 frame is two 360x360 tiles (80 px overlap) that the model
        sees at 0.53 of their size, where the thorough pass's four 384x216 tiles are seen
        at 0.50 and 44 % of each input is letterbox (as is 44 % of a whole 16:9 frame's):
        three full-range invokes instead of five, nothing seen smaller. On 100 WIDER group
        photos panned as video (`convert.live_detection_eval`), the live loop finds 89.1 /
        87.8 % of the faces >= 32 / >= 48 px with 12.6 false detections per 100 frames;
        a135a3d's (the thorough pass every 10th frame, faces packed four to an input in
        between) 88.7 / 87.7 % with 9.3.

        A candidate where a tracked face already is needs no second look: the cheap pass
        has just found it there. Only new candidates are confirmed, as in `detect()` but
        four to an input, and so is a tracked face the cheap pass scored under
        TRACKED_SURE: a doubtful track is checked as often as before."""
        rgb = _as_rgb(frame_bgr)
        if rgb is None:
            return ()
        sure = [f for f in tracked if f.score >= TRACKED_SURE]
        doubtful = [f for f in tracked if f.score < TRACKED_SURE]

        def new(candidates: list[Face]) -> list[Face]:
            return [c for c in candidates if all(c.box.iou(f.box) <= 0.3 for f in sure)]

        threshold = self.config.confirm_threshold
        # Both models on the whole frame even with tiles: the full-range model finds dim,
        # blurred faces there that it misses in the tiles, larger and blurrier (stage_360p).
        whole = self._whole_frame(rgb)
        tiles = square_tiles(rgb.shape) if self.config.tiles else []
        faces = sure + self._confirmed_packed(rgb, new(whole) + doubtful, threshold)
        if tiles:
            found = self._tiles(rgb, tiles)
            faces += self._confirmed_packed(rgb, new(found), self.config.tile_threshold)
        return self.merged(faces, rgb.shape)

    def redetect(self, frame_bgr: np.ndarray, known: Sequence[Box]) -> tuple[Face, ...]:
        """The cheap pass: look again only around faces already found (`look_again`)."""
        return self.merged([f for f in self.look_again(frame_bgr, known) if f], frame_bgr.shape)

    def look_again(self, frame_bgr: np.ndarray, known: Sequence[Box]) -> list[Face | None]:
        """Each known face looked for in a square 2.2x its size around where it was, by the
        short-range model, which sees it there at about 45 % of its input: the face found
        there, or None, for each box.

        One input per face, never several packed into one: packed four to an input a face
        is a quarter the size, and its keypoints are off by a median 5 % of the face's
        width (0.8 % alone): on group photos held still, the live loop's eyes read as the
        photo pass reads them for 67 % of faces packed, 84 % looked at alone (with the
        square held, `detection_schedule._anchor`). A face scoring under
        KNOWN_FACE_THRESHOLD there is lost until found again."""
        # Nothing of the frame is converted to RGB but each model input, once it is at the
        # model's size (a channel swap: the same pixels either way, at a fraction of the cost).
        bgr = _as_bgr(frame_bgr)
        if bgr is None:
            return [None] * len(known)
        model = self.models.short_range or self.models.full_range
        height, width = bgr.shape[:2]
        faces: list[Face | None] = []
        for box in known:
            region, offset = _region(bgr, box)
            found = (
                _closest(self._run(model, region, offset, KNOWN_FACE_THRESHOLD, bgr=True), box)
                if region is not None
                else []
            )
            face = _clip(found[0], width, height) if found else None
            if face is not None and not self._usable(face):
                face = None
            faces.append(face)
        return faces

    def _usable(self, face: Face) -> bool:
        return face.box.area > 0 and max(face.box.width, face.box.height) >= self.config.min_face_px

    def _packed(
        self, regions: list[tuple[Box, np.ndarray, tuple[int, int]]], threshold: float
    ) -> list[list[Face]]:
        """Up to MOSAIC_GRID**2 regions side by side in one short-range input: the faces
        found in each region's cell, in frame pixels."""
        model = self.models.short_range or self.models.full_range
        cell = model.size // MOSAIC_GRID
        canvas = np.zeros((model.size, model.size, 3), np.uint8)
        for index, (_, region, _) in enumerate(regions):
            row, col = divmod(index, MOSAIC_GRID)
            canvas[row * cell : (row + 1) * cell, col * cell : (col + 1) * cell] = cv2.resize(
                region, (cell, cell), interpolation=cv2.INTER_LINEAR
            )
        found = self._run(model, canvas, (0, 0), threshold)
        per_region = []
        for index, (_, region, (ox, oy)) in enumerate(regions):
            row, col = divmod(index, MOSAIC_GRID)
            cx0, cy0 = col * cell, row * cell
            sx, sy = region.shape[1] / cell, region.shape[0] / cell
            per_region.append(
                [
                    _moved(f, -cx0, -cy0, sx, sy, ox, oy)
                    for f in found
                    if cx0 <= f.box.center[0] < cx0 + cell and cy0 <= f.box.center[1] < cy0 + cell
                ]
            )
        return per_region

    def _confirmed_packed(self, rgb: np.ndarray, faces: list[Face], threshold: float) -> list[Face]:
        """`_confirmed`, four candidates packed into one short-range input:
        a live search confirms 3.1 instead of 4.9 regions' worth of invokes on crowd_1080p;
        on the panned WIDER groups 90.8 / 88.4 % found (>= 32 / >= 48 px) and 11.2 false
        per 100 frames, against 89.7 / 88.7 % and 10.7 one region to an input."""
        if self.models.short_range is None:
            return self._confirmed(rgb, faces, threshold)
        candidates = []
        for face in _merge(faces, self.config.nms_iou):
            region, offset = _region(rgb, face.box)
            if region is not None:
                candidates.append((face, (face.box, region, offset)))
        kept = []
        step = MOSAIC_GRID**2
        for start in range(0, len(candidates), step):
            group = candidates[start : start + step]
            packed = self._packed([region for _, region in group], threshold)
            for (face, _), found in zip(group, packed, strict=True):
                confirmed = _seen_again(face, found)
                if confirmed is not None:
                    kept.append(confirmed)
        return kept

    # -- pieces ------------------------------------------------------------------------

    def _whole_frame(self, rgb: np.ndarray) -> list[Face]:
        faces = self._run(self.models.full_range, rgb, (0, 0))
        if self.models.short_range is not None:
            faces += self._run(self.models.short_range, rgb, (0, 0))
        return faces

    def _tiles(self, rgb: np.ndarray, tiles: list[Tile] | None = None) -> list[Face]:
        """The full-range model on each tile (default: the thorough pass's grid)."""
        found, threshold = [], self.config.tile_threshold
        for x, y, w, h in grid_tiles(rgb.shape) if tiles is None else tiles:
            found += self._run(self.models.full_range, rgb[y : y + h, x : x + w], (x, y), threshold)
        return found

    def _confirmed(self, rgb: np.ndarray, faces: list[Face], threshold: float) -> list[Face]:
        """Candidates the short-range model also sees as a face in a square around them.

        Most false detections of the whole-frame and tile passes are hands, the backs of
        heads and bare skin; a second model looking at each at its favourite size rejects
        most of them and keeps nearly every face."""
        model = self.models.short_range
        if model is None:
            return faces
        kept = []
        for face in _merge(faces, self.config.nms_iou):
            region, offset = _region(rgb, face.box)
            if region is None:
                continue
            confirmed = _seen_again(face, self._run(model, region, offset, threshold))
            if confirmed is not None:
                kept.append(confirmed)
        return kept

    def _run(
        self,
        model: DetectorModel,
        rgb: np.ndarray,
        offset: tuple[int, int],
        threshold: float | None = None,
        bgr: bool = False,
    ) -> list[Face]:
        faces = model.detect(
            rgb,
            self.config.score_threshold if threshold is None else threshold,
            self.config.nms_iou,
            (float(offset[0]), float(offset[1])),
            bgr,
        )
        if model is self.models.short_range:
            faces = [_short_to_full(face) for face in faces]
        return faces

    def merged(self, faces: list[Face], shape: tuple[int, ...]) -> tuple[Face, ...]:
        """Faces found apart (models, tiles, tracked faces, searches) as one frame's:
        overlaps merged, clipped to the frame, too small ones dropped, most confident first."""
        height, width = shape[:2]
        merged = _merge(faces, self.config.nms_iou)
        clipped = [_clip(face, width, height) for face in merged]
        kept = (f for f in clipped if self._usable(f))
        return tuple(sorted(kept, key=lambda f: -f.score))


Tile = tuple[int, int, int, int]  # x, y, width, height


def grid_tiles(shape: tuple[int, ...]) -> list[Tile]:
    """n x n overlapping tiles: 2x2 on a 640 px frame, 3x3 on a 1024 px photo, none under
    TILE_MIN_SIDE. Each face is seen 1.7-2.3x larger there, for faces far away."""
    height, width = shape[:2]
    if max(height, width) < TILE_MIN_SIDE:
        return []
    count = min(3, max(2, round(max(height, width) / TILE_TARGET)))
    fraction = 1.5 / (count + 0.5)  # neighbours overlap by a fifth of a tile
    tile_w, tile_h = int(width * fraction), int(height * fraction)
    return [
        (int(x), int(y), tile_w, tile_h)
        for y in np.linspace(0, height - tile_h, count).astype(int)
        for x in np.linspace(0, width - tile_w, count).astype(int)
    ]


def square_tiles(shape: tuple[int, ...]) -> list[Tile]:
    """Squares of the frame's short side along its long side, overlapping by at least a
    fifth (a face up to that size is whole in one of them); none under TILE_MIN_SIDE."""
    height, width = shape[:2]
    side, length = min(height, width), max(height, width)
    if length < TILE_MIN_SIDE or side == length:
        return []
    count = -(-length // side)
    if count * side - length < side // 5 * (count - 1):
        count += 1
    starts = np.linspace(0, length - side, count).astype(int)
    if width >= height:
        return [(int(x), 0, side, side) for x in starts]
    return [(0, int(y), side, side) for y in starts]


def _short_to_full(face: Face) -> Face:
    """A short-range box in the full-range model's convention (through the labelled box)."""
    sw, sh, sdy = BOX_FIT["short_range"]
    fw, fh, fdy = BOX_FIT["full_range"]
    b = face.box
    width, height = b.width * sw / fw, b.height * sh / fh
    cx, cy = b.center
    cy = cy + sdy * b.height - fdy * height
    box = Box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    return Face(box, face.score, face.keypoints)


def _seen_again(face: Face, found: list[Face]) -> Face | None:
    """`face` if a second look found it there (IoU > 0.3), with that look's keypoints: it
    sees the face at ~45 % of its input, finer than a face a few pixels wide in the
    whole-frame pass. None if it did not."""
    near = [f for f in found if f.box.iou(face.box) > 0.3]
    if not near:
        return None
    closest = max(near, key=lambda f: f.box.iou(face.box))
    return Face(face.box, face.score, closest.keypoints or face.keypoints)


def _closest(found: list[Face], box: Box) -> list[Face]:
    """The face a region was cut for, not a neighbour reaching into it."""
    near = [f for f in found if f.box.iou(box) > 0.2]
    return [max(near, key=lambda f: f.box.iou(box) + f.score)] if near else []


def _moved(face: Face, dx: float, dy: float, sx: float, sy: float, ox: float, oy: float) -> Face:
    """A face found in a mosaic cell -> frame pixels: shift to the cell, scale, shift."""

    def point(x: float, y: float) -> tuple[float, float]:
        return ((x + dx) * sx + ox, (y + dy) * sy + oy)

    b = face.box
    x1, y1 = point(b.x1, b.y1)
    x2, y2 = point(b.x2, b.y2)
    keypoints = None
    if face.keypoints is not None:
        keypoints = Keypoints(*(point(x, y) for x, y in face.keypoints.as_tuple()))
    return Face(Box(x1, y1, x2, y2), face.score, keypoints)


def look_square(frame: np.ndarray, box: Box) -> np.ndarray | None:
    """The pixels a look for the face at `box` sees (None: too little of it in the frame)."""
    return _region(frame, box)[0]


def _region(rgb: np.ndarray, box: Box) -> tuple[np.ndarray | None, tuple[int, int]]:
    """The square around a face (ROI_SCALE face sizes, cut at the frame's edges)."""
    height, width = rgb.shape[:2]
    side = ROI_SCALE * max(box.width, box.height)
    cx, cy = box.center
    x1, y1 = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
    x2, y2 = min(width, int(cx + side / 2)), min(height, int(cy + side / 2))
    if x2 - x1 < 8 or y2 - y1 < 8:
        return None, (x1, y1)
    return rgb[y1:y2, x1:x2], (x1, y1)


def _as_bgr(frame: np.ndarray) -> np.ndarray | None:
    """BGR, gray or BGRA frames -> BGR; None for frames that cannot hold a face."""
    if frame.ndim < 2 or frame.size == 0 or min(frame.shape[:2]) < 8:
        return None
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    rgb = _as_rgb(frame)
    return None if rgb is None else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _as_rgb(frame: np.ndarray) -> np.ndarray | None:
    """BGR, gray or BGRA frames -> RGB; None for frames that cannot hold a face."""
    if frame.ndim < 2 or frame.size == 0 or min(frame.shape[:2]) < 8:
        return None
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2RGB)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    return None


def _clip(face: Face, width: int, height: int) -> Face:
    b = face.box
    box = Box(max(0.0, b.x1), max(0.0, b.y1), min(float(width), b.x2), min(float(height), b.y2))
    return Face(box, face.score, face.keypoints)


def _merge(faces: list[Face], iou: float) -> list[Face]:
    """Keep the most confident of overlapping detections (models, tiles, regions)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(face.box.iou(other.box) <= iou for other in kept):
            kept.append(face)
    return kept
