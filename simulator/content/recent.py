"""The decoded image bytes of the last few requests, for the dashboard's thumbnails.

The journal keeps only the first 1 KB of each body, so ``inspect_image`` (which every vendor calls on
every decoded image) hands the bytes to the request's ``RequestCtx`` (``context.CURRENT``), and the
journal middleware files them here when it records the request. Bounded three ways: the newest
``MAX_REQUESTS`` requests, ``MAX_PER_REQUEST`` images each, ``MAX_BYTES`` in all; the oldest request's
images go first. Nothing is copied: the store holds the very bytes objects the request decoded.
"""

from __future__ import annotations

import io
import warnings
from collections import OrderedDict

from PIL import Image

from simulator.context import IMAGES_PER_REQUEST

MAX_REQUESTS = 64
MAX_PER_REQUEST = IMAGES_PER_REQUEST
MAX_BYTES = 16 * 1024 * 1024
#: a thumbnail's longest side
THUMB_PX = 160
#: images declaring more pixels than this are not decoded for a thumbnail
THUMB_MAX_PIXELS = 40_000_000


class RecentImages:
    def __init__(
        self, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES, per_request: int = MAX_PER_REQUEST
    ) -> None:
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.per_request = per_request
        self._by_request: OrderedDict[str, tuple[bytes, ...]] = OrderedDict()
        self._bytes = 0

    def put(self, request_id: str, images: list[bytes] | tuple[bytes, ...]) -> None:
        """Keep ``images`` (at most ``per_request``; any single one larger than ``max_bytes`` is not
        kept) as the newest request's, dropping the oldest requests' beyond the bounds."""
        kept = tuple(d for d in images[: self.per_request] if len(d) <= self.max_bytes)
        if not kept:
            return
        self._drop(request_id)
        self._by_request[request_id] = kept
        self._bytes += sum(map(len, kept))
        while len(self._by_request) > self.max_requests or self._bytes > self.max_bytes:
            self._drop(next(iter(self._by_request)))

    def _drop(self, request_id: str) -> None:
        gone = self._by_request.pop(request_id, None)
        if gone is not None:
            self._bytes -= sum(map(len, gone))

    def get(self, request_id: str, n: int) -> bytes | None:
        images = self._by_request.get(request_id)
        if images is None or not 0 <= n < len(images):
            return None
        return images[n]

    def count(self, request_id: str) -> int:
        return len(self._by_request.get(request_id, ()))

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        self._by_request.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._by_request)


class NoThumbnail(ValueError):
    """The bytes are no image Pillow can decode, or too large an image to decode for a preview."""


def thumbnail(data: bytes, max_px: int = THUMB_PX) -> bytes:
    """A PNG of at most ``max_px`` on its longest side (a GIF's first frame). CPU-bound: call it in
    a thread. ``NoThumbnail`` when the bytes cannot be previewed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's decompression-bomb and truncated-file warnings
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > THUMB_MAX_PIXELS:
                    raise NoThumbnail(f"{width}x{height} is too large to preview")
                image.draft("RGB", (max_px, max_px))  # JPEG: decode at a reduced scale
                frame = image.convert("RGBA")
        frame.thumbnail((max_px, max_px))
        out = io.BytesIO()
        frame.save(out, "PNG", optimize=False)
        return out.getvalue()
    except NoThumbnail:
        raise
    except Exception as exc:  # any decoding failure of arbitrary client bytes
        raise NoThumbnail(f"not an image the preview can decode: {type(exc).__name__}: {exc}") from exc
