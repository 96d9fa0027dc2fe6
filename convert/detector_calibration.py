"""Calibration frames for the int8 face detectors: every face size a booth meets.

The previous calibration used frames with small faces only, and int8 lost exactly the faces
that fill the frame. These frames span near portraits (WIDER faces zoomed to 30-90 % of the
frame), group photos, the faces-dlib photos, the three videos, and empty and dim scenes.
numpy/OpenCV only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluate.detection_eval import faces_dlib, video_frames
from evaluate.wider import (
    NEAR_SCALES,
    group_images,
    near_faces,
    read_ground_truth,
    read_image,
    zoom_crop,
)


def calibration_photos(media: Path, seed: int = 3) -> list[np.ndarray]:
    """BGR frames of every kind, in a fixed shuffled order."""
    rng = np.random.default_rng(seed)
    wider = media / "wider"
    frames: list[np.ndarray] = []
    near = near_faces(read_ground_truth(wider))
    for index in rng.choice(len(near), 80, replace=False):
        image, face = near[index]
        photo = read_image(image.path)
        for fraction in NEAR_SCALES:
            frames.append(zoom_crop(photo, face.box, fraction)[0])
    groups = group_images(wider)
    frames += [read_image(groups[i].path) for i in rng.choice(len(groups), 60, replace=False)]
    frames += [read_image(item.path) for item in faces_dlib(media)]
    frames.append(read_image(media / "faces-dlib" / "dogs.jpg"))
    videos = []
    for name in ("crowd_1080p.mp4", "stage_360p.mp4", "blink_portrait.mp4"):
        videos += video_frames(media / "video" / name, every=15)
    frames += videos
    # Dim scenes (a quarter of the light) and empty ones (a wall: flat grey with sensor noise).
    frames += [(v * 0.25).astype(np.uint8) for v in videos[::3]]
    for level in (40, 128, 210):
        wall = rng.normal(level, 6, (480, 640, 3)).clip(0, 255).astype(np.uint8)
        frames.append(wall)
    order = rng.permutation(len(frames))
    return [frames[i] for i in order]
