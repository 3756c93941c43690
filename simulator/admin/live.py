"""``GET /__modsim/journal/stream``: new journal entries as server-sent events, the dashboard's one
live stream.

A request pays nothing for it: ``Journal.add`` sets one ``asyncio.Event`` per open stream (none when
nobody watches). Each stream wakes, waits ``COALESCE_S`` so a burst of requests goes out as one
write, and reads what is new with ``Journal.select(since=...)``, at most ``BATCH`` entries a read.
Entries are masked for a remote reader exactly as ``GET /__modsim/journal`` masks them. At most
``MAX_STREAMS`` streams are open at once (then 429); they end when the server shuts down.

Events: ``hello`` (``{"seq": newest seq}``, first), ``entry`` (one journal entry, ``id:`` its seq, so
a client reconnects with ``since=`` or ``Last-Event-ID``), ``cleared`` (the journal was cleared or the
simulator reset: drop what you show), and a comment line every ``HEARTBEAT_S`` of silence.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from simulator.admin import export
from simulator.admin.masking import reveals
from simulator.admin.routes import _count, _dumps, _journal_masker
from simulator.errors import AdminError
from simulator.keys import sim_of
from simulator.state import Journal
from simulator.store import Store

routes = web.RouteTableDef()

MAX_STREAMS = 16
#: entries read (and written) at a time
BATCH = 256
#: after a wake-up, wait this long for more entries before reading (one write per burst)
COALESCE_S = 0.05
#: a comment line after this much silence keeps proxies from closing an idle stream
HEARTBEAT_S = 15.0
#: how often a quiet stream checks that its client is still there
POLL_S = 1.0
#: the stream filters (the journal's indexed fields); status and vendor code are filtered by the page
FILTERS = ("vendor", "operation", "credential")


class Streams:
    """The open streams of one admin app: how many, and whether the server is shutting down."""

    def __init__(self, cap: int = MAX_STREAMS) -> None:
        self.cap = cap
        self.open = 0
        self.closing = False
        self.wakes: set[asyncio.Event] = set()

    async def close_all(self, app: web.Application) -> None:
        """``on_shutdown``: every stream ends now (the server waits for open handlers)."""
        self.closing = True
        for ev in self.wakes:
            ev.set()


STREAMS = web.AppKey("modsim_live_streams", Streams)


def _event(name: str, data: str, seq: int | None = None) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {name}\ndata: {data}\n\n"


def _since(request: web.Request, last_seq: int) -> int:
    since = _count(request.query, "since")
    if since is not None:
        return since
    last = request.headers.get("Last-Event-ID", "")
    if last.isdigit():
        return int(last)
    return last_seq


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


@routes.get("/journal/stream")
async def journal_stream(request: web.Request) -> web.StreamResponse:
    """``since=SEQ`` (or ``Last-Event-ID``): start after that seq; default: from now on.
    ``vendor``, ``operation``, ``credential``: only matching entries."""
    sim = sim_of(request)
    streams = request.app[STREAMS]
    journal = sim.state.journal  # its watchers wake the stream (a shared store wakes them too)
    store = sim.store
    last_seq = await store.journal_last_seq()
    since = _since(request, last_seq)
    filters = {k: request.query[k] for k in FILTERS if request.query.get(k)}
    mask = None if reveals(request) else _journal_masker(sim)
    if streams.open >= streams.cap:
        raise AdminError(
            429, "too_many_streams", f"at most {streams.cap} live journal streams at once: close one first"
        )
    streams.open += 1
    wake = asyncio.Event()
    journal.watchers.add(wake)
    streams.wakes.add(wake)
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
            export.SEQ_HEADER: str(last_seq),
        }
    )
    try:
        await resp.prepare(request)
        await resp.write(("retry: 1000\n" + _event("hello", _dumps({"seq": last_seq}))).encode())
        await _pump(request, resp, streams, wake, journal, store, since, filters, mask)
    except ConnectionResetError:  # the client went away
        pass
    finally:
        streams.open -= 1
        journal.watchers.discard(wake)
        streams.wakes.discard(wake)
    return resp


async def _pump(
    request: web.Request,
    resp: web.StreamResponse,
    streams: Streams,
    wake: asyncio.Event,
    journal: Journal,
    store: Store,
    since: int,
    filters: dict[str, str],
    mask: Any,
) -> None:
    clears = journal.clears
    quiet = 0.0
    while not streams.closing:
        wake.clear()
        out: list[str] = []
        if journal.clears != clears:
            clears = journal.clears
            out.append(_event("cleared", _dumps({"seq": await store.journal_last_seq()})))
        last = await store.journal_last_seq()
        blobs = await store.journal_select(limit=BATCH, since=since, **filters)
        for blob in blobs:
            entry = Journal.decode(blob)
            since = int(entry["seq"])
            out.append(_event("entry", _dumps(mask(entry) if mask else entry), since))
        if len(blobs) < BATCH:  # everything up to ``last`` was read
            since = max(since, last)
        if out:
            await resp.write("".join(out).encode("utf-8"))
            quiet = 0.0
        if len(blobs) == BATCH:
            await asyncio.sleep(0)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), POLL_S)
        if wake.is_set():
            await asyncio.sleep(COALESCE_S)
            continue
        if _gone(request):
            return
        quiet += POLL_S
        if quiet >= HEARTBEAT_S:
            await resp.write(b": keep-alive\n\n")
            quiet = 0.0
