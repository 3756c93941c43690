"""Issue 12 items 3 and 4: what the face library and the bounded stores cost, before and after.

    python bench/hardening.py facelib|tokens|stores [--json FILE]

The simulator runs in this process on a real loopback socket (``simulator.testing.ThreadedServer``,
its own thread and event loop); requests go over HTTP from the main thread, signed as a client signs
them (``bench/workload.py``). State too large to build through the API on the old code (75,000
groups on one person, 100,000 tokens) is built on the server's loop with the model's own functions.
Runs against any version of the tree: run it in a checkout of the old code for the "before" numbers.

- ``facelib``: AddGroups with 5k/10k/20k/40k new ids on a fresh person, and the worst
  ``/__modsim/health`` latency meanwhile; DeleteGroups with 5k ids on a person with 75k groups. The
  face-library limits (100 groups per account, 100 ids per request) are raised for this, so the cost
  of the operations is what is measured; with the default limits such requests are answered 400 at once.
- ``tokens``: with 100,000 Baidu tokens stored (the cap), the event-loop time of issuing one more, the
  HTTP latency of one token call (median of 20), and the p50 of 16 concurrent token calls (10 rounds).
- ``stores``: with 1,000 queued outcomes for another vendor, a queue look-up and an Aliyun scan of 100
  tasks; forgetting 100,000 expired nonces after a clock jump; 20,000 Aliyun image-rate checks and
  100,000 quota stamps under a frozen clock.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import workload

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the simulator of this checkout
    sys.path.insert(1, str(REPO))

from simulator.context import RequestCtx  # noqa: E402
from simulator.settings import Settings  # noqa: E402
from simulator.testing import ThreadedServer  # noqa: E402

AK, SECRET, UID = "demo-aliyun-ak", "demo-aliyun-secret", "1234567890123456"
BAIDU = {
    "grant_type": "client_credentials",
    "client_id": "demo-baidu-api-key",
    "client_secret": "demo-baidu-secret-key",
}


def ctx(path: str = "/") -> RequestCtx:
    return RequestCtx("bench", 0.0, "POST", path, "", None)


@contextmanager
def server(vendors: dict[str, Any] | None = None) -> Iterator[ThreadedServer]:
    with tempfile.TemporaryDirectory() as d:
        fixtures: tuple[Path, ...] = ()
        if vendors:
            (Path(d) / "bench.yaml").write_text(json.dumps({"vendors": vendors}), encoding="utf-8")
            fixtures = (Path(d),)
        srv = ThreadedServer(Settings(seed=0, fixtures=fixtures)).start()
        try:
            yield srv
        finally:
            srv.stop()


def timed(srv: ThreadedServer, fn: Callable[[], Any]) -> float:
    """Seconds ``fn`` holds the server's event loop."""

    def run() -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    return srv.call(run)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


# ------------------------------------------------------------------------------------------------
# facelib


async def green(
    session: aiohttp.ClientSession, base: str, path: str, body: Any, action: str
) -> tuple[float, Any]:
    raw = json.dumps(body).encode()
    date = workload.http_date(time.time())
    req = workload.aliyun_signed(AK, SECRET, path, "RegionId=cn-shanghai", raw, action, date, "cn-shanghai")
    t0 = time.perf_counter()
    async with session.request(req.method, base + req.target, headers=req.headers, data=req.body) as resp:
        out = await resp.json(content_type=None)
    return time.perf_counter() - t0, out


async def with_health(session: aiohttp.ClientSession, base: str, work: Any) -> tuple[Any, float]:
    """``work``'s result and the worst /__modsim/health latency while it ran."""
    done = asyncio.Event()
    worst = 0.0

    async def poll() -> None:
        nonlocal worst
        while not done.is_set():
            t0 = time.perf_counter()
            async with session.get(base + "/__modsim/health") as resp:
                await resp.read()
            worst = max(worst, time.perf_counter() - t0)
            await asyncio.sleep(0.01)

    poller = asyncio.create_task(poll())
    await asyncio.sleep(0.02)
    try:
        result = await work
    finally:
        done.set()
        await poller
    return result, worst


def _raised_limits() -> dict[str, Any]:
    from simulator.vendors.aliyun.policy import Limits

    names = {f.name for f in dataclasses.fields(Limits)}
    return {"qps": None, **{k: 10**6 for k in ("max_groups", "max_ids") if k in names}}


