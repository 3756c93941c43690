"""Header-level facts about image bytes, without decoding pixels."""

from __future__ import annotations

import hashlib
import io
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

from simulator.content.markers import read_marker, scan_gif

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
    fmt = sniff_format(data)
    header = _open_header(data, fmt) if fmt is not None else None
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
        marker=read_marker(data),
        valid=valid,
    )
