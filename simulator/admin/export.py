"""Journal answers (``GET /__modsim/journal``): JSON, JSON lines or HAR, byte for byte what building
the whole document with ``dumps`` gives. A few entries are answered at once; more are streamed
(chunked), ``BATCH_ENTRIES`` decoded and serialised at a time, yielding to the event loop between
batches, so an export of the whole journal neither holds the loop nor builds its body in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.admin import har
from simulator.state import Journal

FORMATS = ("json", "jsonl", "har")
#: answers with at most this many entries are built at once (no chunked encoding)
INLINE_ENTRIES = 64
#: entries decoded and serialised between two yields to the event loop (a few ms of CPU)
BATCH_ENTRIES = 32
#: a streamed piece is written once it holds this many characters
BATCH_CHARS = 256 * 1024
#: the seq of the newest journal entry, for polling with ``since``
SEQ_HEADER = "X-Modsim-Journal-Seq"

Dumps = Callable[[Any], str]


@dataclass(frozen=True)
class Format:
    content_type: str
    head: str
    separator: str
    tail: str
    render: Callable[[dict[str, Any]], str]


def _frame(document: str) -> tuple[str, str]:
    """The text before and after the entries of ``document``, whose last value is an empty list."""
    cut = document.rindex("[]") + 1
    return document[:cut], document[cut:]


def masked(form: Format, mask_entry: Callable[[dict[str, Any]], dict[str, Any]]) -> Format:
    """``form`` rendering each entry after ``mask_entry`` (secrets hidden from a remote reader)."""
    return Format(
        form.content_type, form.head, form.separator, form.tail, lambda e: form.render(mask_entry(e))
    )


def journal_format(fmt: str, dumps: Dumps, version: str) -> Format:
    if fmt == "jsonl":
        return Format("application/x-ndjson", "", "", "", lambda e: dumps(e) + "\n")
    if fmt == "har":
        head, tail = _frame(dumps(har.document([], version)))
        return Format("application/json", head, ", ", tail, lambda e: dumps(har.entry(e)))
    head, tail = _frame(dumps({"entries": []}))
    return Format("application/json", head, ", ", tail, dumps)


async def respond(
    request: web.Request, blobs: list[bytes], form: Format, last_seq: int
) -> web.StreamResponse:
    """``blobs``: the journal's JSON bytes of the entries to send, oldest first."""
    decode = Journal.decode
    headers = {SEQ_HEADER: str(last_seq)}
    if len(blobs) <= INLINE_ENTRIES:
        body = form.separator.join(form.render(decode(b)) for b in blobs)
        return web.Response(
            text=form.head + body + form.tail, content_type=form.content_type, headers=headers
        )
    resp = web.StreamResponse(headers=headers)
    resp.content_type = form.content_type
    resp.charset = "utf-8"
    await resp.prepare(request)
    pieces = [form.head]
    size = len(form.head)
    for i, blob in enumerate(blobs):
        text = form.render(decode(blob))
        if i:
            pieces.append(form.separator)
        pieces.append(text)
        size += len(text)
        if (i + 1) % BATCH_ENTRIES == 0 or size >= BATCH_CHARS:
            if size >= BATCH_CHARS:
                await resp.write("".join(pieces).encode("utf-8"))
                pieces.clear()
                size = 0
            await asyncio.sleep(0)
    pieces.append(form.tail)
    await resp.write("".join(pieces).encode("utf-8"))
    await resp.write_eof()
    return resp
