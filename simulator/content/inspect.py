"""Header-level facts about image bytes, without decoding pixels."""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass

from PIL import (
    BmpImagePlugin,
    GifImagePlugin,
    ImageFile,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from simulator.content.markers import MARKER_PREFIX, prefixed_name, read_marker, scan_gif
from simulator.context import CURRENT

_OPENERS: dict[str, type[ImageFile.ImageFile]] = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
    "gif": GifImagePlugin.GifImageFile,
    "bmp": BmpImagePlugin.BmpImageFile,
    "webp": WebPImagePlugin.WebPImageFile,
    "tiff": TiffImagePlugin.TiffImageFile,
}


def sniff_format(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\0", b"MM\0*"):
        return "tiff"
    return None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """``valid`` means a sniffed format whose header Pillow parsed (and, for GIF, whose blocks walk cleanly
    to the trailer or the end of the data); unrecognised formats are never valid. ``width``/``height`` are
    None when Pillow could not parse the header; ``frames`` is 0 whenever ``valid`` is False, else the GIF
    image-descriptor count, the WebP ANMF count, the APNG ``acTL`` count, or 1.
    """

    format: str | None
    width: int | None
    height: int | None
    frames: int
    size: int
    sha256: str
    marker: str | None
    valid: bool


def _open_header(data: bytes, fmt: str) -> tuple[int, int, int] | None:
    """Width, height and Pillow's frame count, from the plugin class itself.

    Constructing the plugin class skips ``Image.open``'s decompression-bomb check (a huge declared size is a
    fact to report, and no pixels are decoded here) without touching the global ``Image.MAX_IMAGE_PIXELS``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _OPENERS[fmt](io.BytesIO(data)) as image:
                width, height = image.size
                frames = int(getattr(image, "n_frames", 1)) if fmt == "png" else 1
    except Exception:
        return None
    return width, height, frames


#: SOF markers Pillow's JPEG plugin reads a size from (not DHP ``FFDE``, which the fast path leaves to it)
_JPEG_SOF = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))
#: segments Pillow only skips or stores
_JPEG_PLAIN = frozenset((0xC4, 0xCC, 0xDD, 0xFE))
#: APP payload prefixes Pillow parses (each a way to fail or to take another path): left to Pillow
_JPEG_APP_PARSED = (
    b"JFIF",
    b"Exif\0\0",
    b"http://ns.adobe.com/xap/1.0/\x00",
    b"FPXR\0",
    b"ICC_PROFILE\0",
    b"MPF\0",
    b"Photoshop 3.0\x00",
    b"Adobe",
)


#: per code after FF: 0 leave to Pillow, 1 only skipped or stored by Pillow, 2 SOF, 3 DQT, 4 APPn, 5 SOS,
#: 6 COM (skipped by Pillow, read for a marker)
_JPEG_KIND = bytes(
    5
    if c == 0xDA
    else 2
    if c in _JPEG_SOF
    else 3
    if c == 0xDB
    else 4
    if 0xE0 <= c <= 0xEF
    else 6
    if c == 0xFE
    else 1
    if c in _JPEG_PLAIN
    else 0
    for c in range(256)
)
_SEGMENT = struct.Struct(">BBH").unpack_from


def _jpeg_header_fast(data: bytes) -> tuple[int, int, int, str | None] | None:
    """Width, height, 1 and the marker (``read_marker``'s answer) for a plainly laid-out JPEG, read the
    way Pillow's ``JpegImageFile._open`` reads it; None whenever Pillow could read it differently (fill
    bytes, junk, Exif/ICC/Adobe/... APP payloads, a malformed table, an unusual marker), and the caller
    asks Pillow. It looks at the segments before SOS only, as Pillow does; a differential test
    (tests/unit/test_jpeg_header.py) holds the two together.
    """
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    end = len(data)
    pos = 2
    size: tuple[int, int] | None = None
    marker: str | None = None
    marked = False
    while pos + 4 <= end:
        ff, code, length = _SEGMENT(data, pos)
        start, stop = pos + 4, pos + 2 + length
        kind = _JPEG_KIND[code]
        if ff != 0xFF or length < 2 or stop > end or not kind:
            return None
        if kind == 5:  # SOS: Pillow stops here
            if size is None or min(size) <= 0:
                return None
            return size[0], size[1], 1, marker
        if kind == 2:
            n = length - 2
            if n < 6 or (n - 6) % 3 or data[start] != 8 or data[start + 5] not in (1, 3, 4):
                return None
            size = ((data[start + 3] << 8) | data[start + 4], (data[start + 1] << 8) | data[start + 2])
        elif kind == 3:  # DQT: tables of 1 + 64 x precision bytes, exactly filling the segment
            q = start
            while q < stop:
                q += 65 if data[q] < 16 else 129
            if q != stop:
                return None
        elif kind == 4:
            if data.startswith(_JPEG_APP_PARSED, start, stop) and not (
                code == 0xE0 and data.startswith(b"JFIF", start) and length - 2 >= 7
            ):
                return None
        elif kind == 6 and not marked and data.startswith(MARKER_PREFIX, start, stop):
            marked, marker = True, prefixed_name(data[start:stop])  # the first one counts, valid or not
        pos = stop
    return None


def _webp_frames(data: bytes) -> int:
    pos = 12
    end = len(data)
    frames = 0
    while pos + 8 <= end:
        if data[pos : pos + 4] == b"ANMF":
            frames += 1
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        pos += 8 + size + (size & 1)
    return max(frames, 1)


def inspect_image(data: bytes) -> ImageInfo:
    """Also hands the bytes of a recognised format to the request being served (``RequestCtx.images``,
    the dashboard's thumbnails)."""
    fmt = sniff_format(data)
    if fmt is not None:
        ctx = CURRENT.get()
        if ctx is not None:
            ctx.keep_image(data)
    fast = _jpeg_header_fast(data) if fmt == "jpeg" else None
    header = fast[:3] if fast is not None else _open_header(data, fmt) if fmt is not None else None
    width, height, frames = header if header is not None else (None, None, 0)
    valid = header is not None
    if valid and fmt == "gif":
        scan = scan_gif(data)
        valid = scan.complete
        frames = scan.frames if valid else 0
    elif valid and fmt == "webp":
        frames = _webp_frames(data)
    return ImageInfo(
        format=fmt,
        width=width,
        height=height,
        frames=frames,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        marker=fast[3] if fast is not None else read_marker(data),
        valid=valid,
    )
