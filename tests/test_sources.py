"""Every frame source on real media: video files, image folders, a camera replayed from a
file, and the picamera2 source on its fake (the only fake: picamera2 needs a Pi)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.config.source import SourceConfig
from edge.io.sources import SOURCES, make_source
from edge.io.sources.base import (
    Frame,
    PhotoError,
    SourceError,
    SourceLostError,
    resize_to_width,
)
from edge.io.sources.fake_picamera2 import FakePicamera2
from edge.io.sources.images_source import ImageFolderSource
from edge.io.sources.opencv_source import OpenCVSource, describe
from edge.io.sources.picamera2_source import Picamera2Source
from edge.io.sources.read_ahead import DecodeBuffer, Decoded, ReadAhead
from edge.io.video import video_frames
from tests._loop_helpers import CROWD, STAGE, video, write_frames


def read_all(source) -> list[Frame]:
    frames = []
    source.open()
    try:
        while (frame := source.read()) is not None:
            frames.append(frame)
    finally:
        source.close()
    return frames


def readers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("reader-")]


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Until `condition` holds (another thread's progress); fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the reader never got there"
        time.sleep(0.001)


def test_the_factory_is_an_explicit_table() -> None:
    assert set(SOURCES) == {"opencv", "images", "picamera2"}
    assert isinstance(make_source(SourceConfig(type="opencv", device="x.mp4")), OpenCVSource)


def test_device_strings() -> None:
    assert describe("0") == (0, cv2.CAP_ANY, True)
    assert describe("/dev/video2") == ("/dev/video2", cv2.CAP_V4L2, True)
    assert describe("rtsp://cam.local/stream")[1:] == (cv2.CAP_FFMPEG, True)
    jetson = "nvarguscamerasrc ! video/x-raw(memory:NVMM),width=1920 ! nvvidconv ! appsink"
    assert describe(jetson) == (jetson, cv2.CAP_GSTREAMER, True)
    assert describe("clip.mp4") == ("clip.mp4", cv2.CAP_ANY, False)


def test_video_file_every_frame_in_order_then_the_end() -> None:
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320))
    frames = read_all(source)
    assert len(frames) == 275
    assert [f.index for f in frames] == list(range(275))
    assert frames[0].image.shape == (180, 320, 3)  # the models' frame
    assert frames[0].capture_size == (640, 360)  # full resolution kept for capture
    assert frames[0].scale == (2.0, 2.0)
    stamps = [f.timestamp for f in frames]
    assert stamps == sorted(stamps)
    assert stamps[30] == pytest.approx(30 / 29.97, abs=0.01)  # the video's own clock
    assert source.dropped_frames == source.bad_frames == 0
    assert not readers()  # the read-ahead thread ended
    with pytest.raises(SourceLostError, match="not open"):
        source.read()


def test_a_file_read_ahead_is_every_decoded_frame_in_order_and_kept_photos_are_them() -> None:
    """Read ahead on its thread, each frame is what a plain decode gives, in order: the
    models' image is its 3x area downscale and a kept frame's photo is the frame itself."""
    source = OpenCVSource(SourceConfig(device=str(video(CROWD)), width=640))
    source.open()
    try:
        for index, decoded in video_frames(video(CROWD)):
            frame = source.read()
            assert frame is not None and frame.index == index
            exact = cv2.resize(decoded, (640, 360), interpolation=cv2.INTER_AREA)
            assert np.array_equal(frame.image, exact)  # the 3x box filter is area averaging
            assert np.array_equal(frame.keep().capture_image, decoded)
        assert index == 104 and source.read() is None and source.read() is None  # the end
    finally:
        source.close()
    assert not readers()


def test_a_held_frame_s_photo_stays_while_the_reader_decodes_ahead() -> None:
    source = OpenCVSource(SourceConfig(device=str(video(CROWD)), width=640))
    decoded = [image for _, image in itertools.islice(video_frames(video(CROWD)), 3)]
    source.open()
    try:
        first = source.read()
        assert first is not None and first.scale == (3.0, 3.0)
        reader = source._ahead
        assert reader is not None
        wait_until(lambda: reader.ahead)  # frame 1 decoded meanwhile, into the other buffer
        assert np.array_equal(first.capture_image, decoded[0])  # frame 0's photo intact
        kept, held = first.keep(), first.capture_image
        second = source.read()
        assert second is not None and second.capture_image is not held
        with pytest.raises(PhotoError, match="keep"):  # its buffer went back at this read
            first.capture_image  # noqa: B018
        third = source.read()
        assert third is not None
        assert third.capture_image is held  # a fixed pool of two buffers, in turn
        assert np.array_equal(third.capture_image, decoded[2])
    finally:
        source.close()
    assert np.array_equal(kept.capture_image, decoded[0])  # the kept copy is frame 0


def test_closing_a_file_while_its_reader_is_in_a_decode() -> None:
    source = OpenCVSource(SourceConfig(device=str(video(CROWD)), width=640))
    decode, calls, inside, finished = source._decode, itertools.count(), threading.Event(), []

    def decode_held_until_close(buffer: DecodeBuffer) -> Decoded | None:
        if next(calls) == 2:  # frame 2: decoded once the loop took frame 1
            inside.set()
            wait_until(lambda: source._ahead is not None and source._ahead.stopping)
            finished.append(decode(buffer))  # the decode completes under close()
            return finished[-1]
        return decode(buffer)

    source._decode = decode_held_until_close  # type: ignore[method-assign]
    source.open()
    assert source.read() is not None and source.read() is not None
    assert inside.wait(10)
    source.close()
    assert len(finished) == 1 and finished[0] is not None and finished[0].image is not None
    assert not readers()
    with pytest.raises(SourceLostError, match="not open"):
        source.read()
    source.close()  # twice is harmless


def test_the_reader_hands_over_frames_in_turn_then_the_error() -> None:
    """A real decode that fails at its 12th call as a disk would: the frames decoded
    before it come out in order, alternating between the two buffers, then the error."""
    capture = cv2.VideoCapture(str(video(STAGE)))
    calls = itertools.count()

    def decode(buffer: DecodeBuffer) -> Decoded | None:
        n = next(calls)
        if n == 11:
            raise OSError("input/output error")
        ok, buffer.array = capture.read(buffer.array)
        assert ok
        return Decoded(buffer.array, n / 29.97, buffer)

    reader = ReadAhead(decode, "stage")
    taken = []
    try:
        with pytest.raises(OSError, match="input/output"):
            while (frame := reader.take()) is not None:
                assert frame.image is not None
                taken.append((frame.buffer, frame.buffer.returns, frame.image.copy()))
        with pytest.raises(OSError, match="input/output"):  # and again: the input has ended
            reader.take()
    finally:
        assert reader.stop()
        capture.release()
    assert len(taken) == 11 and not readers()
    first, second = taken[0][0], taken[1][0]
    assert first is not second
    assert [b for b, _, _ in taken] == [first, second] * 5 + [first]  # in turn
    assert [r for _, r, _ in taken] == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # handed back each
    frames = [image for _, image in itertools.islice(video_frames(video(STAGE)), 11)]
    assert all(np.array_equal(t[2], f) for t, f in zip(taken, frames, strict=True))


def test_a_kept_file_frame_is_its_own_copy_and_small_files_own_their_arrays() -> None:
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=640))
    frames = read_all(source)  # 640 wide: the models see the decoded array itself
    assert len(frames) == 275 and all(f.photo is None and f.full is None for f in frames)
    assert len({id(f.image) for f in frames}) == 275
    first = next(video_frames(video(STAGE)))[1]
    assert np.array_equal(frames[0].capture_image, first)


def test_a_file_that_is_no_video_cannot_open(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(SourceError, match="cannot open"):
        OpenCVSource(SourceConfig(device=str(tmp_path / "notes.mp4"))).open()
    assert not readers()


def test_the_box_downscale_is_area_averaging_for_odd_factors_colour_and_grey() -> None:
    _, frame = next(video_frames(video(CROWD)))
    for image in (frame, cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)):
        for width in (640, 384, 128):  # 3x (9 whole strips), 5x (216 rows), 15x
            height = 1080 * width // 1920
            area = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            assert np.array_equal(resize_to_width(image, width), area), (image.ndim, width)


def test_width_zero_or_larger_keeps_the_frame() -> None:
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=0))
    source.open()
    frame = source.read()
    source.close()
    assert frame is not None and frame.full is None and frame.image.shape == (360, 640, 3)


def test_missing_file_or_device_cannot_open(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        OpenCVSource(SourceConfig(device=str(tmp_path / "gone.mp4"))).open()
    with pytest.raises(SourceError):
        OpenCVSource(SourceConfig(device=str(tmp_path / "empty.mp4")), live=False).open()


def test_a_live_camera_keeps_only_the_newest_frame_and_counts_drops() -> None:
    """A file replayed as a camera: the reader runs ahead of a slow loop."""
    source = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320), live=True)
    source.open()
    seen = []
    try:
        with pytest.raises(SourceLostError):  # the "camera" stops at the end of the file
            while True:
                frame = source.read()
                assert frame is not None
                seen.append(frame.index)
                time.sleep(0.02)  # a loop slower than the decoder
    finally:
        source.close()
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert source.dropped_frames > 0
    assert len(seen) + source.dropped_frames == 275  # every frame was either seen or dropped
    assert not any(t.name.startswith("reader-") for t in threading.enumerate())


def test_image_folder_with_a_corrupt_file(tmp_path: Path) -> None:
    write_frames(STAGE, tmp_path, 6, step=40)
    (tmp_path / "frame_0002.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "notes.txt").write_text("ignored")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    source = ImageFolderSource(
        SourceConfig(type="images", folder=str(tmp_path), fps=5.0, width=320), sleep=sleep
    )
    frames = read_all(source)
    assert [f.index for f in frames] == [0, 1, 3, 4, 5]
    assert source.bad_frames == 1
    assert [f.timestamp for f in frames] == pytest.approx([0.0, 0.2, 0.6, 0.8, 1.0])
    assert frames[0].image.shape == (180, 320, 3) and frames[0].capture_image.shape[1] == 640
    assert len(waits) >= 3 and all(0 < w <= 0.21 for w in waits)  # paced at 5 fps


def test_image_folder_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        ImageFolderSource(SourceConfig(type="images", folder=str(tmp_path / "no"))).open()
    with pytest.raises(SourceError, match="no images"):
        ImageFolderSource(SourceConfig(type="images", folder=str(tmp_path))).open()


def picamera(
    path: Path, mapper_factory: Callable[[], object] | None = None, **kwargs
) -> tuple[Picamera2Source, list[FakePicamera2]]:
    cameras: list[FakePicamera2] = []

    def factory() -> FakePicamera2:
        cameras.append(FakePicamera2(path, **kwargs))
        return cameras[-1]

    config = SourceConfig(type="picamera2", main_size=(1920, 1080), lores_size=(320, 180))
    extra = {} if mapper_factory is None else {"mapper_factory": mapper_factory}
    return Picamera2Source(config, camera_factory=factory, **extra), cameras


def test_picamera2_lores_for_inference_main_of_the_same_request_for_capture() -> None:
    source, cameras = picamera(video(CROWD))
    source.open()
    try:
        frames = []
        for _ in range(5):
            frame = source.read()
            assert frame is not None
            frames.append(frame.keep())  # what the loop does with a burst candidate
    finally:
        source.close()
    camera = cameras[0]
    assert camera.closed and not camera.started
    assert not camera.held and 1 <= camera.max_held <= 3  # every buffer given back
    assert camera.arrays_made["main"] == 5  # one copy per kept frame, none for dropped ones
    for frame in frames:
        assert frame.image.shape == (180, 320, 3)  # lores YUV420 -> BGR
        assert frame.capture_image.shape == (1080, 1920, 3)
        assert frame.scale == (6.0, 6.0)  # boxes go lores -> main by this
        # Same request: the lores image is the main image, smaller (up to YUV rounding).
        small_main = cv2.resize(frame.capture_image, (320, 180), interpolation=cv2.INTER_AREA)
        difference = np.abs(small_main.astype(int) - frame.image.astype(int)).mean()
        assert difference < 4  # colours right too: swapping U and V gives ~16


def test_picamera2_failure_is_a_lost_camera_and_startup_failure_an_error(tmp_path: Path) -> None:
    source, _ = picamera(video(STAGE), fail_after=3)
    source.open()
    frames = []
    try:
        # A live source keeps only the newest frame: the loop may see 1 to 3 of the 3 served
        # before the failure, never more, and then the loss.
        with pytest.raises(SourceLostError, match="timed out"):
            while True:
                frames.append(source.read())
    finally:
        source.close()
    assert 1 <= len(frames) <= 3
    assert all(frame is not None for frame in frames)
    missing, _ = picamera(tmp_path / "no-camera.mp4")
    with pytest.raises(SourceError, match="cannot start"):
        missing.open()


def test_the_source_option_picks_the_source(tmp_path: Path) -> None:
    from edge.config import AppConfig, apply_overrides
    from edge.config.command import source_flag

    base = AppConfig(source=SourceConfig(type="picamera2", width=480))
    chosen = apply_overrides(base, source_flag(str(tmp_path))).source
    assert chosen == SourceConfig(type="images", folder=str(tmp_path), width=480)
    for value in ("0", "clip.mp4", "rtsp://cam/1", "v4l2src ! appsink"):
        chosen = apply_overrides(base, source_flag(value)).source
        assert (chosen.type, chosen.device, chosen.width) == ("opencv", value, 480)


def file_fourcc_and_fps(path: Path) -> tuple[str, float]:
    """What OpenCV reads of the file itself, for the read-back expectations."""
    probe = cv2.VideoCapture(str(path))
    fourcc = "".join(chr((int(probe.get(cv2.CAP_PROP_FOURCC)) >> 8 * i) & 0xFF) for i in range(4))
    fps = probe.get(cv2.CAP_PROP_FPS)
    probe.release()
    return fourcc, fps


def test_a_camera_is_asked_fourcc_size_fps_and_read_back(caplog) -> None:
    """A video file opened as a camera (no V4L2 here): OpenCV's real set/get path. A file
    ignores every request, so the read-back is the file's own values and each is warned."""
    path = video(STAGE)
    own_fourcc, own_fps = file_fourcc_and_fps(path)
    config = SourceConfig(device=str(path), capture_size=(1920, 1080), capture_fps=60)
    with caplog.at_level("WARNING"):
        source = OpenCVSource(config, live=True)
        source.open()
        frame = source.read()
        source.close()
    assert source.settings == {"fourcc": own_fourcc, "size": (640, 360), "fps": round(own_fps, 2)}
    assert frame is not None and frame.capture_image.shape[:2] == (360, 640)
    [warning] = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert f"fourcc MJPG (got {own_fourcc})" in warning
    assert "capture_size 1920x1080 (got 640x360)" in warning
    assert f"capture_fps 60 (got {own_fps:g})" in warning


