"""Scenario markers carried inside image bytes or a URL fragment.

Where the marker lives:

* PNG: a ``tEXt`` (or ``iTXt``) chunk with keyword ``modsim`` and the name as its text;
* JPEG: a COM segment (``FF FE``) whose text is ``modsim=NAME``, looked for up to SOS;
* GIF: a comment extension (``21 FE``) whose text is ``modsim=NAME``;
* BMP: ``modsim=NAME`` plus a NUL in the gap between the headers/palette and the pixel array (``bfOffBits``
  is moved past it, which the BMP format allows);
* URL: a fragment item ``modsim=NAME`` (items separated by ``&``).

The first marker found counts (for BMP the one nearest the pixel array); a marker whose name is not
``[A-Za-z0-9_.-]{1,64}`` reads as no marker. ``write_marker`` puts its marker where it is found first.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

MARKER_KEY = "modsim"

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_NAME_BYTES = re.compile(rb"[A-Za-z0-9_.-]{1,64}")
_KEY = MARKER_KEY.encode("ascii")
_PREFIX = MARKER_PREFIX = _KEY + b"="
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GIF_HEADERS = (b"GIF87a", b"GIF89a")
_JPEG_FILL = re.compile(rb"\xff+")
_COMMENT_CAP = 256


def is_marker_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def _name(value: bytes | None) -> str | None:
    if value is None or _NAME_BYTES.fullmatch(value) is None:
        return None
    return value.decode("ascii")


def prefixed_name(text: bytes) -> str | None:
    """The marker name in a comment that starts with ``MARKER_PREFIX`` (None when not a valid name)."""
    return _name(text[len(_PREFIX) :])


@dataclass(frozen=True, slots=True)
class GifScan:
    """What one walk over a GIF's blocks found, without decoding any image data.

    ``complete`` is True when the walk ended at the trailer or exactly at the end of the data (at a block
    boundary); False for a bad header, an unknown block or a block cut short. ``frames`` counts the image
    descriptors whose data ended before that point.
    """

    frames: int
    marker: str | None
    complete: bool


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """Position after the terminating empty sub-block, or -1 when the data ends first."""
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size
    return -1


def _read_sub_blocks(data: bytes, pos: int, cap: int) -> tuple[int, bytes]:
    """Like ``_skip_sub_blocks``, also returning the joined payload (at most ``cap`` + 255 bytes of it)."""
    end = len(data)
    parts: list[bytes] = []
    kept = 0
    while pos < end:
        size = data[pos]
        pos += 1
        if size == 0:
            return pos, b"".join(parts)
        if kept <= cap:
            parts.append(data[pos : pos + size])
            kept += size
        pos += size
    return -1, b""


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def scan_gif(data: bytes) -> GifScan:
    if len(data) < 13 or data[:6] not in _GIF_HEADERS:
        return GifScan(0, None, False)
    pos = 13 + _colour_table_size(data[10])
    end = len(data)
    frames = 0
    marker: str | None = None
    seen_marker = False
    while pos < end:
        block = data[pos]
        if block == 0x3B:
            return GifScan(frames, marker, True)
        if block == 0x2C:
            if pos + 11 > end:
                break
            pos = _skip_sub_blocks(data, pos + 11 + _colour_table_size(data[pos + 9]))
            if pos < 0:
                break
            frames += 1
        elif block == 0x21:
            if pos + 2 > end:
                break
            if data[pos + 1] == 0xFE:
                pos, text = _read_sub_blocks(data, pos + 2, _COMMENT_CAP)
                if pos >= 0 and not seen_marker and text.startswith(_PREFIX):
                    seen_marker = True
                    marker = prefixed_name(text)
            else:
                pos = _skip_sub_blocks(data, pos + 2)
            if pos < 0:
                break
        else:
            break
    return GifScan(frames, marker, pos == end)


def _itxt_text(rest: bytes) -> bytes | None:
    """The text of an iTXt chunk, given what follows its keyword's NUL."""
    if len(rest) < 2:
        return None
    compressed, method = rest[0], rest[1]
    fields = rest[2:].split(b"\0", 2)
    if len(fields) != 3:
        return None
    text = fields[2]
    if not compressed:
        return text
    if method != 0:
        return None
    inflater = zlib.decompressobj()
    try:
        return inflater.decompress(text, _COMMENT_CAP)
    except zlib.error:
        return None


