"""One measured run of the live loop for `smilebooth bench`, and the figures it yields.

It runs the same FrameLoop.step() as `smilebooth run` (pipeline, tracking, trigger,
events) so the numbers are the loop's: per-stage p50/p95 latency, fps, the fps of
everything after the read, peak RSS, faces per frame and the cold start (process start to
the first score). The command around it (flags, table, --web) is edge/cli/bench.py; the faces
sweep, which runs it once per face count, is edge/cli/bench_faces.py.
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge.compose import build_loop
from edge.config.output import CaptureConfig
from edge.io.capture import PhotoStore, Saved
from edge.io.exif import CameraInfo
from edge.io.sources.base import FrameSource
from edge.loop import FrameProcessor, LoopView
from edge.types import Detail

STAGES = ("read", "detect", "smile_per_face", "eyes_per_face", "score", "capture")


class TimedStore(PhotoStore):
    """A PhotoStore that remembers how long each save took."""

    def __init__(self, config: CaptureConfig) -> None:
        super().__init__(config)
        self.durations_ms: list[float] = []

    def save(
        self,
        image: np.ndarray,
        sidecar: dict[str, Any],
        when: float | None = None,
        camera: CameraInfo | None = None,
    ) -> Saved:
        started = time.perf_counter()
        try:
            return super().save(image, sidecar, when, camera)
        finally:
            self.durations_ms.append((time.perf_counter() - started) * 1000)


def run_bench(
    loop_config: Any,
    source: FrameSource,
    processor: FrameProcessor,
    frames: int,
    warmup: int = 0,
    capture: Path | None = None,
    observer: Callable[[LoopView], None] | None = None,
) -> dict[str, Any]:
    """Run `frames` frames through the loop's step and summarise the timings."""
    results: list[Any] = []
    config = dataclasses.replace(
        loop_config,
        # armed only when photos are wanted; no status lines in the figures
        trigger=dataclasses.replace(loop_config.trigger, armed=capture is not None),
        status=dataclasses.replace(loop_config.status, interval_s=1e9),
    )
    store = TimedStore(dataclasses.replace(config.capture, folder=str(capture or ".")))
    recorder = _Recorder(processor, results)
    loop = build_loop(config, source=source, pipeline=recorder, store=store, observer=observer)
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    faces: list[int] = []
    source.open()
    if capture is not None:
        store.open()
    read_s = step_s = 0.0
    cold_start_s: float | None = None
    mesh = _mesh_reader(processor)
    mesh_start = (0, 0.0)
    try:
        for n in range(warmup + frames):
            started = time.perf_counter()
            frame = source.read()
            read = time.perf_counter()
            if frame is None:
                break
            results.clear()
            loop.step(frame)
            done = time.perf_counter()
            if cold_start_s is None:
                cold_start_s = seconds_since_process_start()
            if n == warmup - 1 and mesh is not None:
                mesh_start = (mesh.reads, mesh.read_ms)
            if n < warmup or not results:
                continue
            read_s, step_s = read_s + read - started, step_s + done - read
            _collect(samples, results[0], (read - started) * 1000)
            faces.append(len(results[0].faces))
        loop.finish()
    finally:
        source.close()
    samples["capture"] = store.durations_ms
    report = summarise(samples, faces, read_s, step_s)
    report["cold_start_s"] = None if cold_start_s is None else round(cold_start_s, 3)
    if mesh is not None and faces:
        reads, read_ms = mesh.reads - mesh_start[0], mesh.read_ms - mesh_start[1]
        report["mesh"] = {
            "reads_per_frame": round(reads / len(faces), 2),
            "share_of_faces": round(reads / max(1, sum(faces)), 3),
            "ms_per_read": round(read_ms / reads, 2) if reads else None,
        }
    return report


def _mesh_reader(processor: FrameProcessor) -> Any:
    """The face mesh's eye reader of the pipeline (eyes.reader mesh or cnn+mesh), if any:
    its counters say how often the mesh ran and what it cost."""
    from edge.perception.pipeline import mesh_reader_of

    return mesh_reader_of(getattr(getattr(processor, "parts", None), "eyes", None))


def decode_only(source: FrameSource, frames: int) -> dict[str, Any]:
    """Read up to `frames` frames from the source with nothing else (a file: decode and
    downscale): the frames read and their rate, the most the whole loop could reach."""
    source.open()
    count = 0
    try:
        started = time.perf_counter()
        while count < frames and source.read() is not None:
            count += 1
        elapsed = time.perf_counter() - started
    finally:
        source.close()
    fps = round(count / elapsed, 2) if count and elapsed > 0 else None
    return {"decode_only_frames": count, "decode_only_fps": fps}


def seconds_since_process_start() -> float | None:
    """Wall time since this process started (Linux: /proc, to 10 ms); None elsewhere. The
    first call of a bench is the cold start: interpreter, imports, models, first frame."""
    import os

    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as uptime:
            now = float(uptime.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, in ticks
    return now - started


class _Recorder:
    """Passes frames to the processor and keeps its result for the figures."""

    def __init__(self, processor: FrameProcessor, results: list[Any]) -> None:
        self.processor = processor
        self.results = results

    @property
    def model_hashes(self) -> dict[str, str]:
        return dict(getattr(self.processor, "model_hashes", {}))

    def process(self, frame_bgr: np.ndarray, detail: Detail | None = None) -> Any:
        result = self.processor.process(frame_bgr, detail)
        self.results.append(result)
        return result


def _collect(samples: dict[str, list[float]], result: Any, read_ms: float) -> None:
    timings = result.timings_ms
    samples["read"].append(read_ms)
    samples["detect"].append(timings.get("detect", 0.0))
    samples["score"].append(timings.get("score", 0.0))
    if result.faces:
        count = len(result.faces)
        samples["smile_per_face"].append(timings.get("smile", 0.0) / count)
        samples["eyes_per_face"].append(timings.get("eyes", 0.0) / count)


def summarise(
    samples: dict[str, list[float]], faces: list[int], read_s: float, step_s: float
) -> dict[str, Any]:
    """p50/p95 per stage (ms; null when a stage never ran), fps, processing fps, RSS."""
    stages = {
        name: {
            "p50": _percentile(values, 50),
            "p95": _percentile(values, 95),
            "mean": round(float(np.mean(values)), 2) if values else None,
            "max": round(float(np.max(values)), 2) if values else None,
            "n": len(values),
        }
        for name, values in samples.items()
    }
    frames = len(faces)
    return {
        "frames": frames,
        "stages_ms": stages,
        "fps": round(frames / (read_s + step_s), 2) if frames else None,
        "processing_fps": round(frames / step_s, 2) if frames and step_s > 0 else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "faces_per_frame": round(float(np.mean(faces)), 2) if faces else None,
    }


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def peak_rss_mb() -> float:
    """Peak resident set size of this process: VmHWM on Linux (ru_maxrss would count a
    forked child's peak, which children inherit); ru_maxrss elsewhere (bytes on macOS)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
