"""Base64 decoding as the vendor APIs accept it.

Tolerated: ASCII whitespace anywhere, missing or partial ``=`` padding, the URL-safe alphabet (``-_``)
when the string has no ``+`` or ``/``. Rejected: a ``data:`` URI prefix, characters outside the alphabet,
``=`` anywhere but the end, more ``=`` than the length calls for, a length that leaves one odd character,
non-ASCII input.

The common case (canonical standard base64) is decoded by pybase64, a SIMD decoder: about 2 us for a
40 KB image where ``binascii`` takes about 85 us, which made base64 a quarter of a face_audit
request's CPU time. pybase64 with ``validate=True`` accepts a subset of what strict ``binascii``
accepts and decodes it to the same bytes (``tests/unit/test_content.py`` checks this
differentially), so anything it refuses takes the old path and the accepted inputs do not change.
Without pybase64 (a platform with no wheel) the stdlib path serves every request.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable

_simd_decode: Callable[..., bytes] | None
try:
    from pybase64 import b64decode as _simd_decode
except ImportError:  # pragma: no cover - pybase64 is a dependency; this keeps a broken install working
    _simd_decode = None

_WHITESPACE = b" \t\n\r\x0b\x0c"
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


class InvalidBase64(ValueError):
    pass


class DecodedTooLarge(InvalidBase64):
    """The decoded size would exceed ``max_decoded``; raised before anything is decoded."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"decoded size {size} exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


def decode_base64(text: str | bytes, *, max_decoded: int | None = None) -> bytes:
    if not text.isascii():
        raise InvalidBase64("non-ASCII character in base64 text")
    if len(text) % 4 == 0 and (max_decoded is None or len(text) // 4 * 3 <= max_decoded):
        # the common case, canonical standard base64: one C call, no copies (an ASCII str is read in place)
        if _simd_decode is not None:
            try:
                return _simd_decode(text, validate=True)
            except ValueError:  # binascii.Error: pybase64 is stricter; strict binascii decides
                pass
        try:
            return binascii.a2b_base64(text, strict_mode=True)
        except binascii.Error:
            pass
    raw = text.encode("ascii") if isinstance(text, str) else text
    raw = raw.translate(None, _WHITESPACE)
    if raw[:5].lower() == b"data:":
        raise InvalidBase64("a data: URI prefix is not accepted")
    if b"-" in raw or b"_" in raw:
        if b"+" in raw or b"/" in raw:
            raise InvalidBase64("mixes the standard and URL-safe base64 alphabets")
        raw = raw.translate(_URLSAFE_TO_STANDARD)
    body = raw.rstrip(b"=")
    missing = -len(body) % 4
    if missing == 3:
        raise InvalidBase64("impossible base64 length")
    if len(raw) - len(body) > missing:
        raise InvalidBase64("excess base64 padding")
    if max_decoded is not None:
        size = len(body) * 3 // 4
        if size > max_decoded:
            raise DecodedTooLarge(size, max_decoded)
    try:
        return binascii.a2b_base64(body + b"=" * missing, strict_mode=True)
    except binascii.Error as exc:
        raise InvalidBase64(str(exc)) from None