def _png_marker(data: bytes) -> str | None:
    pos = len(_PNG_SIGNATURE)
    end = len(data)
    while pos + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, pos)
        start = pos + 8
        stop = start + length
        if stop > end or kind == b"IEND":
            return None
        if kind in (b"tEXt", b"iTXt"):
            keyword, nul, rest = data[start:stop].partition(b"\0")
            if nul and keyword == _KEY:
                return _name(rest if kind == b"tEXt" else _itxt_text(rest))
        pos = stop + 4
    return None


def _jpeg_marker(data: bytes) -> str | None:
    pos = 2
    end = len(data)
    while pos < end:
        fill = _JPEG_FILL.match(data, pos)
        if fill is None:
            return None
        pos = fill.end()
        if pos >= end:
            return None
        code = data[pos]
        pos += 1
        if code == 0x01 or 0xD0 <= code <= 0xD8:
            continue
        if code in (0x00, 0xD9, 0xDA) or pos + 2 > end:
            return None
        stop = pos + int.from_bytes(data[pos : pos + 2], "big")
        if stop < pos + 2 or stop > end:
            return None
        if code == 0xFE:
            text = data[pos + 2 : stop]
            if text.startswith(_PREFIX):
                return prefixed_name(text)
        pos = stop
    return None


def _bmp_gap(data: bytes) -> tuple[int, int] | None:
    """Start and end of the bytes between the DIB header and the pixel array (palette included)."""
    if len(data) < 18 or not data.startswith(b"BM"):
        return None
    pixels = int.from_bytes(data[10:14], "little")
    start = 14 + int.from_bytes(data[14:18], "little")
    if pixels > len(data) or start > pixels:
        return None
    return start, pixels


def _bmp_marker(data: bytes) -> str | None:
    gap = _bmp_gap(data)
    if gap is None:
        return None
    start, stop = gap
    at = data.rfind(_PREFIX, start, stop)
    if at < 0:
        return None
    nul = data.find(b"\0", at, stop)
    return _name(data[at + len(_PREFIX) : nul]) if nul >= 0 else None


def read_marker(data: bytes) -> str | None:
    if data.startswith(_PNG_SIGNATURE):
        return _png_marker(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_marker(data)
    if data[:6] in _GIF_HEADERS:
        return scan_gif(data).marker
    if data.startswith(b"BM"):
        return _bmp_marker(data)
    return None


def write_marker(data: bytes, name: str) -> bytes:
    """``data`` with a marker for ``name`` added (PNG, JPEG, GIF or BMP); it is the one ``read_marker`` finds.

    GIF87a headers become GIF89a, the version that defines comment extensions.
    """
    if not is_marker_name(name):
        raise ValueError(f"invalid marker name {name!r}: must match [A-Za-z0-9_.-]{{1,64}}")
    encoded = name.encode("ascii")
    if data.startswith(_PNG_SIGNATURE):
        if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
            raise ValueError("PNG without an IHDR chunk")
        body = b"tEXt" + _KEY + b"\0" + encoded
        chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
        return data[:33] + chunk + data[33:]
    if data.startswith(b"\xff\xd8\xff"):
        text = _PREFIX + encoded
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]
    if data[:6] in _GIF_HEADERS:
        if len(data) < 13 or 13 + _colour_table_size(data[10]) > len(data):
            raise ValueError("GIF cut short before the end of its global colour table")
        at = 13 + _colour_table_size(data[10])
        text = _PREFIX + encoded
        extension = b"\x21\xfe" + bytes([len(text)]) + text + b"\x00"
        return b"GIF89a" + data[6:at] + extension + data[at:]
    if data.startswith(b"BM"):
        gap = _bmp_gap(data)
        if gap is None:
            raise ValueError("BMP whose headers do not fit its pixel array offset")
        blob = _PREFIX + encoded + b"\0"
        pixels = gap[1]
        declared = int.from_bytes(data[2:6], "little")
        header = (
            b"BM"
            + struct.pack("<I", declared + len(blob) if declared else 0)
            + data[6:10]
            + struct.pack("<I", pixels + len(blob))
        )
        return header + data[14:pixels] + blob + data[pixels:]
    raise ValueError("markers can be written into PNG, JPEG, GIF and BMP images only")


def marker_from_url(url: str) -> str | None:
    _, hash_sign, fragment = url.partition("#")
    if not hash_sign:
        return None
    for item in fragment.split("&"):
        key, equals, value = item.partition("=")
        if equals and key == MARKER_KEY:
            return value if is_marker_name(value) else None
    return None
