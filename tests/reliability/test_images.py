"""Items 4, 8, 12: image files that used to crash, balloon or go unnamed in `score`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from edge.config.output import ImageConfig
from edge.io.image_io import decode_image, image_size
from tests.paths import FACE_MODEL, ROOT, SMILE_MODEL, require
from tests.reliability.helpers import assert_no_traceback, jpeg, jpeg_claiming, smilebooth

SAMPLE = ROOT / "samples" / "astronaut.jpg"


def test_header_sizes_are_read_without_decoding() -> None:
    assert image_size(jpeg(123, 45)) == ("jpeg", 123, 45)
    assert image_size(jpeg_claiming(20000, 20000)) == ("jpeg", 20000, 20000)
    import cv2
    import numpy as np

    png = cv2.imencode(".png", np.zeros((7, 9, 3), np.uint8))[1].tobytes()
    assert image_size(png) == ("png", 9, 7)
    assert image_size(b"not an image") is None


def test_huge_jpeg_is_decoded_reduced_and_huge_png_refused() -> None:
    result = decode_image(jpeg_claiming(20000, 20000))
    assert result.image is not None and result.reduced == 8
    assert result.image.shape[:2] == (2500, 2500)
    png = bytearray(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + (30000).to_bytes(4, "big") * 2 + b"\x08\x02"
    )
    refused = decode_image(bytes(png), ImageConfig(max_pixels=1_000_000))
    assert refused.image is None and "max_pixels" in (refused.problem or "")


def test_non_utf8_name_is_scored_not_a_segfault(tmp_path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    name = os.fsencode(tmp_path) + b"/caf\xe9-\xff.jpg"
    with open(name, "wb") as handle:
        handle.write(SAMPLE.read_bytes())
    result = smilebooth("score", os.fsdecode(name))
    assert_no_traceback(result)  # the old code: rc -11 (SIGSEGV in cv2.imread)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert os.fsencode(line["image"]) == name and line["faces"]


def test_20000px_jpeg_stays_small_in_memory(tmp_path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(jpeg_claiming(20000, 20000))
    code = (
        "import sys, runpy; sys.argv=['edge', 'score', sys.argv[1]];"
        "\ntry: runpy.run_module('edge', run_name='__main__')"
        "\nexcept SystemExit as e: code = e.code"
        # VmHWM, not ru_maxrss: a forked child inherits the parent's ru_maxrss across exec
        # (a pytest process that imported TensorFlow is already ~700 MB).
        "\nhwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]"
        "\nprint('PEAK', hwm.split()[1], file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(bomb)], cwd=ROOT, capture_output=True, timeout=120
    )
    assert_no_traceback(result)
    peak_kb = int(result.stderr.decode().rsplit("PEAK", 1)[1].split()[0])
    assert peak_kb < 600_000, f"peak RSS {peak_kb} kB"  # the old code: ~1.2 GB for this one
    assert b"bomb.jpg: decoded at 1/8 size" in result.stderr


def test_truncated_jpeg_is_named_as_a_warning(tmp_path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    data = SAMPLE.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 9 // 10])
    result = smilebooth("score", str(cut))
    assert_no_traceback(result)
    assert b"cut.jpg: warning: truncated JPEG" in result.stderr, result.stderr


def test_run_replays_a_folder_with_a_non_utf8_name(tmp_path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    frames = os.fsencode(tmp_path) + b"/frames"
    os.mkdir(frames)
    with open(frames + b"/\xff\xfe.jpg", "wb") as handle:
        handle.write(SAMPLE.read_bytes())
    with open(frames + b"/cut.jpg", "wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0 not much of a photo")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"source: {{type: images, folder: {tmp_path / 'frames'}, repeat: 2}}\n"
        f"capture: {{folder: {tmp_path / 'photos'}}}\n"
    )
    result = smilebooth("run", "--config", str(config))
    assert_no_traceback(result)  # the old code: rc -11
    assert result.returncode == 0, result.stderr
    assert b"frames=2" in result.stderr and b"cut.jpg" in result.stderr


def test_final_status_line_counts_the_capture_saved_at_the_end(tmp_path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "a.jpg").write_bytes(SAMPLE.read_bytes())
    config = tmp_path / "config.yaml"
    config.write_text(
        f"source: {{type: images, folder: {frames}, repeat: 6}}\n"
        f"capture: {{folder: {tmp_path / 'photos'}}}\n"
        "trigger: {threshold: 0.1, rearm_threshold: 0.1, hold_s: 0.0, burst_s: 60.0}\n"
    )
    result = smilebooth("run", "--config", str(config))
    assert_no_traceback(result)
    stderr = result.stderr.decode()
    assert "captures=1, " in stderr, stderr  # the counters: the burst saved by finish()
    final = [line for line in stderr.splitlines() if " status " in line][-1]
    assert "captures=1 " in final, final  # the old line said captures=0
