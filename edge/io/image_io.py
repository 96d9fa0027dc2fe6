"""Reading image files safely: bytes first, header checked, then decoded.

Why not `cv2.imread`: opencv-python-headless 4.x segfaults on a path that is not valid
UTF-8 (Python hands it surrogate escapes), and it decodes a 20000x20000 JPEG in full
(2.4 GB) before anyone can say no. Here the file is read as bytes by Python (any name
works), its width and height are read from the JPEG SOF / PNG IHDR / BMP header, images
over the pixel limit are refused, large JPEGs are decoded reduced by libjpeg itself
(`IMREAD_REDUCED_*`, which never allocates the full size), and a JPEG without its
end-of-image marker is reported as truncated instead of being scored in silence.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.config.output import ImageConfig

# libjpeg scales by 1/2, 1/4, 1/8 while decoding.
_REDUCED: tuple[tuple[int, int], ...] = (
    (1, cv2.IMREAD_COLOR),
    (2, cv2.IMREAD_REDUCED_COLOR_2),
    (4, cv2.IMREAD_REDUCED_COLOR_4),
    (8, cv2.IMREAD_REDUCED_COLOR_8),
)
# The files `smilebooth score` and an image-folder source read: what OpenCV decodes here.
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
)
DEFAULT_IMAGES = ImageConfig()  # the images section's defaults
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class ReadResult:
    image: np.ndarray | None  # BGR, or None when the file was refused
    problem: str | None = None  # why it was refused
    warning: str | None = None  # decoded, but something is off (truncated)
    reduced: int = 1  # the decoding scale factor (1 = full size)


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from the header of a JPEG, PNG or BMP; None otherwise."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "bmp", abs(width), abs(height)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data) or ("jpeg", -1, -1)  # a JPEG whose size cannot be read
    return None


def _jpeg_size(data: bytes) -> tuple[str, int, int] | None:
    """Walk the JPEG segments up to the first start-of-frame marker."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        if marker in _SOF and position + 9 <= len(data):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return "jpeg", width, height
        if length < 2:
            return None
        position += 2 + length
    return None


def decode_image(data: bytes, config: ImageConfig = DEFAULT_IMAGES) -> ReadResult:
    """Bytes -> a BGR image within the pixel limit, or the reason it was refused."""
    header = image_size(data)
    flag, factor = cv2.IMREAD_COLOR, 1
    if header is not None:
        kind, width, height = header
        if width <= 0 or height <= 0:  # never decode blind: the size is what we check
            return ReadResult(None, f"not a readable image (corrupt {kind} header: no size)")
        pixels = width * height
        if pixels > config.max_pixels:
            fitting = [(f, m) for f, m in _REDUCED if pixels / (f * f) <= config.max_pixels]
            if kind != "jpeg" or not fitting:
                return ReadResult(
                    None,
                    f"{width}x{height} is over the images.max_pixels limit "
                    f"({config.max_pixels:,} pixels)",
                )
            factor, flag = fitting[0]
    truncated = header is not None and header[0] == "jpeg" and not data.endswith(b"\xff\xd9")
    if truncated:  # imdecode refuses what imread accepted: close the stream, decode the rest
        data += b"\xff\xd9"
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, flag) if buffer.size else None
    if image is None or image.size == 0:
        return ReadResult(None, "not a readable image (unknown format or corrupt)")
    warning = "truncated JPEG (no end-of-image marker): scored as far as it goes"
    return ReadResult(image, None, warning if truncated else None, factor)


def read_image(path: Path, config: ImageConfig = DEFAULT_IMAGES) -> ReadResult:
    """A file -> ReadResult; never raises for a bad, missing or special file."""
    try:
        if not path.is_file():
            return ReadResult(None, "no such file" if not path.exists() else "not a regular file")
        with path.open("rb") as handle:  # any file name, UTF-8 or not
            data = handle.read()
    except OSError as exc:
        return ReadResult(None, f"cannot read: {exc.strerror or exc}")
    return decode_image(data, config)


def encode_jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    """BGR -> JPEG bytes (written by Python, so any file name works)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()
