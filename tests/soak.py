"""Soak run: the real loop for N minutes, with a broker restart and a full disk in the middle.

    python -m tests.soak --minutes 30        (as root: the photo folder is a real tmpfs)

The loop, the shipped models, the MQTT publisher and a real mosquitto run as in `run`; the
camera is the project's Picamera2 look-alike replaying a real video in a loop (a camera
never ends). At 1/3 of the run mosquitto is killed and restarted 20 s later; from 1/2 to 2/3
the photo tmpfs is filled with a ballast file (the store must free old photos and go on).
At the end it prints RSS, descriptors, threads, fps and photos made/delivered/lost.
Not a test: it takes minutes; the reliability tests cover each fault on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from edge.compose import build_loop
from edge.config import AppConfig
from edge.config.source import SourceConfig
from edge.io.mqtt.publisher import MqttPublisher, close_client
from edge.io.sources.fake_picamera2 import FakePicamera2
from edge.io.sources.picamera2_source import Picamera2Source
from tests.mosquitto import Broker
from tests.paths import MEDIA

VIDEO = MEDIA / "video" / "stage_360p.mp4"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)])
    return done.returncode == 0


def fill(folder: Path) -> Path:
    """Write a ballast file until the disk is full."""
    ballast = folder / "ballast.bin"
    with ballast.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    return ballast


class Counter:
    """A real subscriber counting capture messages on the broker."""

    def __init__(self, port: int) -> None:
        self.captures: set[str] = set()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-counter")
        self.client.on_connect = lambda c, *_: c.subscribe("smilebooth/soak/capture", 1)
        self.client.on_message = lambda _c, _u, m: self.captures.add(json.loads(m.payload)["file"])
        self.client.reconnect_delay_set(1, 2)
        self.client.connect_async("127.0.0.1", port)
        self.client.loop_start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args(argv)
    total = args.minutes * 60
    work = Path(tempfile.mkdtemp(prefix="smilebooth-soak-"))
    photos = work / "photos"
    tmpfs = mount_tmpfs(photos, "16m")
    print(f"soak: {args.minutes} min in {work}; photos on {'tmpfs 16 MB' if tmpfs else 'disk'}")
    broker = Broker(work).start()
    counter = Counter(broker.port)
    config = AppConfig()
    config = dataclasses.replace(
        config,
        source=SourceConfig(type="picamera2", main_size=(640, 360), lores_size=(640, 360)),
        trigger=dataclasses.replace(config.trigger, cooldown_s=1.0, burst_s=0.2),
        capture=dataclasses.replace(config.capture, folder=str(photos), min_free_mb=1.0),
        mqtt=dataclasses.replace(
            config.mqtt, enabled=True, host="127.0.0.1", port=broker.port, device_id="soak"
        ),
    )
    stop = threading.Event()
    cameras: list[FakePicamera2] = []

    def camera() -> FakePicamera2:
        cameras.append(FakePicamera2(VIDEO, fps=30.0))  # paced like a camera
        return cameras[-1]

    source = Picamera2Source(config.source, camera_factory=camera)
    loop = build_loop(config, source=source, stop=stop)
    publisher = MqttPublisher(
        config.mqtt, loop.parts.bus, loop.parts.controls, reconnect_delay=(1, 2)
    )
    publisher.start()
    runner = threading.Thread(target=loop.run, name="loop")
    started = time.monotonic()
    runner.start()
    start_rss, start_fds, start_threads = rss_mb(), fds(), threading.active_count()
    peak_rss, events_done, ballast = start_rss, set(), None
    requested = 0
    while (elapsed := time.monotonic() - started) < total:
        if int(elapsed) % 3 == 0:  # a guest presses the button every 3 s
            loop.parts.controls.request_trigger()
            requested += 1
        peak_rss = max(peak_rss, rss_mb())
        if int(elapsed) % 30 == 0:
            print(f"soak: {elapsed:.0f} s: rss {rss_mb():.0f} MB, fds {fds()}", flush=True)
        if elapsed > total / 3 and "kill" not in events_done:
            events_done.add("kill")
            broker.kill()
            print(f"soak: {elapsed:.0f} s: mosquitto killed")
        if elapsed > total / 3 + 20 and "restart" not in events_done:
            events_done.add("restart")
            broker.start()
            print(f"soak: {elapsed:.0f} s: mosquitto restarted")
        if elapsed > total / 2 and "fill" not in events_done and tmpfs:
            events_done.add("fill")
            ballast = fill(photos)
            print(f"soak: {elapsed:.0f} s: photo disk filled")
        if elapsed > 2 * total / 3 and "free" not in events_done and ballast is not None:
            events_done.add("free")
            ballast.unlink()
            print(f"soak: {elapsed:.0f} s: ballast removed")
        time.sleep(1.0)
    stop.set()
    runner.join(30)
    time.sleep(3)  # the last capture messages
    publisher.stop()
    elapsed = time.monotonic() - started
    made, lost = loop.counters.captures, loop.counters.capture_failures
    delivered = len(counter.captures)
    report = {
        "minutes": round(elapsed / 60, 1),
        "frames": loop.counters.frames,
        "fps": round(loop.counters.frames / elapsed, 1),
        "rss_mb_start": round(start_rss, 1),
        "rss_mb_end": round(rss_mb(), 1),
        "rss_mb_peak": round(peak_rss, 1),
        "fds_start": start_fds,
        "fds_end": fds(),
        "threads_start": start_threads,
        "threads_end": threading.active_count(),
        "photos_requested": requested,
        "photos_made": made,
        "photos_delivered": delivered,
        "photos_lost": lost,
        "photos_on_disk": len(list(photos.glob("*.jpg"))),
        "mqtt_connects": publisher.connects,
        "reopens": loop.counters.reopens,
    }
    close_client(counter.client)
    broker.stop()
    if tmpfs:
        subprocess.run(["umount", "-l", str(photos)], check=False)
    print("soak: " + " ".join(f"{k}={v}" for k, v in report.items()))
    return 0 if made and not runner.is_alive() else 1


if __name__ == "__main__":
    sys.exit(main())
