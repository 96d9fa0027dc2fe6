"""EXIF for the saved photos, written by hand: no imaging library on the Pi for 30 tags.

Phones and photo apps sort by DateTimeOriginal and show the camera; a JPEG from OpenCV has
neither, so each photo gets one APP1 "Exif" segment right after SOI: the local time the
photo was taken with its UTC offset (OffsetTimeOriginal, EXIF 2.31) and milliseconds, the
camera's make and model when the source knows them, the software and its version, and
the orientation (1: the pixels are stored upright; camera flips are applied before).

The TIFF structure is little-endian: IFD0 (camera, software, orientation, a pointer to the
Exif IFD), then the Exif IFD (version, dates, offsets, pixel size).
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from functools import cache

ASCII, SHORT, LONG, UNDEFINED = 2, 3, 4, 7
_SIZES = {ASCII: 1, SHORT: 2, LONG: 4, UNDEFINED: 1}
Entry = tuple[int, int, int, bytes]  # tag, type, count, value bytes


@dataclass(frozen=True)
class CameraInfo:
    """What a source knows about the camera that made a photo (either may be empty)."""

    make: str = ""
    model: str = ""


@cache
def software() -> str:
    """ "smilebooth <version>", from the installed package (the source tree says 0+unknown)."""
    from importlib import metadata

    try:
        return f"smilebooth {metadata.version('smilebooth')}"
    except metadata.PackageNotFoundError:
        return "smilebooth 0+unknown"


def exif_segment(
    when: float,
    size: tuple[int, int],
    camera: CameraInfo | None = None,
    orientation: int = 1,
) -> bytes:
    """The APP1 segment (marker included) for a photo taken at `when` (epoch seconds),
    `size` = (width, height) pixels, in the device's local time zone."""
    local = dt.datetime.fromtimestamp(when).astimezone()
    stamp = _ascii(local.strftime("%Y:%m:%d %H:%M:%S"))
    offset = _ascii(_offset(local))
    subsec = _ascii(f"{local.microsecond // 1000:03d}")
    ifd0: list[Entry] = []
    if camera is not None and camera.make:
        ifd0.append((0x010F, ASCII, *_counted(_ascii(camera.make))))
    if camera is not None and camera.model:
        ifd0.append((0x0110, ASCII, *_counted(_ascii(camera.model))))
    ifd0 += [
        (0x0112, SHORT, 1, struct.pack("<H", orientation)),
        (0x0131, ASCII, *_counted(_ascii(software()))),
        (0x0132, ASCII, len(stamp), stamp),  # DateTime
    ]
    exif: list[Entry] = [
        (0x9000, UNDEFINED, 4, b"0232"),  # ExifVersion 2.32
        (0x9003, ASCII, len(stamp), stamp),  # DateTimeOriginal
        (0x9004, ASCII, len(stamp), stamp),  # DateTimeDigitized
        (0x9010, ASCII, len(offset), offset),  # OffsetTime
        (0x9011, ASCII, len(offset), offset),  # OffsetTimeOriginal
        (0x9012, ASCII, len(offset), offset),  # OffsetTimeDigitized
        (0x9291, ASCII, len(subsec), subsec),  # SubSecTimeOriginal
        (0xA002, LONG, 1, struct.pack("<I", size[0])),  # PixelXDimension
        (0xA003, LONG, 1, struct.pack("<I", size[1])),  # PixelYDimension
    ]
    # IFD0 starts at 8; its size is known before the Exif IFD pointer's value is.
    ifd0_length = _ifd_length(len(ifd0) + 1, ifd0)
    exif_at = 8 + ifd0_length
    ifd0.append((0x8769, LONG, 1, struct.pack("<I", exif_at)))
    ifd0.sort()
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += _ifd(ifd0, 8) + _ifd(exif, exif_at)
    body = b"Exif\x00\x00" + tiff
    if len(body) + 2 > 0xFFFF:
        raise ValueError("EXIF too long for one APP1 segment (a camera name over 60 kB?)")
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def with_exif(jpeg: bytes, segment: bytes) -> bytes:
    """The JPEG with `segment` right after its SOI marker (where EXIF readers look first)."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG (no SOI marker)")
    return jpeg[:2] + segment + jpeg[2:]


def _ifd(entries: list[Entry], at: int) -> bytes:
    """One IFD at byte offset `at` of the TIFF: entries, next-IFD 0, then the long values."""
    entries = sorted(entries)
    data_at = at + 2 + 12 * len(entries) + 4
    table, data = struct.pack("<H", len(entries)), b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            table += struct.pack("<HHII", tag, kind, count, data_at + len(data))
            data += value + (b"\x00" if len(value) % 2 else b"")  # word-aligned values
    return table + struct.pack("<I", 0) + data


def _ifd_length(count: int, entries: list[Entry]) -> int:
    data = sum(len(v) + len(v) % 2 for _, _, _, v in entries if len(v) > 4)
    return 2 + 12 * count + 4 + data


def _counted(value: bytes) -> tuple[int, bytes]:
    return len(value), value


def _ascii(text: str) -> bytes:
    """EXIF ASCII: 7-bit, NUL-terminated; other characters become '?'."""
    return text.encode("ascii", "replace").replace(b"\x00", b"?") + b"\x00"


def _offset(local: dt.datetime) -> str:
    """'+01:00' (EXIF's form of the UTC offset)."""
    delta = local.utcoffset() or dt.timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
