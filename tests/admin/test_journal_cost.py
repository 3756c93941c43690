"""Issue 12 item 8: a journal read costs what it returns, and a whole-journal export streams.

Costs are counted, not timed: entries decoded (``json.loads`` calls in ``simulator.state``), entries
rendered between two turns of the event loop, and the peak memory of an export (tracemalloc).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import simulator.state as state_module
from simulator import __version__
from simulator.admin import har
from simulator.admin.routes import _dumps
from simulator.schemas import errors
from simulator.sim import Sim
from simulator.state import Journal

FULL = 10_000


class Decodes:
    """Counts the journal's entry decodes (``json.loads`` as ``simulator.state`` calls it)."""

    def __init__(self) -> None:
        self.calls = 0

    def loads(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return json.loads(*args, **kwargs)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Decodes]:
    counter = Decodes()
    monkeypatch.setattr(state_module, "json", SimpleNamespace(loads=counter.loads, dumps=json.dumps))
    yield counter


def entry(
    i: int, vendor: str = "baidu", operation: str = "face_audit", credential: str = "k"
) -> dict[str, Any]:
    """A journal entry shaped as the middleware records it, with 1 KB of each body (HAR)."""
    return {
        "request_id": f"{i:032x}",
        "time": 1_700_000_000.0 + i,
        "method": "POST",
        "path": "/rest/2.0/solution/v1/face_audit",
        "query": "access_token=24.abc",
        "remote": "127.0.0.1",
        "vendor": vendor,
        "operation": operation,
        "status": 200,
        "vendor_code": 0,
        "credential": credential,
        "auth": {"outcome": "ok", "reason": "token issued to k"},
        "scenario": ["clean_avatar"],
        "scenario_source": ["default"],
        "fault": None,
        "latency_ms": 1.5,
        "notes": [f"note {i}"],
        "exchange": {
            "http_version": "HTTP/1.1",
            "request_headers": [
                ["Host", "127.0.0.1:8080"],
                ["Content-Type", "application/x-www-form-urlencoded"],
            ],
            "request_body": {"size": 40000, "text": "images=" + "QUJD" * 254, "truncated": True},
            "response_headers": [["Content-Type", "application/json; charset=utf-8"]],
            "response_body": {
                "size": 900,
                "text": '{"log_id":1,"result":[]}' + " " * 876,
                "truncated": False,
            },
        },
    }


def fill(journal: Journal, n: int) -> None:
    for i in range(n):
        journal.add(entry(i, operation="token" if i % 2 else "face_audit", credential=f"app{i % 100}"))


async def test_limit_1_on_a_full_journal_decodes_one_entry(
    client: TestClient, sim: Sim, decodes: Decodes
) -> None:
    """It decoded all 10,000 entries to return the last one (0.5-1 s holding the event loop)."""
    fill(sim.state.journal, FULL)
    decodes.calls = 0
    resp = await client.get("/__modsim/journal", params={"limit": "1"})
    assert resp.status == 200
    body = await resp.json()
    assert errors("admin/journal", body) == []
    assert [e["request_id"] for e in body["entries"]] == [f"{FULL - 1:032x}"]
    assert decodes.calls == 1


async def test_an_indexed_filter_decodes_only_the_entries_it_returns(
    client: TestClient, sim: Sim, decodes: Decodes
) -> None:
    """``operation=token&limit=3`` decoded all 5,000 token entries; a credential filter walks that
    credential's own entries."""
    fill(sim.state.journal, FULL)
    decodes.calls = 0
    resp = await client.get("/__modsim/journal", params={"operation": "token", "limit": "3"})
    ids = [e["request_id"] for e in (await resp.json())["entries"]]
    assert ids == [f"{i:032x}" for i in (FULL - 5, FULL - 3, FULL - 1)]
    assert decodes.calls == 3
    decodes.calls = 0
    resp = await client.get(
        "/__modsim/journal",
        params={"credential": "app7", "operation": "token", "vendor": "baidu", "limit": "2"},
    )
    ids = [e["request_id"] for e in (await resp.json())["entries"]]
    assert ids == [f"{i:032x}" for i in (FULL - 193, FULL - 93)]
    assert decodes.calls == 2


