"""Issue 12 items 8 and 9: what a journal read, a journal export and a compressed body cost the server.

    python bench/journal_gzip.py journal    # GET /__modsim/journal?limit=1 etc. on a full journal
    python bench/journal_gzip.py har        # full HAR export of a full journal: peak RSS, loop stalls
    python bench/journal_gzip.py gzip       # ordinary requests' latency while 40 gzip bombs run

``journal`` runs the simulator in this process (``simulator.testing.ThreadedServer``) so that it can
count the entries decoded (``json.loads`` calls in ``simulator.state``); the journal is filled with
10,000 copies of real entries (a Baidu token fetch and a face_audit with a 30 KB JPEG). ``har`` and
``gzip`` start ``python -m simulator serve`` as its own process (bench/run.py's ``spawn``), pinned to
one core when there are two, and drive it over loopback: ``har`` with 10,000 real face_audit
requests, then one export read in 64 KB pieces while another thread times ``/__modsim/health``
every 10 ms; the peak RSS is VmHWM after resetting it (``/proc/PID/clear_refs``). ``gzip`` measures
face_audit requests (30 KB JPEG, 4 sequential clients) alone, then beside 40 clients each sending,
in a loop, a 32 KB gzip body that inflates to the 32 MiB core cap, to Baidu face_audit, showapi
2054-1, itapi and Alibaba Cloud image scan in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import run
import workload

ENTRIES = 10_000
BOMB_BYTES = 32 * 1024 * 1024


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def get(port: int, target: str, timeout: float = 120.0) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


# --- journal ----------------------------------------------------------------------------------------


class CountingJson:
    """``json`` with ``loads`` counted: stands in for ``simulator.state.json``."""

    def __init__(self) -> None:
        self.calls = 0

    def loads(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return json.loads(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(json, name)


def bench_journal(rounds: int) -> dict[str, Any]:
    import simulator.state as state_module
    from simulator.settings import Settings
    from simulator.testing import ThreadedServer

    counter = CountingJson()
    out: dict[str, Any] = {"entries": ENTRIES}
    with ThreadedServer(Settings(seed=0)) as server:
        port = server.port
        token_query = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": "demo-baidu-api-key",
                "client_secret": "demo-baidu-secret-key",
            }
        )
        status, raw, _ = get(port, f"{workload.TOKEN}?{token_query}")
        token = json.loads(raw)["access_token"]
        image = workload_image()
        body = ("configId=1&images=" + quote(image, safe="")).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(
            "POST",
            f"{workload.FACE_AUDIT}?access_token={quote(token, safe='')}",
            body=body,
            headers={"Content-Type": workload.FORM},
        )
        conn.getresponse().read()
        conn.close()

        def fill() -> int:
            journal = server.sim.state.journal
            templates = journal.query()
            journal.clear()
            for i in range(ENTRIES):
                entry = dict(templates[i % len(templates)])
                entry["request_id"] = f"{i:032x}"
                journal.add(entry)
            return len(journal)

        out["filled"] = server.call(fill)
        last = server.call(lambda: server.sim.state.journal._seq)
        state_module.json = counter  # type: ignore[assignment]
        try:
            targets = {
                "limit=1": "/__modsim/journal?limit=1",
                "operation=token&limit=1": "/__modsim/journal?operation=token&limit=1",
                "vendor=baidu&limit=50": "/__modsim/journal?vendor=baidu&limit=50",
                "request_id (one entry)": f"/__modsim/journal?request_id={ENTRIES - 17:032x}",
                "since=<last-5>": f"/__modsim/journal?since={last - 5}",
            }
            for name, target in targets.items():
                times, decoded, entries = [], [], 0
                for _ in range(rounds):
                    counter.calls = 0
                    t0 = time.perf_counter()
                    status, raw, _ = get(port, target)
                    times.append(time.perf_counter() - t0)
                    decoded.append(counter.calls)
                    entries = len(json.loads(raw)["entries"]) if status == 200 else -1
                out[name] = {
                    "status": status,
                    "entries_returned": entries,
                    "entries_decoded": max(decoded),
                    "median_ms": round(statistics.median(times) * 1000, 2),
                    "min_ms": round(min(times) * 1000, 2),
                }
                log(f"  {name}: {out[name]}")
        finally:
            state_module.json = json
    return out


def workload_image() -> str:
    import base64

    return base64.b64encode(run.bench_image()).decode()


# --- har --------------------------------------------------------------------------------------------


async def fill_over_http(base: str, ctx: workload.Context, n: int, concurrency: int = 16) -> int:
    import aiohttp

    req = workload.baidu_face_audit(ctx)
    done = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while done < n:
            done += 1
            async with session.post(base + req.target, data=req.body, headers=req.headers) as resp:
                await resp.read()

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return done


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Pinger(threading.Thread):
    """GET /__modsim/health every ``interval`` s on a kept-alive connection; the slowest answers."""

    def __init__(self, port: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.port, self.interval = port, interval
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                conn.request("GET", "/__modsim/health")
                conn.getresponse().read()
                self.latencies.append(time.perf_counter() - t0)
                time.sleep(self.interval)
        finally:
            conn.close()


def bench_har(workdir: Path, cpus: run.Cpus) -> dict[str, Any]:
    port = run.free_port()
    server = run.spawn("simulator", run.simulator_argv(port), port, workdir, cpus)
    try:
        ctx, _ = run.setup_simulator(server, run.bench_image())
        t0 = time.perf_counter()
        asyncio.run(fill_over_http(server.base, ctx, ENTRIES))
        log(f"  filled in {time.perf_counter() - t0:.1f} s")
        health = run.admin(server.base, "GET", "/health")
        out: dict[str, Any] = {"journal_entries": health.get("journal_entries")}
        time.sleep(0.5)
        out["rss_before_mb"] = server.rss_mb()
        out["peak_reset"] = reset_peak(server.proc.pid)
        out["peak_before_mb"] = server.peak_mb()
        pinger = Pinger(port)
        pinger.start()
        time.sleep(0.3)
        before = len(pinger.latencies)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        t0 = time.perf_counter()
        conn.request("GET", "/__modsim/journal?format=har")
        resp = conn.getresponse()
        first_byte = time.perf_counter() - t0
        size = 0
        tail = b""
        while True:
            piece = resp.read(65536)
            if not piece:
                break
            size += len(piece)
            tail = (tail + piece)[-16:]
        elapsed = time.perf_counter() - t0
        conn.close()
        during = pinger.latencies[before:]
        pinger.stop.set()
        pinger.join(5)
        out.update(
            {
                "status": resp.status,
                "chunked": resp.getheader("Transfer-Encoding") == "chunked",
                "har_mb": round(size / 2**20, 1),
                "export_s": round(elapsed, 2),
                "first_byte_ms": round(first_byte * 1000, 1),
                "peak_rss_mb": server.peak_mb(),
                "rss_after_mb": server.rss_mb(),
                "health_pings_during": len(during),
                "health_max_ms": round(max(during) * 1000, 1) if during else None,
                "health_p50_ms": round(statistics.median(during) * 1000, 2) if during else None,
            }
        )
        out["peak_growth_mb"] = round(out["peak_rss_mb"] - out["rss_before_mb"], 1)
        return out
    finally:
        server.stop()


# --- gzip -------------------------------------------------------------------------------------------


def gzip_bytes(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def bombs(ctx: workload.Context) -> list[tuple[str, dict[str, str], bytes]]:
    filler = b"A" * BOMB_BYTES
    form = {"Content-Type": workload.FORM, "Content-Encoding": "gzip"}
    return [
        (
            f"{workload.FACE_AUDIT}?access_token={quote(ctx.baidu_token, safe='')}",
            form,
            gzip_bytes(b"configId=1&images=" + filler),
        ),
        ("/2054-1", form, gzip_bytes(b"showapi_appid=199999&images=" + filler)),
        (
            "/api/badword/pic?key=bench-itapi-key",
            form,
            gzip_bytes(b"type=porn&sync=yes&data=" + filler),
        ),
        (
            "/green/image/scan",
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            gzip_bytes(b'{"scenes": ["porn"], "tasks": [{"url": "' + filler + b'"}]}'),
        ),
    ]


def answer_code(raw: bytes) -> Any:
    try:
        body = json.loads(raw)
    except ValueError:
        return raw[:40]
    for key in ("error_code", "showapi_res_code", "code"):
        if isinstance(body, dict) and key in body:
            return body[key]
    return None


async def ordinary_load(
    base: str, ctx: workload.Context, seconds: float, bomb_list: list[Any], n_bombers: int
) -> dict[str, Any]:
    import aiohttp

    req = workload.baidu_face_audit(ctx)
    latencies: list[float] = []
    bomb_answers: dict[str, int] = {}
    bombs_sent = 0
    stop = asyncio.Event()

    async def ordinary(session: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            async with session.post(base + req.target, data=req.body, headers=req.headers) as resp:
                await resp.read()
            latencies.append(time.perf_counter() - t0)

    async def bomber(session: aiohttp.ClientSession, i: int) -> None:
        nonlocal bombs_sent
        k = i
        while not stop.is_set():
            target, headers, body = bomb_list[k % len(bomb_list)]
            k += 1
            async with session.post(base + target, data=body, headers=headers) as resp:
                raw = await resp.read()
            bombs_sent += 1
            key = f"{target.split('?')[0]} HTTP {resp.status} code {answer_code(raw)}"
            bomb_answers[key] = bomb_answers.get(key, 0) + 1

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = [asyncio.create_task(bomber(session, i)) for i in range(n_bombers)]
        if n_bombers:
            await asyncio.sleep(1.0)  # let the bombs pile up first
        tasks += [asyncio.create_task(ordinary(session)) for _ in range(4)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks)
    lat = sorted(latencies)
    return {
        "bombers": n_bombers,
        "ordinary_requests": len(lat),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1) if lat else None,
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
        "bombs_answered": bombs_sent,
        "bomb_answers": bomb_answers,
    }


def bench_gzip(workdir: Path, cpus: run.Cpus, seconds: float) -> dict[str, Any]:
    port = run.free_port()
    server = run.spawn("simulator", run.simulator_argv(port), port, workdir, cpus)
    try:
        ctx, _ = run.setup_simulator(server, run.bench_image())
        bomb_list = bombs(ctx)
        log(f"  bomb sizes on the wire: {[len(b) for _, _, b in bomb_list]} bytes")
        out: dict[str, Any] = {"bomb_wire_bytes": [len(b) for _, _, b in bomb_list]}
        out["alone"] = asyncio.run(ordinary_load(server.base, ctx, seconds, bomb_list, 0))
        log(f"  alone: {out['alone']}")
        out["with_40_bombers"] = asyncio.run(ordinary_load(server.base, ctx, seconds, bomb_list, 40))
        log(f"  with 40 bombers: {out['with_40_bombers']}")
        out["rss_after_mb"] = server.rss_mb()
        out["peak_rss_mb"] = server.peak_mb()
        return out
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("journal", "har", "gzip"))
    parser.add_argument("--rounds", type=int, default=5, help="journal: requests per query")
    parser.add_argument("--seconds", type=float, default=10.0, help="gzip: length of each phase")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server to its own core")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="modsim-bench-") as tmp:
        if args.mode == "journal":
            result = bench_journal(args.rounds)
        else:
            cpus = run.Cpus(not args.no_pin)
            if args.mode == "har":
                result = bench_har(Path(tmp), cpus)
            else:
                result = bench_gzip(Path(tmp), cpus, args.seconds)
    text = json.dumps({"mode": args.mode, **result}, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