def _seed_groups(srv: ThreadedServer, pid: str, ids: list[str]) -> None:
    from simulator.vendors.aliyun import faces

    def seed() -> None:
        if hasattr(faces, "Library"):  # indexed library
            lib = faces.library(srv.sim, UID)
            lib.join(lib.persons[pid], ids)
        else:  # the old list-based person
            faces.library(srv.sim, UID)[pid].groups.extend(ids)

    srv.call(seed)


async def _facelib(srv: ThreadedServer) -> dict[str, Any]:
    out: dict[str, Any] = {"add_groups": {}, "limits": _raised_limits()}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as s:
        for n in (5000, 10000, 20000, 40000):
            pid = f"add{n}"
            _, r = await green(
                s, srv.url, "/green/sface/person/add", {"personId": pid, "groupIds": ["g"]}, "AddPerson"
            )
            assert r["data"]["code"] == 200, r
            ids = [f"g{n}-{i}" for i in range(n)]
            (took, r), health = await with_health(
                s,
                srv.url,
                green(
                    s,
                    srv.url,
                    "/green/sface/person/groups/add",
                    {"personId": pid, "groupIds": ids},
                    "AddGroups",
                ),
            )
            assert r["data"]["code"] == 200 and len(r["data"]["groupIds"]) == n + 1, str(r)[:200]
            out["add_groups"][n] = {"request_ms": ms(took), "worst_health_ms": ms(health)}
            print(
                f"AddGroups {n:>6} ids: {ms(took):>10.1f} ms   worst /__modsim/health {ms(health):>10.1f} ms"
            )

        _, r = await green(
            s, srv.url, "/green/sface/person/add", {"personId": "big", "groupIds": ["g"]}, "AddPerson"
        )
        _seed_groups(srv, "big", [f"b{i}" for i in range(75000)])
        gone = [f"b{i}" for i in range(0, 75000, 15)]  # 5,000 of them
        (took, r), health = await with_health(
            s,
            srv.url,
            green(
                s,
                srv.url,
                "/green/sface/person/groups/delete",
                {"personId": "big", "groupIds": gone},
                "DeleteGroups",
            ),
        )
        assert r["data"]["code"] == 200 and len(r["data"]["groupIds"]) == 75001 - 5000, str(r)[:200]
        out["delete_groups_5k_of_75k"] = {"request_ms": ms(took), "worst_health_ms": ms(health)}
        print(
            f"DeleteGroups 5000 ids of 75001: {ms(took):.1f} ms   worst /__modsim/health {ms(health):.1f} ms"
        )
    return out


def facelib() -> dict[str, Any]:
    result: dict[str, Any] = {}
    with server({"aliyun": {"limits": _raised_limits()}}) as srv:
        result = asyncio.run(_facelib(srv))
    from simulator.vendors.aliyun.policy import Limits

    if "max_ids" in {f.name for f in dataclasses.fields(Limits)}:
        with server() as srv:

            async def default_limits() -> float:
                async with aiohttp.ClientSession() as s:
                    await green(
                        s,
                        srv.url,
                        "/green/sface/person/add",
                        {"personId": "p", "groupIds": ["g"]},
                        "AddPerson",
                    )
                    ids = [f"g{i}" for i in range(5000)]
                    took, r = await green(
                        s,
                        srv.url,
                        "/green/sface/person/groups/add",
                        {"personId": "p", "groupIds": ids},
                        "AddGroups",
                    )
                    assert (r["code"], r["msg"]) == (400, "BAD_REQUEST"), r
                    return took

            took = asyncio.run(default_limits())
            result["default_limits_add_groups_5k_ms"] = ms(took)
            print(f"default limits: AddGroups with 5000 ids answered 400 BAD_REQUEST in {ms(took):.1f} ms")
    return result


# ------------------------------------------------------------------------------------------------
# tokens


def _fill_tokens(srv: ThreadedServer, n: int) -> None:
    from simulator.vendors.baidu import auth

    for _ in range(0, n, 10000):
        srv.call(
            lambda: [auth.issue_token(srv.sim, ctx("/oauth/2.0/token"), dict(BAIDU)) for _ in range(10000)]
        )


