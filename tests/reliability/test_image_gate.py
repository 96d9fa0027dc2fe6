"""Issue 30, items 1, 2, 6: one gate before every decoder, for every format OpenCV opens.

Bombs of each format (a real file whose header claims 16383x16383 or more) are refused
from their header, before a pixel is decoded; a decoder error is a per-file reason; files
over the size cap, FIFOs and /dev/zero are refused without being read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge.config.output import ImageConfig
from edge.io.image_header import read_header
from edge.io.image_io import IMAGE_SUFFIXES, decode_image, read_image
from tests.paths import FACE_MODEL, ROOT, SMILE_MODEL, require
from tests.reliability.bombs import FORMATS, claiming, encode, picture
from tests.reliability.helpers import assert_no_traceback, smilebooth

SAMPLE = ROOT / "samples" / "astronaut.jpg"


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_format_is_read_through_its_header(suffix: str) -> None:
    data = encode(suffix, picture(64, 48))
    header = read_header(data)
    assert header is not None and (header.width, header.height) == (64, 48), suffix
    result = decode_image(data)
    assert result.image is not None and result.image.shape == (48, 64, 3), result.problem
    assert suffix in IMAGE_SUFFIXES


@pytest.mark.parametrize("suffix", [s for s in FORMATS if s != ".jpg"])
def test_a_bomb_of_every_format_is_refused_from_its_header(suffix: str) -> None:
    # the old code checked JPEG/PNG/BMP only: a WebP/TIFF/PNM/... bomb went to the decoder
    result = decode_image(claiming(suffix, 16383, 16383))
    assert result.image is None
    assert "16383x16383" in (result.problem or "") and "max_pixels" in (result.problem or "")


def test_a_tiff_whose_tiles_are_bombs_is_refused() -> None:
    from tests.reliability.bombs import tiff_tiled

    result = decode_image(tiff_tiled(100, 100, 16000))  # old code: 1 GB, then "corrupt"
    assert result.problem == (
        "tiles of 16000x16000 in a 100x100 tiff are over the images.max_pixels limit "
        "(24,000,000 pixels)"
    )


def test_a_jpeg_bomb_is_decoded_reduced() -> None:
    result = decode_image(claiming(".jpg", 16383, 16383))
    assert result.reduced == 4 and result.image is not None  # 4096x4096: within 24 M


def test_high_depth_formats_count_their_bytes() -> None:
    # 4000x4000 float PFM: 16 M pixels, but 192 MB in the decoder: refused at 24 M pixels
    result = decode_image(claiming(".pfm", 4000, 4000), ImageConfig(max_pixels=24_000_000))
    assert result.image is None and "counted 4x for its bytes" in (result.problem or "")


def test_channel_bombs_are_counted() -> None:
    from tests.reliability.bombs import j2k_components

    result = decode_image(j2k_components(1024))  # old code: 1.5 GB, then "corrupt"
    assert result.image is None
    assert "2000x2000 jpeg2000 is over" in (result.problem or "")
    assert "counted 1024x" in (result.problem or "")


def test_decoder_errors_are_reasons_not_exceptions() -> None:
    # the 1 kB PPM of 100000x100000 under a limit that lets it through to OpenCV
    huge = b"P6\n100000 100000\n255\n" + os.urandom(1000)
    assert "max_pixels" in (decode_image(huge).problem or "")
    lying = b"P6\n3000 3000\n255\n" + os.urandom(1000)  # within the limit, data missing
    result = decode_image(lying)
    assert result.image is None and result.problem and "None" not in result.problem


def test_tiny_images_say_why() -> None:
    result = decode_image(encode(".png", picture(4, 4)))
    assert result.image is None
    assert result.problem == "4x4: too small to score (at least 8x8 pixels)"


def test_unknown_formats_are_never_decoded() -> None:
    assert decode_image(b"\x76\x2f\x31\x01" + bytes(100)).problem == (
        "OpenEXR is not read (its decoder is off in OpenCV)"
    )
    assert decode_image(b"hello").problem == "not a readable image (unknown format)"


def test_file_size_is_capped_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    with big.open("wb") as handle:
        handle.truncate(60 * 1024 * 1024)  # sparse: 60 MB claimed, nothing on disk
    result = read_image(big, ImageConfig(max_file_mb=50))
    assert result.image is None and "over the images.max_file_mb limit" in (result.problem or "")


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert read_image(fifo).problem == "not a regular file"
    assert read_image(Path("/dev/zero")).problem == "not a regular file"
    assert read_image(tmp_path).problem == "not a regular file"
    assert read_image(tmp_path / "missing.jpg").problem == "no such file"
    assert time.monotonic() - started < 2


def test_score_skips_a_huge_ppm_and_scores_the_next_file(tmp_path: Path) -> None:
    """The issue's reproduction: the old code exited 1 with a cv2.error traceback and never
    scored astronaut.jpg."""
    require(SMILE_MODEL), require(FACE_MODEL)
    huge = tmp_path / "huge.ppm"
    huge.write_bytes(b"P6\n100000 100000\n255\n" + os.urandom(1000))
    pgm = tmp_path / "big.pgm"
    pgm.write_bytes(b"P5\n30000 30000\n255\n" + os.urandom(1000))
    result = smilebooth("score", str(huge), str(pgm), str(SAMPLE))
    assert_no_traceback(result)
    assert result.returncode == 1  # some skipped
    assert b"astronaut.jpg" in result.stdout
    stderr = result.stderr.decode()
    assert "huge.ppm: skipped: 100000x100000 pnm is over the images.max_pixels" in stderr
    assert "big.pgm: skipped: 30000x30000 pnm is over" in stderr


def test_score_on_a_folder_of_bombs_stays_small(tmp_path: Path) -> None:
    """Every format's bomb in one folder, scored in one process: peak RSS stays small (the
    old code: 1.6 GB for a WebP, 5.2 GB for a TIFF)."""
    require(SMILE_MODEL), require(FACE_MODEL)
    for suffix in FORMATS:
        (tmp_path / f"bomb{suffix}").write_bytes(claiming(suffix, 16383, 16383))
    code = (
        "import sys, runpy; sys.argv=['edge', 'score', sys.argv[1]];"
        "\ntry: runpy.run_module('edge', run_name='__main__')"
        "\nexcept SystemExit as e: pass"
        "\nhwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]"
        "\nprint('PEAK', hwm.split()[1], file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, timeout=120
    )
    assert_no_traceback(result)
    peak_kb = int(result.stderr.decode().rsplit("PEAK", 1)[1].split()[0])
    assert peak_kb < 400_000, f"peak RSS {peak_kb} kB"
    assert result.stderr.count(b"over the images.max_pixels") == len(FORMATS) - 1


def test_image_folder_source_skips_bombs_with_their_reason(tmp_path: Path, caplog) -> None:
    from edge.config.source import SourceConfig
    from edge.io.sources.images_source import ImageFolderSource

    (tmp_path / "a.ppm").write_bytes(b"P6\n100000 100000\n255\n" + bytes(1000))
    (tmp_path / "b.png").write_bytes(encode(".png", picture(4, 4)))
    (tmp_path / "c.webp").write_bytes(claiming(".webp", 16383, 16383))
    (tmp_path / "d.png").write_bytes(encode(".png", picture(64, 48)))
    source = ImageFolderSource(SourceConfig(type="images", folder=str(tmp_path), fps=0))
    source.open()
    frame = source.read()
    assert frame is not None and np.asarray(frame.image).shape[1] > 0
    assert source.bad_frames == 3
    assert "None" not in caplog.text and "too small to score" in caplog.text


def test_an_image_folder_is_read_under_the_configs_limits(tmp_path: Path) -> None:
    from edge.config import AppConfig
    from edge.config.source import SourceConfig
    from edge.io.sources import make_source

    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "a.png").write_bytes(encode(".png", picture(200, 100)))  # 20,000 pixels
    config = AppConfig(
        source=SourceConfig(type="images", folder=str(frames)),
        images=ImageConfig(max_pixels=10_000),
    )
    source = make_source(config.source, config.images)
    source.open()
    assert source.read() is None and source.bad_frames == 1  # refused: over 10,000


def test_run_replays_a_folder_of_bombs_and_scores_the_good_frame(tmp_path: Path) -> None:
    """The issue: `run` on a folder of bombs reached 4.66 GB, and one huge PPM stopped it
    with exit 1. Here the bombs are skipped with their reasons and the photo is scored."""
    require(SMILE_MODEL), require(FACE_MODEL)
    frames = tmp_path / "frames"
    frames.mkdir()
    for suffix in FORMATS:
        (frames / f"bomb{suffix}").write_bytes(claiming(suffix, 16383, 16383))
    (frames / "huge.ppm").write_bytes(b"P6\n100000 100000\n255\n" + os.urandom(1000))
    (frames / "zz-astronaut.jpg").write_bytes(SAMPLE.read_bytes())
    config = tmp_path / "config.yaml"
    config.write_text(
        f"source: {{type: images, folder: {frames}}}\ncapture: {{folder: {tmp_path / 'p'}}}\n"
    )
    code = (
        "import sys, runpy; sys.argv=['edge', 'run', '--config', sys.argv[1]];"
        "\ntry: runpy.run_module('edge', run_name='__main__')"
        "\nexcept SystemExit as e: print('EXIT', e.code, file=sys.stderr)"
        "\nhwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]"
        "\nprint('PEAK', hwm.split()[1], file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(config)], cwd=ROOT, capture_output=True, timeout=120
    )
    assert_no_traceback(result)
    stderr = result.stderr.decode()
    # the JPEG bomb is decoded at 1/4 size and scored too: two frames
    assert "EXIT 0" in stderr and "frames=2" in stderr, stderr[-2000:]
    assert "huge.ppm: 100000x100000 pnm is over the images.max_pixels limit" in stderr
    peak_kb = int(stderr.rsplit("PEAK", 1)[1].split()[0])
    assert peak_kb < 400_000, f"peak RSS {peak_kb} kB"


def test_file_names_control_characters_are_not_echoed(tmp_path: Path) -> None:
    require(SMILE_MODEL), require(FACE_MODEL)
    (tmp_path / "a\x1b[2J\rb.png").write_bytes(encode(".png", picture(4, 4)))
    result = smilebooth("score", str(tmp_path))
    assert_no_traceback(result)
    assert b"\x1b" not in result.stderr and b"\r" not in result.stderr
    assert b"a\\x1b[2J\\rb.png: skipped: 4x4: too small to score" in result.stderr
