"""Small files of every format this OpenCV opens, and bombs of each: a real encoded image
whose header is rewritten to claim a huge size (what a hostile file does: a few kB that
make a decoder allocate gigabytes)."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np

from tests.reliability.helpers import jpeg_claiming

FLOAT_FORMATS = {".pfm", ".hdr"}
FORMATS = (
    ".jpg", ".png", ".bmp", ".webp", ".tif", ".ppm", ".pgm", ".pbm", ".pam", ".pfm",
    ".ras", ".hdr", ".jp2", ".j2k", ".avif", ".gif",
)  # fmt: skip


def picture(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (height, width, 3), dtype=np.uint8)


def encode(suffix: str, image: np.ndarray, params: list[int] | None = None) -> bytes:
    """`image` written as `suffix` (by OpenCV where it has a writer, by hand where not)."""
    if suffix == ".pam":
        height, width = image.shape[:2]
        head = f"P7\nWIDTH {width}\nHEIGHT {height}\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n"
        return head.encode() + image[:, :, ::-1].tobytes()
    if suffix == ".j2k":  # the raw codestream inside a JP2 file's jp2c box
        jp2 = encode(".jp2", image)
        return jp2[jp2.index(b"jp2c") + 4 :]
    if suffix in (".pgm", ".pbm"):
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if suffix == ".pbm":
            image = np.where(image > 127, 255, 0).astype(np.uint8)
    if suffix in FLOAT_FORMATS:
        image = image.astype(np.float32) / 255
    ok, data = cv2.imencode(suffix, image, params or [])
    assert ok, suffix
    return data.tobytes()


def claiming(suffix: str, width: int, height: int) -> bytes:
    """A small real `suffix` file whose header claims width x height."""
    if suffix == ".jpg":
        return jpeg_claiming(width, height)
    data = bytearray(encode(suffix, picture()))
    if suffix == ".png":
        data[16:24] = struct.pack(">II", width, height)
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    elif suffix == ".bmp":
        data[18:26] = struct.pack("<ii", width, height)
    elif suffix == ".webp":
        lossless = bytearray(encode(".webp", picture(), [cv2.IMWRITE_WEBP_QUALITY, 101]))
        bits = int.from_bytes(lossless[21:25], "little") & ~((1 << 28) - 1)
        bits |= (min(width, 16384) - 1) | ((min(height, 16384) - 1) << 14)
        lossless[21:25] = bits.to_bytes(4, "little")
        return bytes(lossless)
    elif suffix == ".tif":
        return _tiff_claiming(bytes(data), width, height)
    elif suffix in (".ppm", ".pgm", ".pbm"):
        magic = {".ppm": "P6", ".pgm": "P5", ".pbm": "P4"}[suffix]
        tail = "" if suffix == ".pbm" else "\n255"
        return f"{magic}\n{width} {height}{tail}\n".encode() + bytes(data[-1000:])
    elif suffix == ".pam":
        head = f"P7\nWIDTH {width}\nHEIGHT {height}\nDEPTH 3\nMAXVAL 255\nENDHDR\n"
        return head.encode() + bytes(1000)
    elif suffix == ".pfm":
        return f"PF\n{width} {height}\n-1.0\n".encode() + bytes(data[-1000:])
    elif suffix == ".ras":
        data[4:12] = struct.pack(">II", width, height)
    elif suffix == ".hdr":
        end = data.index(b"\n\n") + 2
        line_end = data.index(b"\n", end)
        data[end:line_end] = f"-Y {height} +X {width}".encode()
    elif suffix == ".gif":
        data[6:10] = struct.pack("<HH", min(width, 65535), min(height, 65535))
    elif suffix == ".jp2":
        at = data.index(b"ihdr")
        data[at + 4 : at + 12] = struct.pack(">II", height, width)
        siz = data.index(b"\xff\x51")
        data[siz + 6 : siz + 14] = struct.pack(">II", width, height)
    elif suffix == ".j2k":
        siz = data.index(b"\xff\x51")
        data[siz + 6 : siz + 14] = struct.pack(">II", width, height)
    elif suffix == ".avif":
        at = data.index(b"ispe")
        data[at + 8 : at + 16] = struct.pack(">II", width, height)
    return bytes(data)


def _tiff_claiming(data: bytes, width: int, height: int) -> bytes:
    order = "<" if data[:2] == b"II" else ">"
    out = bytearray(data)
    offset = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[offset : offset + 2])[0]
    for index in range(count):
        at = offset + 2 + index * 12
        tag = struct.unpack(order + "H", data[at : at + 2])[0]
        if tag in (256, 257):
            value = width if tag == 256 else height
            out[at + 2 : at + 4] = struct.pack(order + "H", 4)  # LONG
            out[at + 8 : at + 12] = struct.pack(order + "I", value)
    return bytes(out)


def tiff_tiled(width: int, height: int, tile: int) -> bytes:
    """A small TIFF whose tiles claim tile x tile: libtiff sizes its buffer from the tile,
    so a 100x100 image with 16000x16000 tiles took 1 GB before failing."""
    entries = [
        (256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (277, 3, 1),
        (322, 4, tile), (323, 4, tile), (324, 4, 0), (325, 4, 1000),
    ]  # fmt: skip
    data_offset = 8 + 2 + len(entries) * 12 + 4
    out = b"II*\x00" + struct.pack("<IH", 8, len(entries))
    for tag, kind, value in entries:
        value = data_offset if tag == 324 else value
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, 1) + packed
    return out + struct.pack("<I", 0) + bytes(1000)


def j2k_components(count: int, width: int = 2000, height: int = 2000) -> bytes:
    """A real JPEG 2000 codestream whose SIZ claims `count` components: OpenJPEG holds each
    as 32-bit integers (1,024 of 2000x2000 took 1.5 GB before failing)."""
    stream = encode(".j2k", picture())
    at = stream.index(b"\xff\x51")
    length = struct.unpack(">H", stream[at + 2 : at + 4])[0]
    body = bytearray(stream[at + 4 : at + 38])
    body[2:10] = struct.pack(">II", width, height)
    component = stream[at + 40 : at + 43]
    siz = b"\xff\x51" + struct.pack(">H", 38 + 3 * count) + bytes(body)
    siz += struct.pack(">H", count) + component * count
    return stream[:at] + siz + stream[at + 2 + length :]
