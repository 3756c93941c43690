"""Request parameter parsing shared by every vendor: query, urlencoded and multipart bodies.

Strict UTF-8: undecodable bytes raise ``EncodingError`` so each vendor can answer with its own
code. Duplicate names keep the *first* value (as Go's ``url.Values.Get`` and Java servlets'
``getParameter`` do). A body whose Content-Type is neither multipart nor JSON is read as urlencoded,
as PHP/Java gateways tolerate a missing or wrong Content-Type on form posts.

Request bodies arrive as sent (the app turns aiohttp's ``auto_decompress`` off): aiohttp refused
some codings at the protocol level, with a bare text 400 before any vendor code (``br`` / ``zstd``
without their decoders, a truncated ``deflate`` stream). ``read_capped`` undoes a ``gzip`` or
``deflate`` Content-Encoding itself, as aiohttp did; a body that does not decode, or a coding no
decoder is kept for (``br``, ``zstd``), raises ``web.RequestPayloadError`` as aiohttp's reader did,
and each vendor answers that in its own shape. Other values (``identity``, lists, unknown names)
leave the body as it is, as aiohttp did. Unlike aiohttp, a body inflates to its operation's cap
(``body_cap``) at most, and past its first 64 KiB in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from simulator.context import RequestCtx
from simulator.keys import BODY_CAP, CTX, RAW_BODY, sim_of

_SURROGATE = re.compile("[\udc80-\udcff]")

_unquote_plus: Callable[[str], str] = unquote_plus
try:  # the C unquoter behind yarl.query_to_pairs; the same answers as urllib's unquote_plus
    from yarl._quoters import UNQUOTER_PLUS

    _unquote_plus = UNQUOTER_PLUS
except ImportError:  # pragma: no cover - a yarl that moved it: the standard library, slower
    pass


class EncodingError(ValueError):
    pass


class BodyTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body over {limit} bytes")
        self.limit = limit


@dataclass
class Params:
    values: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    raw_body: bytes = b""


def parse_qs_strict(raw: bytes | str) -> dict[str, str]:
    """``parse_qsl(raw, keep_blank_values=True, errors="strict")`` as a dict keeping first values.

    One pass with ``str.find``: each name and value is sliced once and unquoted by yarl's C unquoter
    (what aiohttp's own ``request.post()`` uses), not split, partitioned and copied again (a 40 KB
    base64 value made three copies). That unquoter replaces bad UTF-8 with U+FFFD, so a result
    holding U+FFFD is parsed again strictly (which raises, or agrees when U+FFFD was really sent)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")  # strict decoding never yields surrogates
        except UnicodeDecodeError as exc:
            raise EncodingError(str(exc)) from exc
    elif _SURROGATE.search(raw):  # a str carrying undecodable bytes (surrogateescape)
        raise EncodingError("raw non-UTF-8 bytes in urlencoded data")
    out: dict[str, str] = {}
    end_all = len(raw)
    start = 0
    while start < end_all:
        end = raw.find("&", start)
        if end < 0:
            end = end_all
        if end > start:
            eq = raw.find("=", start, end)
            if eq < 0:
                name, value = _unquote_plus(raw[start:end]), ""
            else:
                name, value = _unquote_plus(raw[start:eq]), _unquote_plus(raw[eq + 1 : end])
            if "\ufffd" in name or "\ufffd" in value:
                return _parse_qs_stdlib(raw)
            out.setdefault(name, value)
        start = end + 1
    return out


