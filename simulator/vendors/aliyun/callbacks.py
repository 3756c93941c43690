"""Asynchronous-scan callbacks: ``POST callback`` with the form ``checksum=<hex sha256(uid + seed +
content)>&content=<the task's result JSON>`` (facts A.5; hex, lower case, is inferred).

Sent in the background right after the asyncscan answer, only to hosts on
``vendors.aliyun.callback.allowlist`` (loopback by default) or ``Settings.fetch_allowlist``; a
non-200 answer or a connection failure is retried ``callback.retries`` times, ``retry_interval_s``
real seconds apart. Each attempt (and a refusal) is a journal entry of its own, operation
``callback``. The first attempt marks the task finished (``notified`` in the store's task table, so
polls on any instance agree with what was pushed).

Delivery stays with the instance that accepted the asyncscan: only that instance schedules the
callback, so each is delivered once however many instances share the store (and is lost if that
instance stops first: then it is journalled as not sent). The running deliveries are this process's
own (``vendor_state("aliyun")["callbacks"]``, for ``callback.max_pending`` and shutdown).

Through ``simulator.outbound``, whatever the allowlists say: never to the simulator's own listeners
(its HTTP and proxy ports, under any name that resolves to this host), never to loopback for an
asyncscan that came from a remote peer, and redirects are not followed (a 3xx is an answer other
than 200: retried, then given up). A refused connection is not retried. The real service's
behaviour on a redirecting callback URL is not documented; not following is the safe reading.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from simulator import outbound
from simulator.outbound import host_allowed
from simulator.store import Record
from simulator.vendors.aliyun.policy import CallbackSettings
from simulator.vendors.aliyun.scan import CallbackJob, task_table

if TYPE_CHECKING:
    from simulator.sim import Sim


def checksum(uid: str, seed: str, content: str) -> str:
    return hashlib.sha256((uid + seed + content).encode("utf-8")).hexdigest()


def _journal(
    sim: Sim, job: CallbackJob, status: int | None, notes: list[str], started: float, error: str = ""
) -> None:
    entry: dict[str, Any] = {
        "request_id": sim.rng.hex(32),
        "time": sim.clock.now(),
        "method": "POST",
        "path": job.url[:2048],
        "query": "",
        "remote": None,
        "vendor": "aliyun",
        "operation": "callback",
        "status": status,
        "vendor_code": None,
        "credential": job.credential,
        "auth": {"outcome": None, "reason": None},
        "scenario": [],
        "scenario_source": [],
        "fault": None,
        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        "notes": notes,
    }
    if error:
        entry["error"] = error
    sim.store.journal_add(entry)


def schedule(sim: Sim, jobs: list[CallbackJob], cs: CallbackSettings, requester: str | None) -> None:
    """Start delivering ``jobs`` on the running loop (references kept until they finish); ``requester``:
    the peer address of the asyncscan request."""
    if not jobs:
        return
    running: set[asyncio.Task[None]] = sim.state.vendor_state("aliyun").setdefault("callbacks", set())
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    for job in jobs:
        if len(running) >= cs.max_pending:
            why = f"{len(running)} pending, at most {cs.max_pending} (callback.max_pending)"
            _journal(sim, job, None, [f"callback for task {job.task_id} not sent: {why}"], started)
            continue
        t = loop.create_task(deliver(sim, job, cs, requester))
        running.add(t)
        t.add_done_callback(running.discard)


async def deliver(sim: Sim, job: CallbackJob, cs: CallbackSettings, requester: str | None) -> None:
    started = time.perf_counter()
    host = urlsplit(job.url).hostname or ""
    allowed = cs.allowlist + sim.settings.fetch_allowlist
    if not host_allowed(host, allowed):
        _journal(
            sim,
            job,
            None,
            [
                f"callback for task {job.task_id} not sent: host {host!r} is not on vendors.aliyun.callback.allowlist "
                "or Settings.fetch_allowlist"
            ],
            started,
        )
        return
    form = {"checksum": checksum(job.uid, job.seed, job.content), "content": job.content}
    await task_table(sim).update(job.task_id, _notified)
    attempts = cs.retries + 1
    try:
        await _attempts(sim, job, cs, form, attempts, outbound.Guard(allowed, requester))
    except asyncio.CancelledError:
        _journal(sim, job, None, [f"callback for task {job.task_id} not sent: the simulator is shutting down"],
                 started, error="cancelled at shutdown")  # fmt: skip
        raise


def _notified(task: Record) -> Record:
    task["notified"] = True
    return task


async def cancel_pending(sim: Sim) -> None:
    """Graceful shutdown: every callback still waiting (to send or to retry) is journalled as not sent."""
    pending = list(sim.state.vendor_state("aliyun").get("callbacks", ()))
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def _attempts(
    sim: Sim,
    job: CallbackJob,
    cs: CallbackSettings,
    form: dict[str, str],
    attempts: int,
    guard: outbound.Guard,
) -> None:
    for attempt in range(1, attempts + 1):
        started = time.perf_counter()
        status: int | None = None
        error = ""
        try:
            async with (
                outbound.session(guard, cs.timeout_s) as session,
                session.post(job.url, data=form, allow_redirects=False) as resp,
            ):
                status = resp.status
                await resp.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if guard.refusals:
                why = f"callback for task {job.task_id} not sent: {guard.refusals[-1]}"
                _journal(sim, job, None, [why], started, error="refused")
                return
        notes = [
            f"callback attempt {attempt}/{attempts} for task {job.task_id}",
            f"checksum {form['checksum']} = sha256(uid {job.uid} + seed {job.seed!r} + content)",
        ]
        if status != 200:
            redirect = " (redirects are not followed)" if status in outbound.REDIRECTS else ""
            notes.append(
                "not HTTP 200: "
                + (error or f"HTTP {status}{redirect}")
                + ("; will retry" if attempt < attempts else "; giving up")
            )
        _journal(sim, job, status, notes, started, error)
        if status == 200:
            return
        if attempt < attempts:
            await asyncio.sleep(cs.retry_interval_s)
