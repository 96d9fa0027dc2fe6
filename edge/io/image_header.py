"""Width and height from an image file's header, for every format this OpenCV decodes.

Why: a decoder allocates width x height before it reads a pixel, so a 10 kB file can claim
16383x16383 (800 MB) or 100000x100000 (a cv2.error). The size is read here, from the bytes,
and checked before OpenCV sees them; a format not recognised here is never decoded at all.
`sample_bytes` is the decoder's working depth (16-bit PNG/TIFF/PNM, float PFM/HDR), so the
pixel limit can be kept in bytes too.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Header:
    kind: str
    width: int  # -1 when the format was recognised but its size could not be read
    height: int
    sample_bytes: int = 1  # bytes per channel the decoder works in
    tile: tuple[int, int] | None = None  # a TIFF's tile (the decoder's buffer), if tiled
    channels: int = 3  # samples per pixel the decoder holds (TIFF, PAM, JPEG 2000 say)


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PNM_DIGITS = re.compile(rb"\s*(?:#[^\n]*\n\s*)*(\d{1,12})")


def _unknown(kind: str) -> Header:
    return Header(kind, -1, -1)


def _jpeg(data: bytes) -> Header:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        if marker in _JPEG_SOF and position + 9 <= len(data):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return Header("jpeg", width, height, 2 if data[position + 4] > 8 else 1)
        if length < 2:
            break
        position += 2 + length
    return _unknown("jpeg")


def _png(data: bytes) -> Header:
    if len(data) < 25 or data[12:16] != b"IHDR":
        return _unknown("png")
    width, height = struct.unpack(">II", data[16:24])
    return Header("png", width, height, 2 if data[24] == 16 else 1)


def _bmp(data: bytes) -> Header:
    if len(data) < 26:
        return _unknown("bmp")
    header_size = struct.unpack("<I", data[14:18])[0]
    if header_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<HH", data[18:22])
        return Header("bmp", width, height)
    width, height = struct.unpack("<ii", data[18:26])
    return Header("bmp", abs(width), abs(height))


def _webp(data: bytes) -> Header:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return Header("webp", width, height)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return Header("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return Header("webp", width & 0x3FFF, height & 0x3FFF)
    return _unknown("webp")


def _tiff(data: bytes) -> Header:
    """The first directory (the page OpenCV decodes): ImageWidth, ImageLength, BitsPerSample."""
    order = "<" if data[:2] == b"II" else ">"
    try:
        big = struct.unpack(order + "H", data[2:4])[0] == 43
        offset = struct.unpack(order + ("Q" if big else "I"), data[8:16] if big else data[4:8])[0]
        count = struct.unpack(
            order + ("Q" if big else "H"), data[offset : offset + (8 if big else 2)]
        )[0]
        entry, size, first = (20, 8, offset + 8) if big else (12, 4, offset + 2)
        tags: dict[int, int] = {}
        for index in range(min(count, 4096)):
            at = first + index * entry
            tag, kind = struct.unpack(order + "HH", data[at : at + 4])
            many = struct.unpack(order + ("Q" if big else "I"), data[at + 4 : at + 4 + size])[0]
            value = data[at + 4 + size : at + 4 + 2 * size]
            if kind == 3 and many * 2 > size:  # SHORTs stored elsewhere: the first one
                where = struct.unpack(order + ("Q" if big else "I"), value)[0]
                value = data[where : where + 2]
            if kind == 3:  # SHORT
                tags[tag] = struct.unpack(order + "H", value[:2])[0]
            elif kind in (4, 16):  # LONG, LONG8
                code = "Q" if kind == 16 else "I"
                tags[tag] = struct.unpack(order + code, value[: struct.calcsize(code)])[0]
    except struct.error:
        return _unknown("tiff")
    if 256 not in tags or 257 not in tags:
        return _unknown("tiff")
    depth = max(1, min(8, (tags.get(258, 8) + 7) // 8))
    # libtiff's tile buffer is allocated from TileWidth x TileLength, not the image size:
    # a 100x100 TIFF with 16000x16000 tiles takes 1 GB before failing.
    tile = (tags[322], tags[323]) if 322 in tags and 323 in tags else None
    return Header("tiff", tags[256], tags[257], depth, tile, max(1, tags.get(277, 1)))


def _pnm(data: bytes) -> Header:
    kind = data[1:2]
    if kind == b"7":  # PAM: WIDTH / HEIGHT / MAXVAL lines up to ENDHDR
        head = data[: data.find(b"ENDHDR")] if b"ENDHDR" in data[:4096] else b""
        found = re.findall(rb"^(WIDTH|HEIGHT|MAXVAL|DEPTH)\s+(\d{1,12})", head, re.M)
        fields = dict(found)
        if b"WIDTH" not in fields or b"HEIGHT" not in fields:
            return _unknown("pam")
        wide = int(fields.get(b"MAXVAL", b"255")) > 255
        depth = max(1, int(fields.get(b"DEPTH", b"3")))
        width, height = int(fields[b"WIDTH"]), int(fields[b"HEIGHT"])
        return Header("pam", width, height, 2 if wide else 1, channels=depth)
    position, numbers = 2, []
    for _ in range(2 if kind in (b"1", b"4") else 3):
        match = _PNM_DIGITS.match(data, position)
        if match is None:
            return _unknown("pnm")
        numbers.append(int(match.group(1)))
        position = match.end()
    maxval = numbers[2] if len(numbers) == 3 else 1
    return Header("pnm", numbers[0], numbers[1], 2 if maxval > 255 else 1)


def _pfm(data: bytes) -> Header:
    match = re.match(rb"P[Ff]\s+(\d{1,12})\s+(\d{1,12})", data)
    return Header("pfm", int(match[1]), int(match[2]), 4) if match else _unknown("pfm")


def _sun(data: bytes) -> Header:
    if len(data) < 12:
        return _unknown("sunraster")
    width, height = struct.unpack(">II", data[4:12])
    return Header("sunraster", width, height)


def _hdr(data: bytes) -> Header:
    """Radiance: text lines up to an empty one, then '-Y height +X width' (or a variant)."""
    end = data.find(b"\n\n", 0, 65536)
    match = re.match(rb"([-+][XY]) (\d{1,12}) ([-+][XY]) (\d{1,12})", data[end + 2 : end + 64])
    if end < 0 or match is None:
        return _unknown("hdr")
    first, second = int(match[2]), int(match[4])
    width, height = (second, first) if match[1].endswith(b"Y") else (first, second)
    return Header("hdr", width, height, 4)


def _gif(data: bytes) -> Header:
    if len(data) < 10:
        return _unknown("gif")
    width, height = struct.unpack("<HH", data[6:10])
    return Header("gif", width, height)


def _j2k(data: bytes) -> Header:
    """A JPEG 2000 codestream's SIZ marker: the canvas less its offset, and the component
    count (OpenJPEG holds every component as 32-bit integers: 1024 components of a
    2000x2000 image took 1.5 GB)."""
    at = data.find(b"\xff\x51")
    if at < 0 or at + 40 > len(data):
        return _unknown("jpeg2000")
    xsiz, ysiz, xoff, yoff = struct.unpack(">IIII", data[at + 6 : at + 22])
    components = struct.unpack(">H", data[at + 38 : at + 40])[0]
    return Header("jpeg2000", xsiz - xoff, ysiz - yoff, 4, channels=max(1, components))


def _jp2(data: bytes) -> Header:
    """The JP2 box file's 'ihdr' box (height, width, components) and its codestream's SIZ:
    the larger of each, as either may be what the decoder goes by."""
    stream = _j2k(data)
    at = data.find(b"ihdr")
    if at < 0 or at + 14 > len(data):
        return stream
    height, width, components = struct.unpack(">IIH", data[at + 4 : at + 14])
    if stream.width < 0:
        return Header("jpeg2000", width, height, 4, channels=max(1, components))
    return Header(
        "jpeg2000",
        max(width, stream.width),
        max(height, stream.height),
        4,
        channels=max(components, stream.channels),
    )


def _avif(data: bytes) -> Header:
    """Every 'ispe' (image spatial extent) property: the largest one is what may be made."""
    sizes: list[tuple[int, int]] = []
    at = data.find(b"ispe")
    while at >= 0 and at + 12 <= len(data) and len(sizes) < 64:
        sizes.append(
            struct.unpack(">II", data[at + 8 : at + 16]) if at + 16 <= len(data) else (-1, -1)
        )
        at = data.find(b"ispe", at + 4)
    if not sizes or min(min(s) for s in sizes) <= 0:
        return _unknown("avif")
    width, height = max(sizes, key=lambda s: s[0] * s[1])
    pixi = data.find(b"pixi")  # bits per channel: 10/12-bit AVIF decodes into 16-bit planes
    deep = pixi < 0 or pixi + 10 > len(data) or data[pixi + 9] > 8
    return Header("avif", width, height, 2 if deep else 1)


_MAGIC: tuple[tuple[Callable[[bytes], bool], Callable[[bytes], Header]], ...] = (
    (lambda d: d[:2] == b"\xff\xd8", _jpeg),
    (lambda d: d[:8] == b"\x89PNG\r\n\x1a\n", _png),
    (lambda d: d[:2] == b"BM", _bmp),
    (lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP", _webp),
    (lambda d: d[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), _tiff),
    (lambda d: d[:1] == b"P" and d[1:2] in b"1234567" and len(d) > 2, _pnm),
    (lambda d: d[:2] in (b"PF", b"Pf"), _pfm),
    (lambda d: d[:4] == b"\x59\xa6\x6a\x95", _sun),
    (lambda d: d[:10] == b"#?RADIANCE" or d[:6] == b"#?RGBE", _hdr),
    (lambda d: d[:6] in (b"GIF87a", b"GIF89a"), _gif),
    (lambda d: d[:4] == b"\xff\x4f\xff\x51", _j2k),
    (lambda d: d[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n", _jp2),
    (lambda d: d[4:8] == b"ftyp" and d[8:12] in (b"avif", b"avis", b"mif1", b"msf1"), _avif),
)
# Formats OpenCV can open that are not decoded here, and why.
REFUSED_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"\x76\x2f\x31\x01", "OpenEXR is not read (its decoder is off in OpenCV)"),
)


def read_header(data: bytes) -> Header | None:
    """The header of a format decoded here; None for anything else (never decoded)."""
    for matches, parse in _MAGIC:
        if matches(data):
            return parse(data)
    return None


def refused_format(data: bytes) -> str | None:
    for magic, reason in REFUSED_FORMATS:
        if data.startswith(magic):
            return reason
    return None
