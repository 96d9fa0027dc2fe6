"""The Pi source's buffers, against the picamera2 look-alike on real video.

Main (6 MB at 1080p) is copied out of a request only for frames the loop keeps; requests
go back to the camera when their frame is replaced, so at most three of six are held.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.sources.base import PhotoError
from edge.sources.config import SourceConfig
from edge.sources.fake_picamera2 import FakePicamera2
from edge.sources.picamera2_source import Picamera2Source
from edge.trigger import TriggerConfig
from tests._loop_helpers import CROWD, STAGE, ScriptedProcessor, smiling_between, video
from tests.test_loop import build

FULL_HD = SourceConfig(type="picamera2", main_size=(1920, 1080), lores_size=(320, 180))
# Fires on the first smiling frame; the burst then lasts 0.3 s of frames.
QUICK = TriggerConfig(
    threshold=0.7, rearm_threshold=0.5, hold_s=0.0, min_faces=2, burst_s=0.3, cooldown_s=60.0
)


def source_on(
    path: Path, config: SourceConfig = FULL_HD, **camera: object
) -> tuple[Picamera2Source, list[FakePicamera2]]:
    cameras: list[FakePicamera2] = []

    def factory() -> FakePicamera2:
        cameras.append(FakePicamera2(path, **camera))  # type: ignore[arg-type]
        return cameras[-1]

    return Picamera2Source(config, camera_factory=factory), cameras


def run_loop(source: Picamera2Source, smiling: tuple[int, int], frames: int, folder: Path):
    """The real loop on `source`, two faces smiling on calls smiling[0]..smiling[1]-1,
    stopped after `frames` frames; (loop, scripted processor, event subscription)."""
    processor = ScriptedProcessor(smiling_between(*smiling))

    def stop_when_done() -> None:
        if processor.calls >= frames:
            loop.stop.set()

    loop, received = build(source, processor, folder, trigger=QUICK, on_frame=stop_when_done)
    assert loop.run() == 0
    return loop, processor, received


def test_main_is_copied_only_for_kept_frames_and_buffers_go_back() -> None:
    source, cameras = source_on(video(CROWD))
    source.open()
    kept, unkept = [], None
    try:
        for n in range(30):
            frame = source.read()
            assert frame is not None and frame.image.shape == (180, 320, 3)
            assert frame.capture_size == (1920, 1080) and frame.scale == (6.0, 6.0)
            if n % 10 == 0:
                kept.append(frame.keep())
            elif unkept is None:
                unkept = frame
    finally:
        source.close()
    [camera] = cameras
    assert camera.arrays_made["main"] == 3  # the kept frames only
    assert camera.arrays_made["lores"] >= 30  # every grab, dropped ones included
    assert camera.max_held <= 3 and not camera.held
    for frame in kept:
        assert frame.capture_image.shape == (1080, 1920, 3)
        small = cv2.resize(frame.capture_image, (320, 180), interpolation=cv2.INTER_AREA)
        assert np.abs(small.astype(int) - frame.image.astype(int)).mean() < 4  # same request
    assert unkept is not None
    with pytest.raises(PhotoError, match="released"):
        _ = unkept.capture_image  # its request went back at the next read: keep() was needed


def test_the_look_alike_frees_released_requests_and_stalls_like_a_camera() -> None:
    camera = FakePicamera2(video(STAGE))
    camera.configure(camera.create_video_configuration(main={"size": (640, 360)}))
    camera.start()
    request = camera.capture_request()
    gone = weakref.ref(request)
    request.release()
    with pytest.raises(RuntimeError, match="negative ref_count"):
        request.release()  # as CompletedRequest does
    del request
    gc.collect()
    assert gone() is None and not camera.held  # nothing kept once released
    held = [camera.capture_request() for _ in range(6)]  # buffer_count of a video config
    with pytest.raises(RuntimeError, match="holds all 6 buffers"):
        camera.capture_request()
    for request in held:
        request.release()
    camera.capture_request().release()
    camera.close()


def test_the_loop_copies_main_only_for_burst_candidates(tmp_path: Path) -> None:
    source, cameras = source_on(video(CROWD), fps=30.0)
    run_loop(source, (20, 40), 60, tmp_path / "photos")
    [camera] = cameras
    [photo] = sorted((tmp_path / "photos").glob("*.jpg"))
    assert cv2.imread(str(photo)).shape == (1080, 1920, 3)
    # The scripted scores are equal across the burst: only its first frame is best, so one
    # copy for 60 frames (each grab used to copy main: 60 or more).
    assert camera.arrays_made["main"] == 1 and camera.arrays_made["lores"] >= 60
    assert camera.max_held <= 3 and not camera.held
