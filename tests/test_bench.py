"""`smilebooth bench`: the figures it reports, on real video. Nothing here asserts speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edge import exit_codes
from edge.cli.bench import format_table
from edge.cli.bench_run import STAGES, decode_only, run_bench
from edge.config import AppConfig
from edge.config.decide import TriggerConfig
from edge.config.source import SourceConfig
from edge.io.sources.opencv_source import OpenCVSource
from tests._loop_helpers import (
    STAGE,
    ScriptedProcessor,
    require_models,
    smiling_between,
    video,
)
from tests.paths import ROOT, require


def source(width: int = 320) -> OpenCVSource:
    return OpenCVSource(SourceConfig(device=str(video(STAGE)), width=width))


def test_report_has_every_stage_and_writes_nothing_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    processor = ScriptedProcessor(smiling_between(0, 300))  # would fire if it were armed
    report = run_bench(AppConfig(), source(), processor, frames=40, warmup=3)
    assert report["frames"] == 40 and processor.calls == 43
    assert set(report["stages_ms"]) == set(STAGES)
    for stage in ("read", "detect", "smile_per_face", "eyes_per_face", "score"):
        figures = report["stages_ms"][stage]
        assert figures["n"] == 40 and 0 <= figures["p50"] <= figures["p95"]
    assert report["stages_ms"]["smile_per_face"]["p50"] == pytest.approx(0.25)  # 0.5 ms / 2
    assert report["stages_ms"]["capture"] == {
        "p50": None,
        "p95": None,
        "mean": None,
        "max": None,
        "n": 0,
    }
    assert report["faces_per_frame"] == 2.0
    assert report["processing_fps"] >= report["fps"] > 0
    assert report["peak_rss_mb"] > 10
    assert list(tmp_path.iterdir()) == []
    json.dumps(report)  # one JSON object
    table = format_table(report)
    assert "smile_per_face" in table and "peak_rss_mb" in table


def test_capture_is_timed_when_asked(tmp_path: Path) -> None:
    config = AppConfig(trigger=TriggerConfig(hold_s=0.2, min_faces=2, cooldown_s=1.0))
    processor = ScriptedProcessor(lambda n: smiling_between(0, 30)(n % 60))
    report = run_bench(config, source(), processor, frames=120, capture=tmp_path)
    photos = list(tmp_path.glob("*.jpg"))
    assert len(photos) >= 2
    assert report["stages_ms"]["capture"]["n"] == len(photos)


def test_a_short_source_ends_the_bench_early() -> None:
    report = run_bench(AppConfig(), source(), ScriptedProcessor(smiling_between(0, 0)), 1000)
    assert report["frames"] == 275


def test_the_decode_only_pass_reads_the_source_alone_and_closes_it() -> None:
    figures = decode_only(source(), 40)
    assert figures["decode_only_frames"] == 40 and figures["decode_only_fps"] > 0
    assert decode_only(source(), 1000)["decode_only_frames"] == 275  # a file ends first
    assert not [t for t in threading.enumerate() if t.name.startswith("reader-")]
    table = format_table(
        {**run_bench(AppConfig(), source(), ScriptedProcessor(smiling_between(0, 0)), 5), **figures}
    )
    assert "decode_only_fps" in table


def test_bench_command_with_the_shipped_models(tmp_path: Path) -> None:
    require_models()
    command = [sys.executable, "-m", "edge", "bench", "--source", str(video(STAGE))]
    command += ["--width", "640", "--threads", "1", "--frames", "20", "--json"]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["frames"] == 20 and report["stages_ms"]["detect"]["n"] == 20
    assert report["decode_only_frames"] == 25 and report["decode_only_fps"] > 0  # read alone
    assert 0 < report["cold_start_s"] < 120  # process start to the first score
    assert 30 < report["peak_rss_mb"] < 1000  # this process's VmHWM
    assert "p95" in result.stderr  # the table
    assert list(tmp_path.iterdir()) == []
    mesh = report["mesh"]  # the default eyes.reader, cnn+mesh: how often the mesh ran
    assert 0 <= mesh["share_of_faces"] <= 1
    assert mesh["reads_per_frame"] == pytest.approx(
        mesh["share_of_faces"] * report["faces_per_frame"], abs=0.02
    )
    assert mesh["ms_per_read"] is None or mesh["ms_per_read"] > 0
    assert "face mesh:" in result.stderr


def test_opencv_threads_follow_the_models_threads() -> None:
    import cv2

    from edge.config.decide import ScoringConfig
    from edge.config.perception import DetectorConfig, EyesConfig, SmileConfig
    from edge.perception.pipeline import build_pipeline_from_sections

    require_models()
    before = cv2.getNumThreads()
    try:
        for threads in (1, 2):
            build_pipeline_from_sections(
                DetectorConfig(threads=threads),
                SmileConfig(threads=threads),
                EyesConfig(threads=threads),
                ScoringConfig(),
            )
            assert cv2.getNumThreads() == threads
    finally:
        cv2.setNumThreads(before)


def test_the_faces_sweep_frames_hold_the_faces_it_names() -> None:
    from edge.cli.bench_faces import SWEEP_FACES, SWEEP_PHOTOS, faces_sweep, format_sweep
    from edge.perception.pipeline import build_pipeline

    require_models()
    config = AppConfig()
    rows = faces_sweep(config, build_pipeline(config, live=True), require(SWEEP_PHOTOS), 12, 2)
    assert [row["faces"] for row in rows] == list(SWEEP_FACES)
    for row in rows:  # the live loop finds every pasted face, and nothing on the grey
        assert row["found"] == row["faces"], row
        assert row["ms_per_frame"] > 0 and row["ms_held_still"] > 0
    assert rows[0]["smile_ms_per_face"] is None and rows[-1]["smile_ms_per_face"] > 0
    # An empty scene held still gets no pass between searches; moving, a pass every frame.
    assert rows[0]["ms_held_still"] < rows[0]["ms_per_frame"] / 2
    assert "ms_per_frame" in format_sweep(rows)


def test_the_faces_sweep_names_a_folder_without_enough_faces(tmp_path: Path) -> None:
    from edge.cli.bench_faces import faces_sweep
    from edge.perception.pipeline import build_pipeline

    require_models()
    config = AppConfig()
    with pytest.raises(ValueError, match=f"{tmp_path}: 0 faces"):
        faces_sweep(config, build_pipeline(config, live=True), tmp_path, 5, 0)


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge", "bench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_folder_of_one_photo_is_replayed_until_the_frames_asked_are_measured(
    tmp_path: Path,
) -> None:
    """The README's Pi check: one sample photo, 100 frames; it used to be used up by the
    warm-up, leaving an empty table and exit 0."""
    require_models()
    result = bench("--source", str(ROOT / "samples"), "--frames", "30", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["frames"] == 30 and report["stages_ms"]["detect"]["n"] == 30
    assert report["faces_per_frame"] == 1.0 and report["fps"] > 0


def test_a_source_used_up_by_the_warm_up_is_an_error_not_an_empty_table(tmp_path: Path) -> None:
    require_models()
    photo = ROOT / "samples" / "astronaut.jpg"  # a file: OpenCV reads it as a 1-frame video
    result = bench("--source", str(photo), "--frames", "10", cwd=tmp_path)
    assert result.returncode == exit_codes.SOURCE
    assert "no frames to measure" in result.stderr and "--warmup 5" in result.stderr
    assert "p50" not in result.stdout + result.stderr
