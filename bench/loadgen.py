"""The bundled load generator (used when wrk is not installed, and for count- or rate-bound phases).

asyncio + aiohttp client, ``--connections`` concurrent keep-alive connections, each running requests
back to back (closed loop) or, with ``--rate``, at a fixed aggregate rate (open loop: latency counts
from the scheduled start, so a stalled server is not hidden). Every loop is bounded twice: by
``--duration`` (seconds, always) and by ``--requests`` (when given). Prints one JSON object.

    python bench/loadgen.py --base http://127.0.0.1:8080 --context ctx.json \\
        --ops baidu_face_audit --connections 32 --warmup 2 --duration 10

``--context`` is the JSON run.py writes (image, Baidu token, clock offset, credentials). Signed
operations (showapi, Aliyun) are signed afresh for every request, as a real client does;
``--fixed`` builds each request once instead (what wrk replays). Run it in its own process (run.py
pins it to a different core than the server) so it never shares the server's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from workload import ALL_OPERATIONS, Context, Operation, Request
from yarl import URL

#: bucket growth of the latency histogram: 0.5 % relative precision, any range
_GROWTH = 1.01
_LOG_GROWTH = math.log(_GROWTH)
#: a request taking longer than this is an error (bounds every await)
REQUEST_TIMEOUT_S = 30.0


class Histogram:
    """Log-bucketed latencies (microseconds), HdrHistogram-style: constant memory, ~0.5 % error."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.n = 0
        self.total_s = 0.0
        self.max_s = 0.0

    def add(self, seconds: float) -> None:
        us = max(seconds * 1e6, 1.0)
        self.counts[int(math.log(us) / _LOG_GROWTH)] += 1
        self.n += 1
        self.total_s += seconds
        self.max_s = max(self.max_s, seconds)

    def percentile_ms(self, p: float) -> float | None:
        if not self.n:
            return None
        rank = max(1, math.ceil(p / 100 * self.n))
        seen = 0
        for i in sorted(self.counts):
            seen += self.counts[i]
            if seen >= rank:
                return round(min(float(_GROWTH ** (i + 0.5)) / 1000, self.max_s * 1000), 3)
        return round(self.max_s * 1000, 3)

    def summary(self) -> dict[str, Any]:
        return {
            "p50_ms": self.percentile_ms(50),
            "p90_ms": self.percentile_ms(90),
            "p99_ms": self.percentile_ms(99),
            "max_ms": round(self.max_s * 1000, 3) if self.n else None,
            "mean_ms": round(self.total_s / self.n * 1000, 3) if self.n else None,
        }


@dataclass
class Plan:
    base: str
    ops: list[Operation]
    ctx: Context
    connections: int
    warmup_s: float
    duration_s: float
    max_requests: int | None
    rate: float | None
    fixed: bool
    #: check each answer is the vendor's success (False: HTTP 200 is enough, for the reference)
    check_body: bool = True


@dataclass
class Stats:
    issued: int = 0
    measured: int = 0
    hist: Histogram = field(default_factory=Histogram)
    per_op: dict[str, Histogram] = field(default_factory=dict)
    status: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    bad: Counter[str] = field(default_factory=Counter)
    bad_samples: list[str] = field(default_factory=list)
    first_measured: float | None = None
    last_done: float = 0.0