def test_a_camera_that_gives_what_was_asked_is_not_warned_about(caplog) -> None:
    path = video(STAGE)
    own_fourcc, own_fps = file_fourcc_and_fps(path)
    config = SourceConfig(
        device=str(path), capture_size=(640, 360), capture_fps=own_fps, fourcc=own_fourcc
    )
    with caplog.at_level("WARNING"):
        source = OpenCVSource(config, live=True)
        source.open()
        source.close()
    assert source.settings["size"] == (640, 360)
    assert not [r for r in caplog.records if "ignored" in r.getMessage()]


def test_a_video_file_is_not_asked_for_camera_settings() -> None:
    source = OpenCVSource(SourceConfig(device=str(video(STAGE))))
    source.open()
    source.close()
    assert source.settings == {}


def test_camera_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="fourcc must be 4 characters"):
        SourceConfig(fourcc="MJPEG").validate()
    with pytest.raises(ValueError, match="capture_size"):
        SourceConfig(capture_size=(1920, 0)).validate()
    SourceConfig(fourcc="", capture_size=(0, 0), capture_fps=0).validate()


def test_picamera2_photo_controls_replace_the_video_defaults_and_transform_flips() -> None:
    from edge.io.sources.fake_picamera2 import VIDEO_CONTROLS, FakeTransform

    cameras: list[FakePicamera2] = []

    def factory() -> FakePicamera2:
        cameras.append(FakePicamera2(video(CROWD)))
        return cameras[-1]

    config = SourceConfig(
        type="picamera2",
        main_size=(640, 360),
        lores_size=(318, 179),  # odd and unaligned: libcamera rounds and pads it
        transform="rotate180",
        controls={"Sharpness": 1.5},
    )
    source = Picamera2Source(config, camera_factory=factory, transform_factory=FakeTransform)
    source.open()
    try:
        frame = source.read()
    finally:
        source.close()
    camera = cameras[0]
    assert VIDEO_CONTROLS["FrameDurationLimits"] == (33333, 33333)  # what would apply
    assert camera.controls_set == {
        "FrameDurationLimits": (33333, 66666),
        "NoiseReductionMode": 2,  # high quality
        "AfMode": 2,  # continuous
        "Sharpness": 1.5,
    }
    assert source.lores_size == (318, 178) and source._lores_stride == 320
    assert frame is not None and frame.image.shape == (178, 318, 3)  # padding cropped
    upright = cv2.VideoCapture(str(video(CROWD)))
    ok, first = upright.read()
    upright.release()
    assert ok
    expected = cv2.resize(cv2.flip(first, -1), (318, 178), interpolation=cv2.INTER_AREA)
    turned = np.abs(expected.astype(int) - frame.image.astype(int)).mean()
    unturned = cv2.resize(first, (318, 178), interpolation=cv2.INTER_AREA)
    assert turned < 6 < np.abs(unturned.astype(int) - frame.image.astype(int)).mean()


