"""Reading image files safely: one gate between any bytes and OpenCV's decoders.

Why not `cv2.imread`: opencv-python-headless 4.x segfaults on a path that is not valid
UTF-8, and any decoder allocates the size its header claims before it reads a pixel (a
10 kB WebP of 16383x16383 is 800 MB; a 1 kB PPM of 100000x100000 raises cv2.error). So:
the file's size is checked before it is read, the header's width and height are read here
(`image_header`) for every format this OpenCV opens and refused over `images.max_pixels`
(large JPEGs decoded reduced by libjpeg instead, `IMREAD_REDUCED_*`, which never allocates
the full size), a format not recognised is never decoded, and any decoder error is a reason,
never an exception. A JPEG without its end-of-image marker is reported as truncated.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.config.output import ImageConfig
from edge.io.image_header import Header, read_header, refused_format

# libjpeg scales by 1/2, 1/4, 1/8 while decoding.
_REDUCED: tuple[tuple[int, int], ...] = (
    (1, cv2.IMREAD_COLOR),
    (2, cv2.IMREAD_REDUCED_COLOR_2),
    (4, cv2.IMREAD_REDUCED_COLOR_4),
    (8, cv2.IMREAD_REDUCED_COLOR_8),
)
# The files `smilebooth score` and an image-folder source read: what OpenCV decodes here.
IMAGE_SUFFIXES = frozenset(
    {
        *(".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".webp", ".tif", ".tiff"),
        *(".pbm", ".pgm", ".ppm", ".pnm", ".pam", ".pfm", ".sr", ".ras", ".hdr", ".pic"),
        *(".gif", ".jp2", ".j2k", ".avif"),
    }
)
DEFAULT_IMAGES = ImageConfig()  # the images section's defaults
MIN_SIDE = 8  # smaller frames are not scored (sources.base.valid_image)


@dataclass(frozen=True)
class ReadResult:
    image: np.ndarray | None  # BGR, or None when the file was refused
    problem: str | None = None  # why it was refused (always set when image is None)
    warning: str | None = None  # decoded, but something is off (truncated)
    reduced: int = 1  # the decoding scale factor (1 = full size)


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from the header; None for a format not decoded here."""
    header = read_header(data)
    return None if header is None else (header.kind, header.width, header.height)


def _plan(header: Header, config: ImageConfig) -> tuple[int, int] | str:
    """(scale factor, imdecode flag) for a header within the limit, or why it is refused."""
    width, height = header.width, header.height
    if width <= 0 or height <= 0:  # never decode blind: the size is what we check
        return f"not a readable image (corrupt {header.kind} header: no size)"
    # A decoder works in its own depth (16-bit, float, OpenJPEG's 32-bit) and channels (a
    # TIFF, PAM or JPEG 2000 may declare hundreds): the limit holds in bytes too.
    weight = max(1, header.sample_bytes) * -(-header.channels // 4)
    limit = config.max_pixels // weight
    pixels = width * height
    if header.tile is not None and header.tile[0] * header.tile[1] > limit:
        tile_width, tile_height = header.tile
        return (
            f"tiles of {tile_width}x{tile_height} in a {width}x{height} tiff are over the "
            f"images.max_pixels limit ({config.max_pixels:,} pixels)"
        )
    if pixels <= limit:
        return 1, cv2.IMREAD_COLOR
    fitting = [(f, m) for f, m in _REDUCED if pixels / (f * f) <= limit]
    if header.kind == "jpeg" and fitting:
        return fitting[0]
    depth = f", counted {weight}x for its bytes per sample and channels" if weight > 1 else ""
    return (
        f"{width}x{height} {header.kind} is over the images.max_pixels limit "
        f"({config.max_pixels:,} pixels{depth})"
    )


def decode_image(data: bytes, config: ImageConfig = DEFAULT_IMAGES) -> ReadResult:
    """Bytes -> a BGR image within the pixel limit, or the reason it was refused."""
    if len(data) > config.max_file_mb * 1024 * 1024:
        return ReadResult(None, f"{len(data):,} bytes: over images.max_file_mb")
    header = read_header(data)
    if header is None:
        reason = refused_format(data) or "not a readable image (unknown format)"
        return ReadResult(None, reason)
    plan = _plan(header, config)
    if isinstance(plan, str):
        return ReadResult(None, plan)
    factor, flag = plan
    truncated = header.kind == "jpeg" and not data.endswith(b"\xff\xd9")
    if truncated:  # imdecode refuses what imread accepted: close the stream, decode the rest
        data += b"\xff\xd9"
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag)
    except (cv2.error, MemoryError, ValueError, OverflowError) as exc:
        detail = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
        return ReadResult(None, f"not a readable {header.kind} (decoder error: {detail})")
    if image is None or image.size == 0:
        return ReadResult(None, f"not a readable {header.kind} (corrupt or unsupported variant)")
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE:
        return ReadResult(
            None, f"{width}x{height}: too small to score (at least {MIN_SIDE}x{MIN_SIDE} pixels)"
        )
    warning = "truncated JPEG (no end-of-image marker): scored as far as it goes"
    return ReadResult(image, None, warning if truncated else None, factor)


def read_image(path: Path, config: ImageConfig = DEFAULT_IMAGES) -> ReadResult:
    """A file -> ReadResult; never raises for a bad, missing, huge or special file."""
    cap = int(config.max_file_mb * 1024 * 1024)
    try:
        # O_NONBLOCK: a FIFO opens at once (and is then refused) instead of waiting forever
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return ReadResult(None, "no such file")
    except OSError as exc:
        return ReadResult(None, f"cannot read: {exc.strerror or exc}")
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return ReadResult(None, "not a regular file")
        if info.st_size > cap:
            return ReadResult(
                None,
                f"{info.st_size:,} bytes: over the images.max_file_mb limit "
                f"({config.max_file_mb:g} MB)",
            )
        with os.fdopen(os.dup(descriptor), "rb") as handle:  # any file name, UTF-8 or not
            data = handle.read(cap + 1)  # a file that grows while read stops at the cap
    except OSError as exc:
        return ReadResult(None, f"cannot read: {exc.strerror or exc}")
    finally:
        os.close(descriptor)
    if len(data) > cap:
        return ReadResult(None, f"over the images.max_file_mb limit ({config.max_file_mb:g} MB)")
    return decode_image(data, config)


def encode_jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    """BGR -> JPEG bytes (written by Python, so any file name works)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()