def _parse_qs_stdlib(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        for pair in raw.split("&"):
            if not pair:
                continue
            name, _, value = pair.partition("=")
            out.setdefault(unquote_plus(name, errors="strict"), unquote_plus(value, errors="strict"))
    except ValueError as exc:  # UnicodeDecodeError included
        raise EncodingError(str(exc)) from exc
    return out


def query_params(request: web.Request) -> dict[str, str]:
    return parse_qs_strict(request.raw_path.partition("?")[2])


def body_cap(request: web.Request) -> int:
    """The most body bytes, decoded, the request's operation accepts (``Vendor.max_body_bytes``),
    never over ``Settings.max_body_bytes``; that cap alone outside the vendors' paths. Computed once a
    request (the faults stage and the body read both ask)."""
    known: int | None = request.get(BODY_CAP)
    if known is not None:
        return known
    sim = sim_of(request)
    cap = sim.settings.max_body_bytes
    ctx: RequestCtx | None = request.get(CTX)
    if ctx is not None and ctx.vendor is not None and ctx.operation is not None:
        vendor = sim.vendors.get(ctx.vendor)
        if vendor is not None:
            cap = min(cap, vendor.max_body_bytes(ctx.operation, sim))
    request[BODY_CAP] = cap
    return cap


class _Cap:
    """The cap a read enforces: the caller's ``max_bytes`` (over it: ``BodyTooLarge``) within the
    operation's ``body_cap`` (over it alone: HTTP 413, which the error middleware answers with the
    vendor's ``oversize_error``)."""

    def __init__(self, request: web.Request, max_bytes: int | None) -> None:
        self.caller = max_bytes is not None
        cap = body_cap(request)
        self.limit = cap if max_bytes is None else min(max_bytes, cap)

    def error(self, size: int) -> Exception:
        if self.caller:
            return BodyTooLarge(self.limit)
        return web.HTTPRequestEntityTooLarge(max_size=self.limit, actual_size=size)


async def read_capped(request: web.Request, max_bytes: int | None) -> bytes:
    """The whole body, its Content-Encoding undone, at most ``max_bytes`` (None: the operation's cap;
    see ``_Cap``): refused from Content-Length before reading, while streaming and while inflating
    (``decode_body``). A body slower than ``Settings.body_timeout_s`` closes the connection (HTTP 408
    rendered by the vendor)."""
    settings = sim_of(request).settings
    cap = _Cap(request, max_bytes)
    wire = _already_here(request, cap)
    if wire is None:
        try:
            async with asyncio.timeout(settings.body_timeout_s):
                wire = await _read_capped(request, cap)
        except TimeoutError:
            raise web.HTTPRequestTimeout(headers={"Connection": "close"}) from None
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding not in CODINGS or not wire:
        return wire
    body = await decode_body(wire, coding, cap.limit)
    if len(body) > cap.limit:
        raise cap.error(len(body))
    return body


def _already_here(request: web.Request, cap: _Cap) -> bytes | None:
    """The body when nothing is left to wait for: read before (``RAW_BODY``), or wholly received
    (the usual case: small bodies arrive with their headers), taken from the stream's buffer without
    a timer or a copy. None when some of it is still to come."""
    cached: bytes | None = request.get(RAW_BODY, None)
    if cached is None:
        if not request.content.is_eof():
            return None
        if (request.content_length or 0) > cap.limit:
            raise cap.error(request.content_length or 0)
        cached = request[RAW_BODY] = request.content.read_nowait(-1)
    if len(cached) > cap.limit:
        raise cap.error(len(cached))
    return cached


#: the codings aiohttp decoded (a single name, any case); br and zstd are refused as undecodable
CODINGS = ("gzip", "deflate", "br", "zstd")
#: bytes a body inflates to on the event loop; past them it inflates in the inflater thread
INLINE_INFLATE = 64 * 1024
#: bytes per zlib call in the inflater thread
THREAD_INFLATE = 1024 * 1024
#: threads inflating bodies, for the whole process: compressed bodies queue for them, never the loop
INFLATE_THREADS = 1
_inflater_pool: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _inflater_pool
    if _inflater_pool is None:
        _inflater_pool = ThreadPoolExecutor(INFLATE_THREADS, thread_name_prefix="modsim-inflate")
    return _inflater_pool


async def decode_body(wire: bytes, coding: str, limit: int) -> bytes:
    """``wire`` decoded, at most ``limit + 1`` bytes of it (so an over-limit body is seen without
    inflating all of it). ``deflate`` is zlib-wrapped or raw, told apart as aiohttp does. The first
    ``INLINE_INFLATE`` bytes are inflated here; the rest in the inflater thread (zlib lets go of
    the GIL while it works), so a compression bomb never holds the event loop."""
    if coding not in ("gzip", "deflate"):
        raise web.RequestPayloadError(f"Can not decode content-encoding: {coding} (no decoder)")
    if coding == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    else:
        wbits = zlib.MAX_WBITS if wire[0] & 0x0F == 8 else -zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    budget = limit + 1
    pieces = _inflate(inflater, wire, coding, min(budget, INLINE_INFLATE), INLINE_INFLATE)
    done = sum(map(len, pieces))
    if not inflater.eof and done < budget:
        loop = asyncio.get_running_loop()
        rest = inflater.unconsumed_tail
        pieces += await loop.run_in_executor(
            _pool(), _inflate, inflater, rest, coding, budget - done, THREAD_INFLATE
        )
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _inflate(inflater: zlib._Decompress, data: bytes, coding: str, budget: int, step: int) -> list[bytes]:
    """Up to ``budget`` bytes from ``data`` and what ``inflater`` holds, ``step`` per zlib call, in
    pieces; stops early at the end of the stream."""
    pieces: list[bytes] = []
    done = 0
    while done < budget and not inflater.eof:
        try:
            piece = inflater.decompress(data, min(step, budget - done))
        except zlib.error as exc:
            raise web.RequestPayloadError(f"Can not decode content-encoding: {coding} ({exc})") from exc
        data = inflater.unconsumed_tail
        if not piece and not data and not inflater.eof:
            raise web.RequestPayloadError(f"Can not decode content-encoding: {coding} (truncated stream)")
        pieces.append(piece)
        done += len(piece)
    return pieces


async def _read_capped(request: web.Request, cap: _Cap) -> bytes:
    if (request.content_length or 0) > cap.limit:
        raise cap.error(request.content_length or 0)
    buf = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        buf.extend(chunk)
        if len(buf) > cap.limit:
            raise cap.error(len(buf))
    request[RAW_BODY] = bytes(buf)
    return request[RAW_BODY]


async def body_params(request: web.Request, max_bytes: int | None = None) -> Params:
    """Form fields of the body (never the query). ``max_bytes``: see ``read_capped``."""
    if not request.body_exists:
        return Params()
    if request.content_type.startswith("multipart/"):
        cap = _Cap(request, max_bytes)
        if (request.content_length or 0) > cap.limit:
            raise cap.error(request.content_length or 0)
        if request.headers.get("Content-Encoding", "").strip().lower() in CODINGS:
            raise EncodingError("a multipart body with a Content-Encoding is not decoded")
        try:
            async with asyncio.timeout(sim_of(request).settings.body_timeout_s):
                return await _multipart(request, cap)
        except TimeoutError:
            raise web.HTTPRequestTimeout(headers={"Connection": "close"}) from None
    try:
        raw = await read_capped(request, max_bytes)
    except web.RequestPayloadError as exc:  # e.g. a Content-Encoding the body does not decode with
        raise EncodingError(f"undecodable body: {exc}") from exc
    if not raw:
        return Params()
    return Params(values=parse_qs_strict(raw), raw_body=raw)


async def _multipart(request: web.Request, cap: _Cap) -> Params:
    """``cap`` also bounds a body without Content-Length (chunked): parts are counted as they stream
    in. A part's Content-Transfer-Encoding is undone; a part's Content-Encoding is not (aiohttp would
    inflate it on the event loop): outside multipart/form-data, where it is ignored, it is refused."""
    out = Params()
    seen = 0
    form_data = request.content_type == "multipart/form-data"
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            coding = part.headers.get("Content-Encoding", "").strip().lower()
            if not form_data and coding not in ("", "identity"):
                raise EncodingError(f"a multipart part with Content-Encoding {coding[:40]!r} is not decoded")
            raw = bytearray()
            while not part.at_eof():
                raw += await part.read_chunk(65536)
                if seen + len(raw) > cap.limit:
                    raise cap.error(seen + len(raw))
            seen += len(raw)
            data = bytes(part.decode(raw))
            if part.filename is not None:
                out.files.setdefault(part.name, data)
            else:
                try:
                    out.values.setdefault(part.name, data.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise EncodingError(str(exc)) from exc
    except (
        ValueError,
        AssertionError,
        KeyError,
        RuntimeError,
        HttpProcessingError,
        web.RequestPayloadError,
    ) as exc:
        # RuntimeError: a part's unknown Content-(Transfer-)Encoding; HttpProcessingError: bad part headers
        if isinstance(exc, EncodingError | BodyTooLarge):
            raise
        raise EncodingError(f"malformed multipart body: {exc}") from exc
    return out