def test_picamera2_controls_the_camera_lacks_are_left_out_with_a_warning(caplog) -> None:
    fixed_focus = {"FrameDurationLimits": (1, 2, 3), "NoiseReductionMode": (0, 4, 0)}
    camera = FakePicamera2(video(STAGE), camera_controls=fixed_focus)
    config = SourceConfig(type="picamera2", main_size=(640, 360), lores_size=(320, 180))
    with caplog.at_level("WARNING"):
        source = Picamera2Source(config, camera_factory=lambda: camera)
        source.open()
        source.close()
    assert set(camera.controls_set) == {"FrameDurationLimits", "NoiseReductionMode"}
    assert not caplog.records  # no AfMode on a fixed-focus camera: expected, not warned
    camera = FakePicamera2(video(STAGE), camera_controls=fixed_focus)
    with caplog.at_level("WARNING"):
        source = Picamera2Source(
            SourceConfig(
                type="picamera2",
                main_size=(640, 360),
                lores_size=(320, 180),
                controls={"LensPosition": 2.0},
            ),
            camera_factory=lambda: camera,
        )
        source.open()
        source.close()
    assert "has no AfMode, LensPosition" in caplog.text
    assert "LensPosition" not in camera.controls_set


def test_a_frame_s_detail_is_the_source_s_own_full_size_array_or_none() -> None:
    """Small faces' eyes are read in the full-size frame only where it costs no copy."""
    source = OpenCVSource(SourceConfig(device=str(video(CROWD)), width=640))
    source.open()
    try:
        first = source.read()
        assert first is not None and first.detail is not None
        assert first.detail.scale == (3.0, 3.0)
        assert first.detail.fetch() is first.capture_image  # the decode buffer itself
        detail = first.detail
        assert source.read() is not None
        assert detail.fetch() is None  # its buffer went back at the next read
    finally:
        source.close()
    small = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=640))
    frame = read_all(small)[0]
    assert frame.detail is None  # 640 px already: the models see the whole of it
    camera = OpenCVSource(SourceConfig(device=str(video(STAGE)), width=320), live=True)
    camera.open()
    try:
        live = camera.read()
        assert live is not None and live.detail is not None
        assert live.detail.fetch() is live.full and live.detail.scale == (2.0, 2.0)
    finally:
        camera.close()
    pi, cameras = picamera(video(CROWD))  # picamera2 not importable: no MappedArray
    pi.open()
    try:
        lores = pi.read()
        assert lores is not None and lores.detail is not None
        assert lores.detail.fetch() is None  # main only by a copy
        assert cameras[0].arrays_made["main"] == 0
    finally:
        pi.close()