def test_filtered_reads_stay_right_and_cheap_after_the_ring_wraps(decodes: Decodes) -> None:
    """Every filter combination against a brute-force reading of the last ``size`` entries: the
    same entries, and no more decoded than returned."""
    size = 50
    journal = Journal(size)
    kept: list[dict[str, Any]] = []
    for i in range(137):
        e = entry(
            i, vendor=("baidu", "itapi", None)[i % 3], operation=("a", "b")[i % 2], credential=f"c{i % 7}"
        )
        if i % 20 == 0:
            e["request_id"] = "a repeated id"
        journal.add(e)
        kept = [*kept, json.loads(json.dumps(e))][-size:]
    assert len(journal) == size
    filters: list[dict[str, Any]] = [
        {},
        {"vendor": "baidu"},
        {"operation": "b"},
        {"credential": "c3"},
        {"vendor": "itapi", "operation": "a", "credential": "c5"},
        {"request_id": f"{130:032x}"},
        {"request_id": f"{11:032x}"},  # dropped from the ring
        {"request_id": "a repeated id"},
        {"request_id": "a repeated id", "operation": "a"},
        {"vendor": "nobody"},
    ]
    for f in filters:
        wanted = [e for e in kept if all(e.get(k) == v for k, v in f.items())]
        for limit in (None, 1, 3, 500):
            decodes.calls = 0
            got = journal.query(limit=limit, **f)
            assert got == (wanted[-limit:] if limit else wanted), (f, limit)
            assert decodes.calls == len(got), (f, limit)


async def test_since_returns_only_newer_entries_and_pages_forward(
    client: TestClient, sim: Sim, decodes: Decodes
) -> None:
    """A dashboard polls ``since=<last seq>``: it gets only what is new, oldest first, ``limit`` at a
    time, and the newest seq in ``X-Modsim-Journal-Seq``."""
    fill(sim.state.journal, FULL)
    last = FULL
    decodes.calls = 0
    resp = await client.get("/__modsim/journal", params={"since": str(last - 3)})
    assert resp.headers["X-Modsim-Journal-Seq"] == str(last)
    assert [e["seq"] for e in (await resp.json())["entries"]] == [last - 2, last - 1, last]
    assert decodes.calls == 3
    resp = await client.get("/__modsim/journal", params={"since": str(last - 10), "limit": "4"})
    assert [e["seq"] for e in (await resp.json())["entries"]] == [last - 9, last - 8, last - 7, last - 6]
    resp = await client.get("/__modsim/journal", params={"since": str(last), "operation": "token"})
    assert (await resp.json())["entries"] == []
    resp = await client.get("/__modsim/journal", params={"since": "-1"})
    assert resp.status == 400
    body = await resp.json()
    assert (body["error"], body["detail"]) == ("invalid_request", "since must be a non-negative integer")


def _old_style(entries: list[dict[str, Any]], fmt: str) -> bytes:
    """The export as it was built before: the whole document at once."""
    if fmt == "jsonl":
        return "".join(_dumps(e) + "\n" for e in entries).encode("utf-8")
    if fmt == "har":
        return _dumps(har.document(entries, __version__)).encode("utf-8")
    return _dumps({"entries": entries}).encode("utf-8")


@pytest.mark.parametrize("fmt", ["har", "jsonl", "json"])
async def test_a_whole_journal_export_is_streamed_in_bounded_memory(
    client: TestClient, sim: Sim, fmt: str
) -> None:
    """It was built in memory (a 26 MB HAR: +70 MB RSS; here a peak of 4.5-6 times the export's
    size). Now the same bytes arrive chunked and the peak is about an eighth of the size."""
    fill(sim.state.journal, 3000)
    expected = _old_style(sim.state.journal.query(), fmt)
    assert len(expected) > 7_000_000
    tracemalloc.start()
    try:
        resp = await client.get("/__modsim/journal", params={"format": fmt})
        digest, size = hashlib.sha256(), 0
        async for piece in resp.content.iter_chunked(65536):
            digest.update(piece)
            size += len(piece)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert resp.status == 200
    assert resp.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in resp.headers
    assert resp.headers["Content-Type"] == (
        "application/x-ndjson; charset=utf-8" if fmt == "jsonl" else "application/json; charset=utf-8"
    )
    assert (size, digest.hexdigest()) == (len(expected), hashlib.sha256(expected).hexdigest())
    assert peak < len(expected) // 3, f"peak {peak} bytes for a {len(expected)}-byte export"


async def test_an_export_lets_the_event_loop_run_between_batches(
    client: TestClient, sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other clients are served while the journal exports: at most a batch of entries is rendered
    between two turns of the event loop (all 10,000 were, in one go of about 2 s)."""
    fill(sim.state.journal, 2000)
    turns = 0

    async def ticker() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    seen: list[int] = []
    real = har.entry

    def spy(e: dict[str, Any]) -> dict[str, Any]:
        seen.append(turns)
        return real(e)

    monkeypatch.setattr(har, "entry", spy)
    task = asyncio.create_task(ticker())
    try:
        resp = await client.get("/__modsim/journal", params={"format": "har"})
        document = await resp.json()
    finally:
        task.cancel()
    assert len(document["log"]["entries"]) == len(seen) == 2000
    assert max(Counter(seen).values()) <= 32