class Runner:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.stats = Stats(per_op={op.name: Histogram() for op in plan.ops})
        self.fixed: dict[str, Request] = {op.name: op.build(plan.ctx) for op in plan.ops}
        self.start = 0.0
        self.warm_end = 0.0
        self.end = 0.0

    def _request(self, op: Operation) -> Request:
        return op.build(self.plan.ctx) if op.signed and not self.plan.fixed else self.fixed[op.name]

    def _next_slot(self) -> float | None:
        """The next request's start time, or None when the run is over (time or count)."""
        p, s = self.plan, self.stats
        if p.max_requests is not None and s.issued >= p.max_requests:
            return None
        slot = self.start + s.issued / p.rate if p.rate else time.perf_counter()
        if slot >= self.end:
            return None
        s.issued += 1
        return slot

    async def worker(self, wid: int, session: aiohttp.ClientSession) -> None:
        ops, s = self.plan.ops, self.stats
        i = wid
        while True:
            slot = self._next_slot()
            if slot is None:
                return
            wait = slot - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            op = ops[i % len(ops)]
            i += 1
            req = self._request(op)
            t0 = slot if self.plan.rate else time.perf_counter()
            try:
                async with session.request(
                    req.method,
                    URL(self.plan.base + req.target, encoded=True),
                    data=req.body,
                    headers=req.headers,
                ) as resp:
                    body = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                s.errors[type(exc).__name__] += 1
                continue
            t1 = time.perf_counter()
            s.status[status] += 1
            if not (op.ok(status, body) if self.plan.check_body else status == 200):
                s.bad[op.name] += 1
                if len(s.bad_samples) < 5:
                    s.bad_samples.append(f"{op.name}: HTTP {status}: {body[:300].decode('utf-8', 'replace')}")
            if t0 >= self.warm_end and t1 <= self.end:
                if s.first_measured is None:
                    s.first_measured = t0
                s.measured += 1
                s.hist.add(t1 - t0)
                s.per_op[op.name].add(t1 - t0)
                s.last_done = t1

    async def run(self) -> dict[str, Any]:
        p = self.plan
        connector = aiohttp.TCPConnector(limit=p.connections, limit_per_host=p.connections)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        ) as session:
            self.start = time.perf_counter()
            self.warm_end = self.start + p.warmup_s
            self.end = self.warm_end + p.duration_s
            workers = [asyncio.create_task(self.worker(w, session)) for w in range(p.connections)]
            # a worker's last request is bounded by the client timeout; this bounds the whole run
            _, pending = await asyncio.wait(
                workers, timeout=p.warmup_s + p.duration_s + REQUEST_TIMEOUT_S + 5
            )
            for task in pending:
                task.cancel()
        return self.report(time.perf_counter())

    def report(self, finished: float) -> dict[str, Any]:
        p, s = self.plan, self.stats
        if p.max_requests is not None and p.warmup_s == 0:
            # a count-bound run: the window is from the start to the last answer
            window = max(s.last_done - self.start, 1e-9)
        else:
            window = p.duration_s
        out: dict[str, Any] = {
            "tool": "python",
            "ops": [op.name for op in p.ops],
            "connections": p.connections,
            "rate": p.rate,
            "signed_per_request": not p.fixed,
            "warmup_s": p.warmup_s,
            "window_s": round(window, 3),
            "issued": s.issued,
            "requests": s.measured,
            "rps": round(s.measured / window, 1),
            **s.hist.summary(),
            "status": {str(k): v for k, v in sorted(s.status.items())},
            "errors": dict(s.errors),
            "bad": dict(s.bad),
            "bad_samples": s.bad_samples,
            "elapsed_s": round(finished - self.start, 3),
        }
        if len(p.ops) > 1:
            out["per_op"] = {name: {"requests": h.n, **h.summary()} for name, h in s.per_op.items()}
        return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="modsim benchmark load generator (asyncio + aiohttp)")
    ap.add_argument("--base", required=True, help="http://HOST:PORT")
    ap.add_argument("--context", type=Path, required=True, help="the context JSON run.py writes")
    ap.add_argument("--ops", required=True, help="comma-separated operations (round robin)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds not measured (default 2)")
    ap.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds, a hard bound (default 10)"
    )
    ap.add_argument("--requests", type=int, default=None, help="stop after this many requests")
    ap.add_argument("--rate", type=float, default=None, help="fixed aggregate rate, requests/s (open loop)")
    ap.add_argument("--fixed", action="store_true", help="build each request once (as wrk replays it)")
    ap.add_argument(
        "--expect",
        choices=["vendor", "http200"],
        default="vendor",
        help="what counts as a success: the vendor's success body (default) or any HTTP 200 (reference)",
    )
    args = ap.parse_args(argv)
    unknown = [o for o in args.ops.split(",") if o not in ALL_OPERATIONS]
    if unknown:
        ap.error(f"unknown operations {unknown}; known: {', '.join(ALL_OPERATIONS)}")
    if args.connections < 1 or args.duration <= 0 or args.warmup < 0:
        ap.error("--connections >= 1, --duration > 0, --warmup >= 0")
    if args.rate is not None and args.rate <= 0:
        ap.error("--rate must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = Plan(
        base=args.base.rstrip("/"),
        ops=[ALL_OPERATIONS[o] for o in args.ops.split(",")],
        ctx=Context.from_json(args.context.read_text()),
        connections=args.connections,
        warmup_s=args.warmup,
        duration_s=args.duration,
        max_requests=args.requests,
        rate=args.rate,
        fixed=args.fixed,
        check_body=args.expect == "vendor",
    )
    print(json.dumps(asyncio.run(Runner(plan).run())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
