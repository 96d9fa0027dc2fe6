"""`smilebooth bench`: the live loop's stages on a source, with figures instead of photos.

It runs the same FrameLoop.step() as `smilebooth run` (pipeline, tracking, trigger,
events) so the numbers are the loop's, and prints per-stage p50/p95 latency, fps, the
fps of everything after the read, peak RSS, faces per frame and the cold start (process
start to the first score): as a table (stderr) and as one JSON object (stdout, with
--json). After the measured run, a short pass reads the source alone (decoding and
downscaling, no step): its fps is the ceiling the whole loop's fps can be read against.
`--faces-sweep` measures the cost of a frame against the faces in it instead. Nothing is
written unless --capture DIR is given. This module is the command (flags, table, --web);
the measured run and its figures are edge/cli/bench_run.py, the sweep edge/cli/bench_faces.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge import exit_codes
from edge.cli.bench_faces import SWEEP_FACES, SWEEP_PHOTOS, faces_sweep, format_sweep
from edge.cli.bench_run import decode_only, peak_rss_mb, run_bench
from edge.config import AppConfig
from edge.config.command import Overrides, add_config_argument, config_with_flags
from edge.loop import LoopView

DECODE_ONLY_FRAMES = 100  # at most, in the read-alone pass (a camera takes 3 s for them)


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
    mesh = report.get("mesh")
    if mesh:
        lines.append(
            f"face mesh: {mesh['reads_per_frame']} reads a frame ({mesh['share_of_faces']:.0%} "
            f"of the faces), {mesh['ms_per_read']} ms each (in eyes_per_face)"
        )
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


def replayed_long_enough(config: AppConfig, frames: int) -> AppConfig:
    """An image folder replayed until the bench has `frames` frames (each pass of the folder
    gives at least one): a folder of one sample photo is otherwise used up by the warm-up
    and nothing is measured. A video or a camera is read as it is."""
    source = config.source
    if source.type != "images" or source.repeat >= frames:
        return config
    return dataclasses.replace(config, source=dataclasses.replace(source, repeat=frames))


NO_FRAMES = (
    "smilebooth bench: no frames to measure: the source ended within the warm-up "
    "(--warmup {warmup}) or gave no frame the loop could score; give a longer video or a "
    "camera, or a smaller --warmup"
)


def bench_command(args: argparse.Namespace) -> int:
    from edge.config import ConfigError
    from edge.io.sources import make_source
    from edge.io.sources.base import SourceError
    from edge.perception.pipeline import build_pipeline

    try:
        config = replayed_long_enough(bench_config(args), args.warmup + args.frames)
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
        if not report["frames"]:  # an empty table and exit 0 would read as a pass
            print(NO_FRAMES.format(warmup=args.warmup), file=sys.stderr)
            return exit_codes.SOURCE
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
