"""Bench of the Pi source on the picamera2 look-alike: main copies, per-frame cost, still delay.

    python -m tests.camera_bench [--frames 300] [--stills 5]

1. The source's own work per grab (the camera's decode and resize excluded: on a Pi the
   ISP does them), with and without copying the 1080p main stream out of the request.
2. The real loop with the shipped models on a camera paced at 30 fps, a photo requested
   every 2 s: grabs, loop frames, main copies. Before this change every grab copied main.
3. Still mode: how long a photo takes (switch to the full-sensor still mode, capture,
   switch back) and the longest gap between video frames around it, against the
   look-alike's model of the sensor (edge/io/sources/fake_picamera2.py). A Pi is slower.
Not a test: it prints figures; the tests assert the behaviour.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import tempfile
import threading
import time
from typing import Any

from edge.compose import build_loop
from edge.config import AppConfig
from edge.config.source import SourceConfig
from edge.io.sources.fake_picamera2 import FakePicamera2
from edge.io.sources.picamera2_source import Picamera2Source
from tests.paths import MEDIA

VIDEO = MEDIA / "video" / "stage_360p.mp4"
SOURCE = SourceConfig(type="picamera2", main_size=(1920, 1080), lores_size=(640, 360))


class TimedCamera(FakePicamera2):
    """Counts the time spent inside capture_request (the camera's part, not the source's)."""

    camera_s = 0.0

    def capture_request(self, wait: Any = None, flush: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return super().capture_request(wait, flush)
        finally:
            self.camera_s += time.perf_counter() - started


def per_grab_cost(grabs: int) -> dict[str, float]:
    """ms of the source's own work per grab: lores only (now) and lores + main (before)."""
    camera = TimedCamera(VIDEO)
    source = Picamera2Source(SOURCE, camera_factory=lambda: camera)
    source.open()
    assert source._latest is not None
    source._latest.stop()  # grab here, on this thread, one at a time
    lores_only, with_main = [], []
    try:
        for n in range(2 * grabs):
            camera.camera_s = 0.0
            started = time.perf_counter()
            frame = source._grab()
            if n % 2:  # what every grab did before: copy main out of the request
                assert frame is not None
                frame = frame.keep()
            spent = (time.perf_counter() - started - camera.camera_s) * 1e3
            (with_main if n % 2 else lores_only).append(spent)
            if frame is not None and frame.photo is not None and hasattr(frame.photo, "release"):
                frame.photo.release()
    finally:
        source.close()
    return {"lores_only": statistics.median(lores_only), "with_main": statistics.median(with_main)}


def loop_copies(frames: int) -> dict[str, int]:
    """The real loop and models; photos requested every 2 s."""
    config = AppConfig()
    config = dataclasses.replace(
        config,
        source=SOURCE,
        trigger=dataclasses.replace(config.trigger, cooldown_s=1.0, burst_s=0.3),
        capture=dataclasses.replace(config.capture, folder=tempfile.mkdtemp(prefix="bench-")),
    )
    stop = threading.Event()
    cameras: list[FakePicamera2] = []

    def camera() -> FakePicamera2:
        cameras.append(FakePicamera2(VIDEO, fps=30.0))
        return cameras[-1]

    next_photo = [time.monotonic() + 1.0]

    def on_frame() -> None:
        if time.monotonic() >= next_photo[0]:
            loop.parts.controls.request_trigger()
            next_photo[0] += 2.0
        if loop.counters.frames >= frames:
            stop.set()

    source = Picamera2Source(config.source, camera_factory=camera)
    loop = build_loop(config, source=source, stop=stop, on_frame=on_frame)
    loop.run()
    [cam] = cameras
    return {
        "grabs": cam.arrays_made["lores"],
        "loop_frames": loop.counters.frames,
        "photos": loop.counters.captures,
        "main_copies": cam.arrays_made["main"],
        "max_held": cam.max_held,
    }


def still_delays(stills: int) -> dict[str, float]:
    """Seconds per still and the longest gap between video frames around each."""
    config = dataclasses.replace(SOURCE, still=True)
    cameras: list[FakePicamera2] = []

    def camera() -> FakePicamera2:
        cameras.append(FakePicamera2(VIDEO, fps=30.0))
        return cameras[-1]

    source = Picamera2Source(config, camera_factory=camera)
    source.open()
    gaps = []
    try:
        frame = source.read()
        for _ in range(stills):
            assert frame is not None
            stamps = [frame.timestamp]
            _ = frame.keep().capture_image
            for _ in range(15):  # half a second of video after the still
                frame = source.read()
                assert frame is not None
                stamps.append(frame.timestamp)
            gaps.append(max(b - a for a, b in itertools.pairwise(stamps)))
    finally:
        source.close()
    return {
        "still_mean_s": statistics.mean(source.still_delays),
        "still_max_s": max(source.still_delays),
        "video_gap_mean_s": statistics.mean(gaps),
        "video_gap_max_s": max(gaps),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="loop frames (default 300)")
    parser.add_argument("--stills", type=int, default=5, help="stills to time (default 5)")
    parser.add_argument("--grabs", type=int, default=100, help="grabs per cost (default 100)")
    args = parser.parse_args(argv)
    cost = per_grab_cost(args.grabs)
    print(
        f"per grab, source's own work (median of {args.grabs}): lores only "
        f"{cost['lores_only']:.2f} ms, lores + 1080p main copy {cost['with_main']:.2f} ms"
    )
    run = loop_copies(args.frames)
    per_100 = 100 / run["loop_frames"]
    print(
        f"loop: {run['loop_frames']} frames, {run['grabs']} grabs, {run['photos']} photos; "
        f"main copies {run['main_copies']} ({run['main_copies'] * per_100:.1f} per 100 frames; "
        f"before: one per grab = {run['grabs'] * per_100:.1f} per 100 frames); "
        f"requests held at most {run['max_held']}"
    )
    still = still_delays(args.stills)
    print(
        f"still mode ({args.stills} stills, 4608x2592 from 1080p video at 30 fps): "
        f"photo {still['still_mean_s'] * 1e3:.0f} ms mean, {still['still_max_s'] * 1e3:.0f} ms "
        f"max; longest video gap {still['video_gap_mean_s'] * 1e3:.0f} ms mean, "
        f"{still['video_gap_max_s'] * 1e3:.0f} ms max"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
