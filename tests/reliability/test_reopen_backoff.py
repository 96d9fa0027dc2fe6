"""Item 7: a camera that opens but delivers nothing must not be reopened in a storm.

Real loop, real threads, real waits (the stop event's), the project's Picamera2 look-alike
on a real video: every camera opens and then times out on its first frame.
"""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from pathlib import Path

from edge.config.source import SourceConfig
from edge.io.sources.fake_picamera2 import FakePicamera2
from edge.io.sources.picamera2_source import Picamera2Source
from tests._loop_helpers import STAGE, ScriptedProcessor, smiling_between, video
from tests.test_loop import build

BACKOFF = SourceConfig(reopen_initial_s=0.05, reopen_max_s=0.8)


def test_backoff_grows_while_no_frame_arrives_and_resets_on_one(tmp_path: Path) -> None:
    camera_file = tmp_path / "camera.mp4"
    shutil.copy(video(STAGE), camera_file)
    cameras: list[FakePicamera2] = []
    opened_at: list[float] = []
    healthy = threading.Event()

    def factory() -> FakePicamera2:
        opened_at.append(time.monotonic())
        cameras.append(FakePicamera2(camera_file, fail_after=5 if healthy.is_set() else 0))
        return cameras[-1]

    config = SourceConfig(type="picamera2", main_size=(640, 360), lores_size=(320, 180))
    source = Picamera2Source(config, camera_factory=factory)
    processor = ScriptedProcessor(smiling_between(0, 0))
    loop, _received = build(source, processor, tmp_path / "photos", source_config=BACKOFF)
    runner = threading.Thread(target=loop.run)
    runner.start()
    time.sleep(3.0)
    storm = loop.counters.reopens  # old code: ~45 reopens (one per 0.05 s + open time)
    healthy.set()  # the next camera delivers 5 frames, then dies: the backoff starts over
    time.sleep(2.0)
    loop.stop.set()
    runner.join(10)
    assert not runner.is_alive()
    assert storm <= 8, f"{storm} reopens in 3 s"
    assert processor.calls >= 5
    gaps = [b - a for a, b in itertools.pairwise(opened_at)]
    # after the frames, the first wait is the initial one again
    first_after_frames = next(i for i, camera in enumerate(cameras) if camera.fail_after == 5)
    assert gaps[first_after_frames] < 0.5, gaps