def test_a_pi_frame_s_detail_is_its_main_stream_mapped_not_copied() -> None:
    from edge.io.sources import fake_picamera2

    source, cameras = picamera(video(CROWD), mapper_factory=lambda: fake_picamera2.MappedArray)
    source.open()
    try:
        first = source.read()
        assert first is not None and first.detail is not None
        camera = cameras[0]
        assert camera.arrays_mapped["main"] == 0  # mapped only when something needs it
        detail = first.detail
        main = detail.fetch()
        assert detail.scale == (6.0, 6.0) and main is not None
        assert main.shape == (1080, 1920, 3) and detail.fetch() is main  # mapped once
        assert (camera.arrays_mapped["main"], camera.arrays_made["main"]) == (1, 0)
        small = cv2.resize(main, (320, 180), interpolation=cv2.INTER_AREA)
        assert np.abs(small.astype(int) - first.image.astype(int)).mean() < 4  # that frame
        second = source.read()  # frame 0's request goes back, unmapped first (else raises)
        assert second is not None and detail.fetch() is None
    finally:
        source.close()
    assert not camera.held


def test_a_missing_usb_camera_is_named_in_the_booths_words_without_opencvs_lines() -> None:
    """OpenCV's own `[ WARN:0@0.156] global cap_v4l.cpp:914 ... can't open camera by
    index` lines used to reach stderr beside our message."""
    import os
    import subprocess
    import sys

    from tests._loop_helpers import require_models
    from tests.paths import ROOT

    require_models()
    if Path("/dev/video9").exists():
        pytest.skip("this machine has a camera 9")
    result = subprocess.run(
        [sys.executable, "-m", "edge", "bench", "--source", "9", "--frames", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2
    if Path("/dev").is_dir():
        assert "smilebooth bench: no camera at /dev/video9 (is the USB camera plugged in?" in (
            result.stderr
        )
    assert "WARN" not in result.stderr and "VIDEOIO" not in result.stderr
