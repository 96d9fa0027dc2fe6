"""`smilebooth bench` of this checkout against an older one, in the same run, as ratios.

    python -m tests.bench_compare --old /work/wt-old [--rounds 5] [--threads 1 2]
        [--source VIDEO_OR_FOLDER ...] [--predecode DIR]

The older checkout is a git worktree of the commit to compare with (`git worktree add
/work/wt-old d5169b2`); both are run by this checkout's interpreter, each from its own
folder, alternating old and new every round so a busy machine slows both alike. Per video
and thread count it prints the median processing fps (the loop's step, after the read)
and whole-loop fps (decode + resize + step) of each, their ratio, this checkout's
decode-only fps (reading the source alone: the whole loop's ceiling), peak RSS (VmHWM) and
cold start. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.paths import MEDIA, ROOT

VIDEOS = ("crowd_1080p.mp4", "stage_360p.mp4", "blink_portrait.mp4")


def bench(tree: Path, video: Path, threads: int, frames: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "edge", "bench", "--source", str(video.resolve())]
    command += ["--width", "640"]
    command += ["--threads", str(threads), "--frames", str(frames), "--json"]
    result = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{tree}: {' '.join(command)} failed:\n{result.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def compare(
    old: Path, rounds: int, threads: list[int], frames: int, sources: list[Path]
) -> list[dict[str, Any]]:
    rows = []
    for video in sources:
        name = video.name
        for count in threads:
            runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
            for round_ in range(rounds):
                order = ("old", "new") if round_ % 2 == 0 else ("new", "old")
                for which in order:
                    tree = old if which == "old" else ROOT
                    runs[which].append(bench(tree, video, count, frames))
            row: dict[str, Any] = {"video": name, "threads": count}
            for which, reports in runs.items():
                for key in ("processing_fps", "fps", "faces_per_frame", "peak_rss_mb"):
                    row[f"{which}_{key}"] = statistics.median(r[key] for r in reports)
            row["new_cold_start_s"] = statistics.median(r["cold_start_s"] for r in runs["new"])
            ceilings = [r["decode_only_fps"] for r in runs["new"] if r.get("decode_only_fps")]
            row["new_decode_only_fps"] = statistics.median(ceilings) if ceilings else None
            row["processing_ratio"] = round(
                row["new_processing_fps"] / row["old_processing_fps"], 2
            )
            row["fps_ratio"] = round(row["new_fps"] / row["old_fps"], 2)
            rows.append(row)
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    header = (
        f"{'video':<20}{'thr':>4}{'proc new':>10}{'proc old':>10}{'ratio':>7}"
        f"{'loop new':>10}{'loop old':>10}{'ratio':>7}{'read new':>10}{'faces n/o':>11}"
        f"{'RSS new':>9}{'RSS old':>9}{'cold s':>8}"
    )
    lines = [header]
    for r in rows:
        lines.append(
            f"{r['video']:<20}{r['threads']:>4}{r['new_processing_fps']:>10.1f}"
            f"{r['old_processing_fps']:>10.1f}{r['processing_ratio']:>7.2f}{r['new_fps']:>10.1f}"
            f"{r['old_fps']:>10.1f}{r['fps_ratio']:>7.2f}{_cell(r['new_decode_only_fps'])}"
            f"{r['new_faces_per_frame']:>6.2f}/{r['old_faces_per_frame']:<4.2f}"
            f"{r['new_peak_rss_mb']:>9.1f}{r['old_peak_rss_mb']:>9.1f}{r['new_cold_start_s']:>8.2f}"
        )
    return "\n".join(lines)


def predecode(folder: Path, width: int = 640) -> list[Path]:
    """Each sample video's frames as PNG files at `width` (area-averaged down, as the
    source does), one folder per video: sources whose reading costs no decoder."""
    import cv2

    from edge.io.video import video_frames

    folders = []
    for name in VIDEOS:
        out = folder / Path(name).stem
        out.mkdir(parents=True, exist_ok=True)
        for index, frame in video_frames(MEDIA / "video" / name):
            if frame.shape[1] > width:
                height = round(frame.shape[0] * width / frame.shape[1])
                frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(out / f"{index:05d}.png"), frame)
        folders.append(out)
    return folders


def _cell(value: float | None) -> str:
    return f"{value:>10.1f}" if value is not None else f"{'-':>10}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_compare", description=__doc__)
    parser.add_argument("--old", type=Path, required=True, help="checkout to compare with")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each (median)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--frames", type=int, default=400, help="frames a run (files end first)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument(
        "--source",
        type=Path,
        action="append",
        help="a video or image folder (repeatable; default: the three sample videos). A folder "
        "of frames decoded beforehand measures the step with no decoder running beside it",
    )
    parser.add_argument(
        "--predecode",
        type=Path,
        metavar="DIR",
        help="first decode the sample videos into DIR/<video>/ as PNG frames and compare on those",
    )
    args = parser.parse_args(argv)
    sources = args.source or [MEDIA / "video" / name for name in VIDEOS]
    if args.predecode is not None:
        sources = predecode(args.predecode)
    if not (args.old / "edge").is_dir():
        print(f"bench_compare: {args.old} is not a smilebooth checkout", file=sys.stderr)
        return 2
    rows = compare(args.old.resolve(), args.rounds, args.threads, args.frames, sources)
    if args.json is not None:
        with args.json.open("w", encoding="utf-8") as out:
            json.dump(rows, out, indent=2)
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