async def _token_calls(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s:

        async def one() -> float:
            t0 = time.perf_counter()
            async with s.get(base + "/oauth/2.0/token", params=BAIDU) as resp:
                assert resp.status == 200, await resp.text()
                await resp.read()
            return time.perf_counter() - t0

        single = [await one() for _ in range(20)]
        concurrent: list[float] = []
        for _ in range(10):
            concurrent += await asyncio.gather(*(one() for _ in range(16)))
    return {
        "one_call_median_ms": ms(statistics.median(single)),
        "concurrent_16_p50_ms": ms(statistics.median(concurrent)),
        "concurrent_16_max_ms": ms(max(concurrent)),
    }


def tokens() -> dict[str, Any]:
    from simulator.vendors.baidu import auth

    with server() as srv:
        t0 = time.perf_counter()
        _fill_tokens(srv, 100_000)
        fill_s = time.perf_counter() - t0
        loop_s = [
            timed(srv, lambda: auth.issue_token(srv.sim, ctx("/oauth/2.0/token"), dict(BAIDU)))
            for _ in range(20)
        ]
        out = {
            "stored": srv.call(lambda: len(auth.tokens(srv.sim))),
            "fill_100k_s": round(fill_s, 2),
            "issue_one_event_loop_ms": ms(statistics.median(loop_s)),
            **asyncio.run(_token_calls(srv.url)),
        }
        revoke_s = timed(srv, lambda: auth.revoke(srv.sim, api_key="demo-baidu-cloud-key"))
        out["revoke_by_api_key_ms"] = ms(revoke_s)
    for k, v in out.items():
        print(f"{k:>28}: {v}")
    return out


# ------------------------------------------------------------------------------------------------
# stores


async def _scan_100(base: str) -> float:
    tasks = [
        {"dataId": f"d{i}", "url": f"https://img.invalid/{i}.png#modsim=clean_avatar"} for i in range(100)
    ]
    async with aiohttp.ClientSession() as s:
        took = []
        for _ in range(5):
            t, r = await green(
                s, base, "/green/image/scan", {"scenes": ["porn"], "tasks": tasks}, "ImageSyncScan"
            )
            assert r["code"] == 200, str(r)[:200]
            took.append(t)
    return statistics.median(took)


def stores() -> dict[str, Any]:
    from simulator.quotas import Quotas
    from simulator.state import QueuedOutcome
    from simulator.vendors.aliyun import gateway, scan
    from simulator.vendors.aliyun.policy import GatewaySettings, Limits

    out: dict[str, Any] = {}
    with server({"aliyun": {"limits": {"qps": None}}}) as srv:
        base_scan = asyncio.run(_scan_100(srv.url))

        def fill_queue() -> None:
            for _ in range(1000):
                srv.sim.state.queue.append(QueuedOutcome(scenario="porn", vendor="itapi"))

        srv.call(fill_queue)
        miss = timed(
            srv, lambda: [srv.sim.state.take_queued("baidu", "face_audit", "k") for _ in range(1000)]
        )
        out["queue_1000_other_vendor_take_us"] = round(miss * 1000, 2)  # per call (1,000 calls)
        out["aliyun_scan_100_tasks_ms"] = {
            "empty_queue": ms(base_scan),
            "1000_queued_for_itapi": ms(asyncio.run(_scan_100(srv.url))),
        }

        gs = GatewaySettings(nonce_ttl_s=900, nonce_cache_size=100_000)
        srv.call(lambda: [gateway.nonce_used(srv.sim, gs, f"n{i}", 1000.0) for i in range(100_000)])
        out["nonce_first_call_after_clock_jump_ms"] = ms(
            timed(srv, lambda: gateway.nonce_used(srv.sim, gs, "x", 10_000.0))
        )

        limits = Limits(qps=10**9)

        def qps_calls() -> None:
            for _ in range(20_000):
                scan.check_qps(srv.sim, ctx(), UID, 1, limits)

        srv.call(srv.sim.clock.freeze)
        out["aliyun_check_qps_20k_frozen_clock_ms"] = ms(timed(srv, qps_calls))
        out["aliyun_check_qps_one_more_us"] = round(
            timed(srv, lambda: scan.check_qps(srv.sim, ctx(), UID, 1, limits)) * 1e6, 1
        )

    quotas = Quotas()
    t0 = time.perf_counter()
    for _ in range(100_000):
        quotas.consume("baidu", "k", 100.0)
    out["quota_100k_consumes_frozen_ms"] = ms(time.perf_counter() - t0)
    out["quota_window_entries_after"] = len(quotas.usage("baidu", "k").recent)
    for k, v in out.items():
        print(f"{k:>40}: {v}")
    return out


ITEMS: dict[str, Callable[[], dict[str, Any]]] = {"facelib": facelib, "tokens": tokens, "stores": stores}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("item", choices=sorted(ITEMS))
    p.add_argument("--json", type=Path, help="also write the numbers here")
    args = p.parse_args(argv)
    result = ITEMS[args.item]()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
