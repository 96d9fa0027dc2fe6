"""`smilebooth bench`: the live loop's stages on a source, with figures instead of photos.

It runs the same FrameLoop.step() as `smilebooth run` (pipeline, tracking, trigger,
events) so the numbers are the loop's, and prints per-stage p50/p95 latency, fps, the
fps of everything after the read, peak RSS, faces per frame and the cold start (process
start to the first score): as a table (stderr) and as one JSON object (stdout, with
--json). After the measured run, a short pass reads the source alone (decoding and
downscaling, no step): its fps is the ceiling the whole loop's fps can be read against.
`--faces-sweep` measures the cost of a frame against the faces in it instead. Nothing is
written unless --capture DIR is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge import exit_codes
from edge.compose import build_loop
from edge.config import AppConfig
from edge.config.command import Overrides, add_config_argument, config_with_flags
from edge.config.output import CaptureConfig
from edge.io.capture import PhotoStore, Saved
from edge.io.sources.base import FrameSource
from edge.loop import FrameProcessor, LoopView
from edge.perception.pipeline import PROJECT_ROOT
from edge.types import Detail

SWEEP_FACES = (0, 1, 2, 4, 8)
DECODE_ONLY_FRAMES = 100  # at most, in the read-alone pass (a camera takes 3 s for them)
SWEEP_PHOTOS = PROJECT_ROOT.parent / "shared" / "media" / "faces-dlib"
STAGES = ("read", "detect", "smile_per_face", "eyes_per_face", "score", "capture")


class TimedStore(PhotoStore):
    """A PhotoStore that remembers how long each save took."""

    def __init__(self, config: CaptureConfig) -> None:
        super().__init__(config)
        self.durations_ms: list[float] = []

    def save(self, image: np.ndarray, sidecar: dict[str, Any], when: float | None = None) -> Saved:
        started = time.perf_counter()
        try:
            return super().save(image, sidecar, when)
        finally:
            self.durations_ms.append((time.perf_counter() - started) * 1000)


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--source", help="video file, image folder, device index, URL, pipeline")
    parser.add_argument("--width", help="width the models see (0 = as delivered)")
    parser.add_argument("--threads", help="interpreter threads per model")
    parser.add_argument("--frames", type=int, default=200, help="frames to measure (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="frames run before measuring")
    parser.add_argument("--capture", type=Path, help="arm the trigger and save photos here")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--web",
        action="store_true",
        help="measure without, then with the web page served and watched: the operator's "
        "live view and the guest screen's mirror open (needs the web extra)",
    )
    parser.add_argument(
        "--faces-sweep",
        action="store_true",
        help=f"per-frame cost against {', '.join(map(str, SWEEP_FACES))} faces in the frame "
        "(real faces from --faces-from pasted into a 640x360 frame; --source is not read)",
    )
    parser.add_argument(
        "--faces-from",
        type=Path,
        default=SWEEP_PHOTOS,
        help="folder of .jpg photos with faces for --faces-sweep (default: ../shared/media/"
        "faces-dlib)",
    )


def bench_config(args: argparse.Namespace) -> AppConfig:
    """The run config with the bench's flags (source, width, threads), each checked exactly
    as the same key in config.yaml."""
    flags: Overrides = {}
    if args.width is not None:
        flags["source.width"] = (args.width, "--width")
    if args.threads is not None:
        for stage in ("detector", "smile", "eyes"):
            flags[f"{stage}.threads"] = (args.threads, "--threads")
    return config_with_flags(args, flags)


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
    return report


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


def format_table(report: dict[str, Any]) -> str:
    header = "".join(f"{h:>10}" for h in ("p50 ms", "p95 ms", "mean ms", "max ms"))
    lines = [f"{'stage':<16}{header}{'n':>7}"]
    for name, figures in report["stages_ms"].items():
        values = (figures[k] for k in ("p50", "p95", "mean", "max"))
        cells = "".join(f"{v:>10.2f}" if v is not None else f"{'-':>10}" for v in values)
        lines.append(f"{name:<16}{cells}{figures['n']:>7}")
    keys = ("frames", "fps", "processing_fps", "decode_only_fps", "peak_rss_mb", "faces_per_frame")
    for key in keys:
        if key in report:
            lines.append(f"{key:<16}{report[key]!s:>10}")
    if report.get("cold_start_s") is not None:
        lines.append(f"{'cold_start_s':<16}{report['cold_start_s']!s:>10}")
    web = report.get("web")
    if web:
        pairs = ", ".join(f"{a:.0f}/{b:.0f}" for a, b in web["processing_fps_pairs"])
        lines.append(
            f"web page + 1 viewer: processing_fps without/with {pairs}: median "
            f"x{web['processing_fps_ratio_median']}; the viewer got {web['viewer_frames']} "
            f"frames, {web['viewer_updates']} updates; drawing + encoding "
            f"{web['live_encode_ms']} ms a frame at {web['live_fps']} fps on the view's thread"
        )
        lines.append(
            f"guest screen: {web['guest_mirror_frames']} mirror frames, {web['guest_updates']} "
            f"updates; encoding {web['guest_encode_ms']} ms a frame at up to "
            f"{web['guest_fps']} fps ({web['guest_encode_ms'] * web['guest_fps'] / 10:.1f} % "
            "of one core)"
        )
    return "\n".join(lines)


def faces_sweep(
    loop_config: Any, pipeline: Any, photos: Path, frames: int, warmup: int
) -> list[dict[str, Any]]:
    """One bench run per face count on a frame holding that many real faces. The warmup
    spans a thorough detection pass, so every face of the new count is known when timing
    starts (the live loop finds a face that walks in at the next thorough pass)."""
    warmup = max(warmup, loop_config.detector.thorough_every)
    from edge.bench_faces import RepeatedFrame, collect_faces, frame_with_faces

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


WEB_ROUNDS = 5  # without / with the page, alternated: the machine's drift hits both alike


def with_web_page(
    config: AppConfig, pipeline: Any, args: argparse.Namespace, without: dict[str, Any]
) -> dict[str, Any]:
    """The bench again with the page served and watched, alternated with runs without it;
    the report is the last run with the page, plus every pair's processing fps."""
    from edge.io.sources import make_source
    from edge.web.bench_viewer import page_with_viewer

    def once(observer: Callable[[LoopView], None] | None) -> dict[str, Any]:
        source = make_source(config.source)
        return run_bench(config, source, pipeline, args.frames, args.warmup, None, observer)

    pairs, frames, updates, errors, encoded, encode_s = [], 0, 0, [], 0, 0.0
    mirror_frames, booth_updates, mirror_encoded, mirror_s = 0, 0, 0, 0.0
    for round_ in range(WEB_ROUNDS):
        plain = without if round_ == 0 else once(None)
        with page_with_viewer(config) as (observer, viewer):
            report = once(observer)
        pairs.append((plain["processing_fps"], report["processing_fps"]))
        frames, updates = frames + viewer.frames, updates + viewer.updates
        errors += viewer.errors
        encoded, encode_s = encoded + viewer.encoded, encode_s + viewer.encode_s
        mirror_frames, booth_updates = (
            mirror_frames + viewer.mirror_frames,
            booth_updates + viewer.booth_updates,
        )
        mirror_encoded, mirror_s = (
            mirror_encoded + viewer.mirror_encoded,
            mirror_s + viewer.mirror_encode_s,
        )
    ratios = sorted(watched / plain for plain, watched in pairs)
    report["web"] = {
        "processing_fps_pairs": pairs,  # (without, with) per round
        "processing_fps_ratio_median": round(ratios[len(ratios) // 2], 3),
        "viewer_frames": frames,
        "viewer_updates": updates,
        "viewer_errors": errors,
        "live_encode_ms": round(1000 * encode_s / max(1, encoded), 2),  # per frame, own thread
        "live_fps": config.web.live_fps,
        "guest_mirror_frames": mirror_frames,
        "guest_updates": booth_updates,
        "guest_encode_ms": round(1000 * mirror_s / max(1, mirror_encoded), 2),
        "guest_fps": config.web.booth_fps,
    }
    return report


def bench_command(args: argparse.Namespace) -> int:
    from edge.config import ConfigError
    from edge.io.sources import make_source
    from edge.io.sources.base import SourceError
    from edge.perception.pipeline import build_pipeline

    try:
        config = bench_config(args)
    except ConfigError as exc:
        print(f"smilebooth bench: invalid configuration:\n{exc}", file=sys.stderr)
        return exit_codes.CONFIG
    try:
        pipeline = build_pipeline(config, live=True)
        if args.faces_sweep:
            rows = faces_sweep(config, pipeline, args.faces_from, args.frames, args.warmup)
            print(format_sweep(rows), file=sys.stderr if args.json else sys.stdout)
            if args.json:
                print(json.dumps({"faces_sweep": rows, "peak_rss_mb": round(peak_rss_mb(), 1)}))
            return 0
        report = run_bench(
            config, make_source(config.source), pipeline, args.frames, args.warmup, args.capture
        )
        if args.web:
            report = with_web_page(config, pipeline, args, report)
        # After the measured run: its cold start and peak RSS are the loop's own.
        frames = min(args.warmup + args.frames, DECODE_ONLY_FRAMES)
        report.update(decode_only(make_source(config.source), frames))
    except (SourceError, FileNotFoundError, ValueError) as exc:
        print(f"smilebooth bench: {exc}", file=sys.stderr)
        return exit_codes.CONFIG
    except ImportError as exc:
        print(f"smilebooth bench --web needs the web extra: {exc}", file=sys.stderr)
        return exit_codes.CONFIG
    print(format_table(report), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(report))
    return 0
