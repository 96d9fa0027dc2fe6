"""Frames with a chosen number of real faces, for `smilebooth bench --faces-sweep`.

The cost of a frame grows with the faces in it (a smile and an eye invoke per face, one
more region for the cheap detection pass), so the bench measures it against 0, 1, 2, 4
and 8 faces on frames built the same way: real faces, found by the shipped detector in
the photos of a folder, pasted into the cells of a grey 640x360 frame, one face a cell,
the same cells whatever the count. Each frame is then replayed like a video, changing and
held still.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.cli.bench_run import run_bench
from edge.io.sources.base import Frame
from edge.perception.pipeline import PROJECT_ROOT
from edge.types import Box, Face

FRAME_SIZE = (640, 360)  # width, height: the loop's usual model frame
GRID = (4, 2)  # columns, rows: up to 8 faces
MARGIN = 1.2  # each cell holds the face and this much of its side around it, each way
MIN_FACE_PX = 40  # faces smaller than this in their photo are not used
BACKGROUND = 118  # grey
SWEEP_FACES = (0, 1, 2, 4, 8)
SWEEP_PHOTOS = PROJECT_ROOT.parent / "shared" / "media" / "faces-dlib"


def collect_faces(
    folder: Path, detect: Callable[[np.ndarray], Sequence[Face]], count: int
) -> list[np.ndarray]:
    """Up to `count` square face patches (BGR) from the photos in `folder`, in name order:
    each holding one face only (a neighbour's face cut at the patch's edge would be found
    too, and the frame would hold more faces than it names)."""
    patches: list[np.ndarray] = []
    for path in sorted(folder.glob("*.jpg")):
        image = cv2.imread(str(path))
        if image is None:
            continue
        found = detect(image)
        for face in sorted(found, key=lambda f: f.box.x1):
            side = max(face.box.width, face.box.height)
            if side < MIN_FACE_PX:
                continue
            cx, cy = face.box.center
            half = side * (0.5 + MARGIN / 2)
            x1, y1 = int(cx - half), int(cy - half)
            x2, y2 = int(cx + half), int(cy + half)
            if x1 < 0 or y1 < 0 or x2 > image.shape[1] or y2 > image.shape[0]:
                continue
            patch = Box(x1, y1, x2, y2)
            if any(o is not face and o.box.iou(patch) > 0 for o in found):
                continue
            patches.append(image[y1:y2, x1:x2])
            if len(patches) == count:
                return patches
    return patches


def frame_with_faces(patches: Sequence[np.ndarray], count: int) -> np.ndarray:
    """A grey frame with the first `count` patches, one in each cell of the grid."""
    width, height = FRAME_SIZE
    columns, rows = GRID
    if count > columns * rows or count > len(patches):
        raise ValueError(f"{count} faces asked for; {min(columns * rows, len(patches))} fit")
    frame = np.full((height, width, 3), BACKGROUND, np.uint8)
    cell_w, cell_h = width // columns, height // rows
    side = min(cell_w, cell_h)
    for index in range(count):
        row, column = divmod(index, columns)
        x = column * cell_w + (cell_w - side) // 2
        y = row * cell_h + (cell_h - side) // 2
        frame[y : y + side, x : x + side] = cv2.resize(
            patches[index], (side, side), interpolation=cv2.INTER_AREA
        )
    return frame


# A changing scene's frames cycle through the frame 0, 1 and 2 times MOTION_LEVELS
# brighter: every square has changed at each of its turns, so every look is made (what a
# scene in motion costs), and the faces stay where they are (nothing new to find).
MOTION_LEVELS = 8
MOTION_STEPS = 3
NOISE_LEVELS = 2.0  # a still scene's frames: the frame with new sensor-like noise each time
NOISY_FRAMES = 7  # drawn once, taken in turn


class RepeatedFrame:
    """A FrameSource that hands over one image `frames` times, on a 30 fps clock: changing
    (brightened in a cycle of MOTION_STEPS frames) or held still (new
    noise of NOISE_LEVELS each frame, as a camera gives a still scene, whose unchanged
    squares the live loop does not look at again)."""

    live = False
    bad_frames = 0
    dropped_frames = 0

    def __init__(self, image: np.ndarray, frames: int, changing: bool = True) -> None:
        self.image = image
        self.frames = frames
        self.changing = changing
        self._index = 0
        self._cycle: list[np.ndarray] = []  # the frames handed over in turn

    def open(self) -> None:
        self._index = 0
        if self._cycle:
            return
        if self.changing:
            for step in range(MOTION_STEPS):
                lighter = np.full_like(self.image, step * MOTION_LEVELS)
                self._cycle.append(cv2.add(self.image, lighter))
        else:  # made once: drawing noise costs ~10 ms a frame
            rng = np.random.default_rng(0)
            for _ in range(NOISY_FRAMES):
                grain = rng.normal(0.0, NOISE_LEVELS, self.image.shape)
                self._cycle.append(np.clip(self.image + grain, 0, 255).astype(np.uint8))

    def read(self) -> Frame | None:
        if self._index >= self.frames:
            return None
        index, self._index = self._index, self._index + 1
        return Frame(self._cycle[index % len(self._cycle)], index, index / 30.0)

    def close(self) -> None:
        pass


def faces_sweep(
    loop_config: Any, pipeline: Any, photos: Path, frames: int, warmup: int
) -> list[dict[str, Any]]:
    """One bench run per face count on a frame holding that many real faces. The warmup
    spans a thorough detection pass, so every face of the new count is known when timing
    starts (the live loop finds a face that walks in at the next thorough pass)."""
    warmup = max(warmup, loop_config.detector.thorough_every)
    detector = pipeline.parts.detector
    thorough = getattr(detector, "detector", detector)  # the whole-photo pass
    patches = collect_faces(photos, thorough.detect, max(SWEEP_FACES))
    if len(patches) < max(SWEEP_FACES):
        raise ValueError(
            f"{photos}: {len(patches)} faces of at least the sweep's size found in its .jpg "
            f"photos; the sweep needs {max(SWEEP_FACES)}"
        )
    rows = []
    for count in SWEEP_FACES:
        image = frame_with_faces(patches, count)
        report = run_bench(
            loop_config, RepeatedFrame(image, warmup + frames), pipeline, frames, warmup
        )
        still = run_bench(
            loop_config,
            RepeatedFrame(image, warmup + frames, changing=False),
            pipeline,
            frames,
            warmup,
        )
        fps = report["processing_fps"]
        rows.append(
            {
                "faces": count,
                "found": report["faces_per_frame"],
                "ms_per_frame": _ms(fps),
                "ms_held_still": _ms(still["processing_fps"]),
                "detect_ms": report["stages_ms"]["detect"]["mean"],
                "smile_ms_per_face": report["stages_ms"]["smile_per_face"]["mean"],
                "eyes_ms_per_face": report["stages_ms"]["eyes_per_face"]["mean"],
                "processing_fps": fps,
            }
        )
    return rows


def _ms(fps: float | None) -> float | None:
    return round(1000 / fps, 3) if fps else None


def format_sweep(rows: list[dict[str, Any]]) -> str:
    columns = (
        "faces",
        "found",
        "ms_per_frame",
        "ms_held_still",
        "detect_ms",
        "smile_ms_per_face",
        "eyes_ms_per_face",
        "processing_fps",
    )
    lines = ["".join(f"{c:>18}" for c in columns)]
    for row in rows:
        lines.append("".join(f"{row[c] if row[c] is not None else '-'!s:>18}" for c in columns))
    return "\n".join(lines)
