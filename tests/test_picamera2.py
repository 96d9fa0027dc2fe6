"""The Pi source's buffers and still mode, against the picamera2 look-alike on real video.

Main (6 MB at 1080p) is copied out of a request only for frames the loop keeps; requests
go back to the camera when their frame is replaced, so at most three of six are held.
Still mode switches to a still configuration for the photo and back, controls intact.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.config import load_config
from edge.config.decide import TriggerConfig
from edge.config.engine import ConfigError
from edge.config.source import SourceConfig
from edge.io import events
from edge.io.sources.base import PhotoError
from edge.io.sources.fake_picamera2 import SENSOR_RESOLUTION, FakePicamera2
from edge.io.sources.picamera2_source import Picamera2Source
from tests._loop_helpers import CROWD, STAGE, ScriptedProcessor, smiling_between, video
from tests.test_loop import build, drain

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
    # main is copied only for a burst frame that is the best so far: the smoothed score
    # still rises through the 0.3 s burst (~10 frames at 30 fps; a live camera's clock adds
    # a frame or two), so about one copy per burst frame for 60 frames (each grab used to
    # copy main: 60 or more).
    burst_frames = round(QUICK.burst_s * 30) + 1
    assert 1 <= camera.arrays_made["main"] <= 2 * burst_frames
    assert camera.arrays_made["lores"] >= 60
    assert camera.max_held <= 3 and not camera.held


STILL = SourceConfig(
    type="picamera2",
    main_size=(1280, 720),
    lores_size=(320, 180),
    still=True,
    controls={"Sharpness": 1.5},
)


def test_still_mode_photo_at_the_sensor_size_then_video_again_controls_intact() -> None:
    source, cameras = source_on(video(CROWD), STILL, fps=30.0)
    source.open()
    try:
        frame = source.read()
        assert frame is not None and frame.capture_size == SENSOR_RESOLUTION
        kept = frame.keep()  # a burst candidate: no copy, no still yet
        still = kept.capture_image
        after = [source.read() for _ in range(5)]
    finally:
        source.close()
    [camera] = cameras
    assert still.shape == (2592, 4608, 3) and kept.scale == (14.4, 14.4)
    # A new exposure, a few frames later, in BGR as the models' frames (picamera2's
    # "BGR888" would have been R, G, B).
    small = cv2.resize(still, (320, 180), interpolation=cv2.INTER_AREA).astype(int)
    scored = frame.image.astype(int)
    assert np.abs(small - scored).mean() < np.abs(small[..., ::-1] - scored).mean()
    assert all(f is not None for f in after) and after[-1].index > frame.index  # type: ignore[union-attr]
    assert camera.switches == 1 and camera.arrays_made["main"] == 1  # the still only
    ours = {"FrameDurationLimits": (33333, 66666), "NoiseReductionMode": 2, "AfMode": 2}
    ours["Sharpness"] = 1.5
    assert [use for use, _ in camera.configured] == ["video", "still", "video"]
    assert all(controls == ours for _, controls in camera.configured)  # the still's too
    assert camera.controls_set == ours  # after the switch back
    assert not camera.held and len(source.still_delays) == 1


def test_still_size_and_the_loop_keeps_running_after_a_still(tmp_path: Path) -> None:
    config = dataclasses.replace(STILL, still_size=(2304, 1296))
    source, cameras = source_on(video(CROWD), config, fps=30.0)
    loop, processor, _ = run_loop(source, (10, 30), 60, tmp_path / "photos")
    [photo] = sorted((tmp_path / "photos").glob("*.jpg"))
    assert cv2.imread(str(photo)).shape == (1296, 2304, 3)
    sidecar = json.loads(photo.with_suffix(".json").read_text())
    assert sidecar["faces"][0]["box"] == [720.0, 576.0, 1296.0, 1152.0]  # lores x 7.2
    assert processor.calls == 60 and loop.counters.captures == 1  # frames after the still
    assert cameras[0].switches == 1 and cameras[0].controls_set["Sharpness"] == 1.5


def test_a_still_size_larger_than_the_sensor_is_the_sensor_size(caplog) -> None:
    config = dataclasses.replace(STILL, still_size=(8000, 6000))
    source, _ = source_on(video(STAGE), config)
    with caplog.at_level("WARNING"):
        source.open()
        source.close()
    assert source.still_size == SENSOR_RESOLUTION
    assert "still_size 8000x6000 is larger than the sensor (4608x2592)" in caplog.text


class StillFails(FakePicamera2):
    """libcamera failing in the mode switch (a real cause: the CMA heap too fragmented)."""

    def switch_mode_and_capture_request(self, camera_config, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("Failed to allocate buffers")


def test_a_failed_still_is_a_failed_capture_and_scoring_goes_on(tmp_path: Path) -> None:
    source = Picamera2Source(STILL, camera_factory=lambda: StillFails(video(CROWD)))
    loop, processor, received = run_loop(source, (0, 5), 30, tmp_path / "photos")
    assert processor.calls == 30 and loop.counters.capture_failures == 1
    errors = [e.payload.message for e in drain(received) if e.kind == events.ERROR]
    assert errors == ["picamera2: still capture failed: Failed to allocate buffers"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("source:\n  still: maybe\n", ":2: source.still: expected true or false, got 'maybe'"),
        ("source:\n  still_size: [4608, 0]\n", "still_size must be [width, height] or [0, 0]"),
    ],
)
def test_still_keys_are_validated(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert problem in str(error.value)
