"""The modsim benchmark: the simulator against a bare-aiohttp reference, side by side, in one run.

    python bench/run.py --json OUT.json                  # the whole benchmark (about 7 min)
    python bench/run.py --soak 10 --rate 200 --json soak.json   # 10 minutes at 200 req/s: flat memory?

What it does (see bench/README.md):

1. starts the simulator as a real subprocess (``python -m simulator serve --port P --seed 0``, default
   settings, MODSIM_* variables removed) ``--cold-starts`` times, timing spawn -> first 200 on
   ``/__modsim/health``; the last one stays up. It also starts ``bench/reference.py`` twice: with the
   stdlib base64 decoder (the issue's bare handler, ``ratio_vs_reference``) and with pybase64, the
   decoder the simulator uses (``ratio_vs_same_decoder_reference``: the cost of everything else);
2. creates the benchmark's credentials through ``POST /__modsim/credentials`` (no quotas), fetches a
   Baidu token, reads the simulator clock, and checks one answer of every operation on both servers;
3. per operation, reference then simulator (then the same-decoder reference, for the operations
   with a base64 image), a warm-up then a measured phase with the same requests:
   wrk when installed (one thread, pinned to another core than the server), else bench/loadgen.py;
   after each simulator phase a sample of the journal must show only successes;
4. drives ``--requests-rss`` requests (the fast mix, bench/loadgen.py, count-bound) and reads the
   simulator's VmRSS from /proc;
5. with ``--state URL`` (and ``--workers N``, default 2): the scale phase. Baidu face_audit on the
   in-memory simulator, on one simulator process sharing the Redis at URL (a key prefix of this run's
   own, removed at the end) and on ``--workers N`` processes sharing it, in rounds; CPU per request of
   each whole process tree and of the Redis server, and the ratios to the in-memory simulator;
6. with ``--wiremock-jar``: WireMock on the same load, after ``--wiremock-warmup`` s (default 60) of
   warm-up for its JIT;
7. prints a table, writes the JSON, and says which targets are met.

Every phase is bounded in time (and the RSS phase in count); every process started here is ended here.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import scale
import workload
from scale import proc_cpu_s, proc_status_mb, tree_cpu_s
from workload import ALL_OPERATIONS, OPERATIONS, Context, Creds, Operation, Request

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LOADGEN = BENCH / "loadgen.py"
REFERENCE = BENCH / "reference.py"
#: the one setting the benchmark changes: Aliyun's per-account image rate (588 above 50 images/s)
BENCH_FIXTURES = BENCH / "fixtures"
#: what the RSS phase and the soak drive: every vendor's full pipeline, images by URL (no base64)
FAST_MIX = ("baidu_face_audit_url", "showapi_2054_1_url", "itapi_sync_url", "aliyun_image_scan")
FULL_MIX = (*OPERATIONS, "baidu_face_audit_url", "showapi_2054_1_url", "itapi_sync_url")
#: a replayed signed request stays valid this long (showapi: 600 s window, Aliyun: 900 s)
SIGNED_REPLAY_S = 500.0
START_TIMEOUT_S = 30.0
# make_image and Settings come from the simulator in this checkout (the one the benchmark starts)
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))
TARGETS = {
    "ratio_vs_reference": 0.8,
    "p99_ms": 25.0,
    "cold_start_s": 1.0,
    "rss_mb_after": 150.0,
    # issue 14: the Aliyun 10-task scan against its JSON-only reference; face_audit against the
    # reference with the simulator's own base64 decoder (measured when that reference runs)
    "aliyun_ratio_vs_reference": 0.25,
    "ratio_vs_same_decoder_reference": 0.85,
    # the scale phase (``--state``, ``--workers``): Baidu face_audit req/s against one in-memory process
    "redis_1_worker_vs_memory": 0.8,
    "redis_N_workers_vs_memory": 1.6,
}
#: ``--workers`` when only ``--state`` is given
SCALE_WORKERS = 2


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """This environment without MODSIM_* (the simulator runs on its defaults)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MODSIM_")}


class Cpus:
    """Server on one core, load generator (and this process) on the others, when there are two."""

    def __init__(self, enabled: bool) -> None:
        avail = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.enabled = enabled and len(avail) >= 2
        #: every core this run may use (the ``--workers N`` phase's server: not pinned to one)
        self.all: set[int] = set(avail) if self.enabled else set()
        self.server: set[int] = {avail[0]} if self.enabled else set()
        self.client: set[int] = set(avail[1:]) if self.enabled else set()
        if self.enabled:
            os.sched_setaffinity(0, self.client)

    def pin(self, pid: int, cpus: set[int]) -> None:
        if self.enabled and cpus:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, cpus)

    def describe(self) -> dict[str, Any]:
        if not self.enabled:
            return {"pinned": False}
        return {"pinned": True, "server_cpus": sorted(self.server), "client_cpus": sorted(self.client)}


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    cold_start_s: float

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        return proc_status_mb(self.proc.pid, "VmRSS")

    def peak_mb(self) -> float:
        return proc_status_mb(self.proc.pid, "VmHWM")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def http_get_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return None
    finally:
        conn.close()


def spawn(
    name: str, argv: list[str], port: int, workdir: Path, cpus: Cpus, pin: set[int] | None = None
) -> Server:
    """Start a server; its cold start is spawn -> first 200 on /__modsim/health (polled every 2 ms).
    ``pin``: its cores (default ``cpus.server``; processes it forks later inherit them)."""
    log_path = workdir / f"{name}-{port}.log"
    with log_path.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, env=clean_env(), stdout=out, stderr=subprocess.STDOUT)
    cpus.pin(proc.pid, cpus.server if pin is None else pin)
    server = Server(name, proc, port, log_path, 0.0)
    deadline = t0 + START_TIMEOUT_S
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{server.log_tail()}")
        if http_get_status(port, "/__modsim/health", timeout=0.5) == 200:
            server.cold_start_s = round(time.perf_counter() - t0, 4)
            return server
        time.sleep(0.002)
    server.stop()
    raise RuntimeError(
        f"{name} did not answer /__modsim/health within {START_TIMEOUT_S} s:\n{server.log_tail()}"
    )


#: ``python -m SIMULATOR_MODULE serve ...`` (``--simulator-module``: A/B a patched entry point)
SIMULATOR_MODULE = ["simulator"]


def simulator_argv(port: int, extra: tuple[str, ...] = ()) -> list[str]:
    return [
        sys.executable,
        "-m",
        SIMULATOR_MODULE[0],
        "serve",
        "--port",
        str(port),
        "--seed",
        "0",
        "--fixtures",
        str(BENCH_FIXTURES),
        "--quiet",  # no console access log: the reference prints nothing either
        *extra,
    ]


def reference_argv(port: int, b64: str = "stdlib", floor: bool = False) -> list[str]:
    return [
        sys.executable,
        str(REFERENCE),
        "--port",
        str(port),
        "--b64",
        b64,
        *(["--floor"] if floor else []),
    ]


def have_pybase64() -> bool:
    try:
        import pybase64  # noqa: F401
    except ImportError:
        return False
    return True


# --- talking to the servers -----------------------------------------------------------------------


def call(base: str, req: Request, timeout: float = 30.0) -> tuple[int, bytes]:
    host, _, port = base.removeprefix("http://").partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(req.method, req.target, body=req.body or None, headers=req.headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def admin(base: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    status, raw = call(base, Request(method, "/__modsim" + path, headers, data))
    if status >= 300:
        raise RuntimeError(f"{method} /__modsim{path}: HTTP {status}: {raw[:300]!r}")
    return json.loads(raw)


def bench_image() -> bytes:
    """A synthetic JPEG (simulator.content.make_image) as close to 30 KB as its side allows."""
    from simulator.content import make_image

    lo, hi = 64, 2048
    while hi - lo > 4:  # size grows with the side: bisect on it
        mid = (lo + hi) // 2
        if len(make_image(None, "jpeg", (mid, mid))) < workload.IMAGE_BYTES:
            lo = mid
        else:
            hi = mid
    return min(
        (make_image(None, "jpeg", (s, s)) for s in range(lo, hi + 1)),
        key=lambda b: abs(len(b) - workload.IMAGE_BYTES),
    )


def setup_simulator(sim: Server, image: bytes) -> tuple[Context, list[str]]:
    """Bench credentials, a Baidu token, the clock offset; the vendors the simulator serves."""
    health = admin(sim.base, "GET", "/health")
    vendors: list[str] = list(health.get("vendors", []))
    creds = Creds()
    for body in creds.admin_bodies():
        if body["vendor"] in vendors:
            admin(sim.base, "POST", "/credentials", body)
    token = ""
    if "baidu" in vendors:
        query = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": creds.baidu_key,
                "client_secret": creds.baidu_secret,
            }
        )
        status, raw = call(sim.base, Request("GET", f"{workload.TOKEN}?{query}", {}, b""))
        if status != 200:
            raise RuntimeError(f"Baidu token: HTTP {status}: {raw[:300]!r}")
        token = json.loads(raw)["access_token"]
    clock = admin(sim.base, "GET", "/clock")
    offset = float(clock["now"]) - time.time()
    return Context(base64.b64encode(image).decode(), token, round(offset, 3), creds), vendors


def precheck(op: Operation, ctx: Context, sim: Server, ref: Server) -> str | None:
    """One answer from each server: None when both are what the benchmark expects, else why not."""
    status, body = call(sim.base, op.build(ctx))
    if not op.ok(status, body):
        return "simulator: " + workload.explain(op.name, status, body)
    if op.vendor == "aliyun" and not workload.deep_ok_aliyun(body):
        return "simulator: a task did not answer 200: " + body[:400].decode("utf-8", "replace")
    status, body = call(ref.base, op.build(ctx))
    if status != 200:
        return "reference: " + workload.explain(op.name, status, body)
    return None


def journal_check(sim: Server, op: Operation, limit: int = 50) -> dict[str, Any]:
    """The last ``limit`` journal entries of the operation: all successes (status 200, vendor code)?"""
    query = urlencode({"vendor": op.vendor, "operation": op.sim_operation, "limit": limit})
    entries = admin(sim.base, "GET", f"/journal?{query}")["entries"]
    bad = [
        e
        for e in entries
        if e.get("status") != 200 or e.get("vendor_code") not in (None, 0, 200) or e.get("error")
    ]
    out: dict[str, Any] = {"sampled": len(entries), "bad": len(bad)}
    instances = sorted({str(e["instance"]) for e in entries if e.get("instance")})
    if instances:  # a shared store names the process that served each entry
        out["instances"] = instances
    if bad:
        out["first_bad"] = {k: bad[0].get(k) for k in ("status", "vendor_code", "error", "notes")}
    return out


# --- load phases ----------------------------------------------------------------------------------


@dataclass
class Phase:
    tool: str
    requests: int
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the server's CPU time (user + system) per request over the phase, in microseconds
    cpu_us: float | None = None


def lua_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


WRK_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def wrk_script(req: Request, workdir: Path) -> Path:
    body = workdir / f"body-{abs(hash(req.target)) % 10**8}-{len(req.body)}.bin"
    body.write_bytes(req.body)
    lines = [
        f"local f = assert(io.open({lua_str(str(body))}, 'rb'))",
        "wrk.body = f:read('*a')",
        "f:close()",
        f"wrk.method = {lua_str(req.method)}",
        *(f"wrk.headers[{lua_str(k)}] = {lua_str(v)}" for k, v in req.headers.items()),
        WRK_DONE,
    ]
    script = body.with_suffix(".lua")
    script.write_text("\n".join(lines))
    return script


#: a reading taken before and after a measured phase (CPU seconds, a count); None: unavailable
Meter = Callable[[], float | None]


@dataclass
class Driver:
    """Runs load phases with wrk or bench/loadgen.py, pinned away from the server."""

    tool: str
    connections: int
    cpus: Cpus
    workdir: Path
    ctx_path: Path

    def wrk(self, base: str, req: Request, seconds: float) -> dict[str, Any]:
        script = wrk_script(req, self.workdir)
        threads = max(1, min(len(self.cpus.client) or 1, self.connections))
        argv = ["wrk", f"-t{threads}", f"-c{self.connections}", f"-d{max(1, round(seconds))}s"]
        argv += ["--timeout", "10s", "--latency", "-s", str(script), base + req.target]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.cpus.pin(proc.pid, self.cpus.client)
        try:
            out, err = proc.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        for line in out.splitlines():
            if line.startswith("WRKJSON "):
                parsed: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
                return parsed
        raise RuntimeError(f"wrk gave no result (exit {proc.returncode}): {out[-1500:]} {err[-1500:]}")

    def loadgen(
        self,
        base: str,
        ops: list[str],
        *,
        warmup: float,
        duration: float,
        requests: int | None = None,
        rate: float | None = None,
        expect: str = "vendor",
        fixed: bool = False,
        watch: Server | None = None,
        every_s: float = 2.0,
        samples: list[list[float]] | None = None,
    ) -> dict[str, Any]:
        argv = [sys.executable, str(LOADGEN), "--base", base, "--context", str(self.ctx_path)]
        argv += ["--ops", ",".join(ops), "--connections", str(self.connections)]
        argv += ["--warmup", str(warmup), "--duration", str(duration), "--expect", expect]
        if requests is not None:
            argv += ["--requests", str(requests)]
        if rate is not None:
            argv += ["--rate", str(rate)]
        if fixed:
            argv.append("--fixed")
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.cpus.pin(proc.pid, self.cpus.client)
        t0 = time.monotonic()
        deadline = t0 + warmup + duration + 90
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(every_s)
            if watch is not None and samples is not None:
                samples.append([round(time.monotonic() - t0, 1), watch.rss_mb()])
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate()
        lines = out.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"loadgen failed (exit {proc.returncode}): {err[-2000:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        return result

    def phase(
        self,
        base: str,
        op: Operation,
        ctx: Context,
        warmup: float,
        duration: float,
        expect: str,
        pid: int | None = None,
        cpu: Meter | None = None,
        meters: dict[str, Meter] | None = None,
    ) -> Phase:
        """``pid``: the server's, to read its CPU time per request (wrk: the measured part only;
        the Python load generator: warm-up included, over every request it issued). ``cpu``: another
        reading of the server's CPU seconds than ``pid``'s own (a process tree). ``meters``: more
        readings taken at the same two moments; ``extra["NAME_per_request"]`` is each one's
        difference per request (the Redis server's CPU in µs, its commands)."""
        read_cpu: Meter | None = cpu or ((lambda: proc_cpu_s(pid)) if pid else None)
        meters = meters or {}

        def snap() -> tuple[float | None, dict[str, float | None]]:
            return (read_cpu() if read_cpu else None), {k: m() for k, m in meters.items()}

        def per_request(before: dict[str, float | None], after: dict[str, float | None], n: int) -> Any:
            out: dict[str, float | None] = {}
            for k in meters:
                b, a = before[k], after[k]
                out[f"{k}_per_request"] = (
                    round((a - b) / n, 2) if a is not None and b is not None and n else None
                )
            return out

        use_wrk = self.tool == "wrk" and not (op.signed and warmup + duration > SIGNED_REPLAY_S)
        if use_wrk:
            req = op.build(ctx)  # signed now: valid for the whole phase (showapi 600 s, Aliyun 900 s)
            warm = self.wrk(base, req, warmup) if warmup > 0 else {"requests": 0}
            cpu0, m0 = snap()
            r = self.wrk(base, req, duration)
            cpu1, m1 = snap()
            secs = r["duration_us"] / 1e6
            errors = {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]}
            return Phase(
                "wrk",
                r["requests"],
                round(r["requests"] / secs, 1),
                round(r["p50_us"] / 1000, 3),
                round(r["p99_us"] / 1000, 3),
                {"p90_ms": round(r["p90_us"] / 1000, 3), "max_ms": round(r["max_us"] / 1000, 3)}
                | {"errors": errors, "warmup_requests": warm["requests"]}
                | per_request(m0, m1, r["requests"]),
                _per_request_us(cpu0, cpu1, r["requests"]),
            )
        cpu0, m0 = snap()
        r = self.loadgen(base, [op.name], warmup=warmup, duration=duration, expect=expect)
        cpu1, m1 = snap()
        errors = dict(r["errors"]) | ({"bad_answers": sum(r["bad"].values())} if r["bad"] else {})
        extra: dict[str, Any] = {"p90_ms": r["p90_ms"], "max_ms": r["max_ms"], "errors": errors}
        if r["bad_samples"]:
            extra["bad_samples"] = r["bad_samples"][:2]
        extra["warmup_requests"] = r["issued"] - r["requests"]
        extra |= per_request(m0, m1, r["issued"])
        cpu_us = _per_request_us(cpu0, cpu1, r["issued"])
        return Phase("python", r["requests"], r["rps"], r["p50_ms"], r["p99_ms"], extra, cpu_us)


# --- the benchmark --------------------------------------------------------------------------------


def machine_info(tool: str, cpus: Cpus) -> dict[str, Any]:
    import aiohttp

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_mb = proc_meminfo_mb("MemTotal")
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    info: dict[str, Any] = {
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "mem_mb": mem_mb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "commit": commit,
        **cpus.describe(),
    }
    if tool == "wrk":
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            v = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
            info["wrk"] = (v.stdout or v.stderr).splitlines()[0].strip()
    return info


def proc_meminfo_mb(key: str) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cold_starts(n: int, workdir: Path, cpus: Cpus) -> tuple[Server, list[float]]:
    """Start the simulator ``n`` times; keep the last one running."""
    times: list[float] = []
    server: Server | None = None
    for i in range(n):
        if server is not None:
            server.stop()
        port = free_port()
        server = spawn("simulator", simulator_argv(port), port, workdir, cpus)
        times.append(server.cold_start_s)
        log(f"cold start {i + 1}/{n}: {server.cold_start_s:.3f} s")
    assert server is not None
    return server, times


def slope_mb_per_min(samples: list[list[float]]) -> float | None:
    """Least-squares slope of RSS (MB) over time (s), in MB per minute."""
    pts = [(t, m) for t, m in samples if m == m]  # no NaN
    if len(pts) < 3:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den == 0:
        return None
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 60, 3)


@contextlib.contextmanager
def servers_cleanup(servers: list[Server]) -> Iterator[None]:
    try:
        yield
    finally:
        for s in servers:
            s.stop()


def run_benchmark(args: argparse.Namespace, tool: str, cpus: Cpus, workdir: Path) -> dict[str, Any]:
    workload.check_aliyun_signer()
    store = open_state(args)
    try:
        return _run_benchmark(args, tool, cpus, workdir, store)
    finally:
        if store is not None:
            store.close()


def _run_benchmark(
    args: argparse.Namespace, tool: str, cpus: Cpus, workdir: Path, store: scale.Redis | None
) -> dict[str, Any]:
    image = bench_image()
    servers: list[Server] = []
    with servers_cleanup(servers):
        sim, colds = cold_starts(args.cold_starts, workdir, cpus)
        servers.append(sim)
        ref_port = free_port()
        ref = spawn("reference", reference_argv(ref_port), ref_port, workdir, cpus)
        servers.append(ref)
        same: Server | None = None
        if args.same_decoder and have_pybase64():
            same_port = free_port()
            same = spawn(
                "reference-pybase64", reference_argv(same_port, "pybase64"), same_port, workdir, cpus
            )
            servers.append(same)
        floor: Server | None = None
        if same is not None and args.floor:
            floor_port = free_port()
            floor = spawn(
                "reference-floor",
                reference_argv(floor_port, "pybase64", floor=True),
                floor_port,
                workdir,
                cpus,
            )
            servers.append(floor)
        rss_idle = sim.rss_mb()
        ctx, vendors = setup_simulator(sim, image)
        if ctx.baidu_token:
            workload.check_showapi_signer(ctx)
        ctx_path = workdir / "context.json"
        ctx_path.write_text(ctx.to_json())
        driver = Driver(tool, args.connections, cpus, workdir, ctx_path)
        result: dict[str, Any] = {
            "machine": machine_info(tool, cpus),
            "loadgen": tool,
            "settings": {
                "connections": args.connections,
                "warmup_s": args.warmup,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "image_bytes": len(image),
                "simulator": " ".join(simulator_argv(sim.port)[1:]).replace(str(REPO) + "/", ""),
                "vendors": vendors,
                "state": scale.describe(args.state) if args.state else None,
                "workers": args.workers if args.state else None,
                "wiremock_warmup_s": args.wiremock_warmup,
            },
            "operations": {},
        }
        sim_requests = 0
        for name in args.ops:
            op = OPERATIONS[name]
            entry: dict[str, Any] = {"vendor": op.vendor, "body_bytes": len(op.build(ctx).body)}
            result["operations"][name] = entry
            if op.vendor not in vendors:
                entry["skipped"] = (
                    f"vendor {op.vendor!r} is not served by this simulator (GET /__modsim/health)"
                )
                log(f"{name}: skipped ({entry['skipped']})")
                continue
            problem = precheck(op, ctx, sim, ref)
            if problem:
                entry["skipped"] = f"pre-check failed: {problem}"
                log(f"{name}: {entry['skipped']}")
                continue
            sims: list[Phase] = []
            refs: list[Phase] = []
            sames: list[Phase] = []
            floors: list[Phase] = []
            for rnd in range(args.rounds):
                log(f"{name}: round {rnd + 1}/{args.rounds}: reference ...")
                refs.append(measured(driver, ref, op, ctx, args, "http200"))
                log(f"  reference {refs[-1].rps:.0f} req/s p99 {refs[-1].p99_ms} ms; simulator ...")
                sims.append(measured(driver, sim, op, ctx, args, "vendor"))
                sim_requests += sims[-1].requests + int(sims[-1].extra.get("warmup_requests", 0))
                log(f"  simulator {sims[-1].rps:.0f} req/s p99 {sims[-1].p99_ms} ms")
                if same is not None and op.base64_image:
                    sames.append(measured(driver, same, op, ctx, args, "http200"))
                    log(f"  same-decoder reference {sames[-1].rps:.0f} req/s p99 {sames[-1].p99_ms} ms")
                    if floor is not None:
                        floors.append(measured(driver, floor, op, ctx, args, "http200"))
                        log(f"  floor reference {floors[-1].rps:.0f} req/s p99 {floors[-1].p99_ms} ms")
            round_ratios = [round(s.rps / r.rps, 3) for s, r in zip(sims, refs, strict=True) if r.rps]
            cpu_ratios = [
                round(r.cpu_us / s.cpu_us, 3)
                for s, r in zip(sims, refs, strict=True)
                if s.cpu_us and r.cpu_us
            ]
            entry.update(
                {
                    "rps": round(statistics.fmean(p.rps for p in sims), 1),
                    "p50_ms": _mean_opt([p.p50_ms for p in sims]),
                    "p99_ms": _mean_opt([p.p99_ms for p in sims]),
                    "reference_rps": round(statistics.fmean(p.rps for p in refs), 1),
                    "reference_p50_ms": _mean_opt([p.p50_ms for p in refs]),
                    "reference_p99_ms": _mean_opt([p.p99_ms for p in refs]),
                    # each round pairs a reference phase with the simulator phase right after it; the
                    # median of the paired ratios shrugs off a round disturbed by other work
                    "ratio_vs_reference": round(statistics.median(round_ratios), 3) if round_ratios else None,
                    "round_ratios": round_ratios,
                    "cpu_us_per_request": _mean_opt([p.cpu_us for p in sims]),
                    "reference_cpu_us_per_request": _mean_opt([p.cpu_us for p in refs]),
                    "cpu_ratio_vs_reference": round(statistics.median(cpu_ratios), 3) if cpu_ratios else None,
                    "tool": sims[0].tool,
                    "requests": sum(p.requests for p in sims),
                    "simulator_detail": [p.extra for p in sims],
                    "reference_detail": [p.extra for p in refs],
                    "journal_check": journal_check(sim, op),
                }
            )
            if sames:
                same_ratios = [round(s.rps / r.rps, 3) for s, r in zip(sims, sames, strict=True) if r.rps]
                entry.update(
                    {
                        "same_decoder_reference_rps": round(statistics.fmean(p.rps for p in sames), 1),
                        "same_decoder_reference_p99_ms": _mean_opt([p.p99_ms for p in sames]),
                        "same_decoder_reference_cpu_us_per_request": _mean_opt([p.cpu_us for p in sames]),
                        "ratio_vs_same_decoder_reference": round(statistics.median(same_ratios), 3)
                        if same_ratios
                        else None,
                        "same_decoder_round_ratios": same_ratios,
                    }
                )
            if floors:
                # the floor against the same-decoder reference of its round: the most any simulator
                # that hashes, journals and renders can reach on the same-decoder ratio
                floor_ratios = [round(f.rps / r.rps, 3) for f, r in zip(floors, sames, strict=True) if r.rps]
                entry.update(
                    {
                        "floor_reference_rps": round(statistics.fmean(p.rps for p in floors), 1),
                        "floor_reference_cpu_us_per_request": _mean_opt([p.cpu_us for p in floors]),
                        "floor_vs_same_decoder_reference": round(statistics.median(floor_ratios), 3)
                        if floor_ratios
                        else None,
                        "floor_round_ratios": floor_ratios,
                    }
                )
            entry["simulator_errors"] = sum(sum(p.extra.get("errors", {}).values()) for p in sims)
            if entry["simulator_errors"] or entry["journal_check"]["bad"]:
                log(f"  {name}: errors or bad answers: see simulator_detail and journal_check in the JSON")
        if args.profile:
            result["profile"] = profile_ops(args, driver, sim, ctx, workdir)
        # RSS after N requests: the fast mix, count-bound (Python generator: exact count, checked answers)
        mix = [
            o
            for o in (FULL_MIX if args.rss_mix == "full" else FAST_MIX)
            if ALL_OPERATIONS[o].vendor in vendors
        ]
        rss_before = sim.rss_mb()
        samples: list[list[float]] = []
        log(
            f"RSS phase: {args.requests_rss} requests of {', '.join(mix)} (at most {args.rss_timeout:.0f} s) ..."
        )
        r = driver.loadgen(
            sim.base,
            mix,
            warmup=0,
            duration=args.rss_timeout,
            requests=args.requests_rss,
            watch=sim,
            every_s=2.0,
            samples=samples,
        )
        time.sleep(1.0)
        sim_requests += r["issued"]
        health = admin(sim.base, "GET", "/health")
        result.update(
            {
                "cold_start_s": round(statistics.median(colds), 4),
                "cold_start_runs_s": colds,
                "reference_cold_start_s": ref.cold_start_s,
                "rss_mb_after": sim.rss_mb(),
                "requests_for_rss": r["requests"],
                "rss_phase": {
                    "mix": mix,
                    "rps": r["rps"],
                    "p50_ms": r["p50_ms"],
                    "p99_ms": r["p99_ms"],
                    "errors": r["errors"],
                    "bad_answers": r["bad"],
                    "rss_mb_idle": rss_idle,
                    "rss_mb_before": rss_before,
                    "rss_mb_peak": sim.peak_mb(),
                    "journal_entries": health.get("journal_entries"),
                    "samples_s_mb": samples,
                },
                "requests_total_simulator": sim_requests,
                "reference_rss_mb": ref.rss_mb(),
                "same_decoder_reference": "bench/reference.py --b64 pybase64"
                if same is not None
                else "not run (--no-same-decoder, or pybase64 is not installed)",
            }
        )
        if store is not None:
            if "baidu" in vendors:
                log(
                    f"scale phase: baidu_face_audit, in memory vs {args.state} with 1 and {args.workers} workers ..."
                )
                result["scale"] = run_scale(args, driver, sim, ctx, store, image, workdir, cpus)
            else:
                result["scale"] = {"skipped": "vendor 'baidu' is not served by this simulator"}
        result["wiremock"] = wiremock_compare(args, driver, ctx, workdir, cpus, result["operations"])
    result["targets"] = targets(result)
    return result


def measured(
    driver: Driver, server: Server, op: Operation, ctx: Context, args: argparse.Namespace, expect: str
) -> Phase:
    return driver.phase(server.base, op, ctx, args.warmup, args.duration, expect, server.proc.pid)


def _per_request_us(cpu0: float | None, cpu1: float | None, requests: int) -> float | None:
    if cpu0 is None or cpu1 is None or requests <= 0:
        return None
    return round((cpu1 - cpu0) / requests * 1e6, 1)


def _mean_opt(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(statistics.fmean(vals), 3) if vals else None


def targets(result: dict[str, Any]) -> dict[str, Any]:
    face = result["operations"].get("baidu_face_audit", {})
    ratio, p99 = face.get("ratio_vs_reference"), face.get("p99_ms")
    cold, rss = result.get("cold_start_s"), result.get("rss_mb_after")

    def t(value: float | None, op: str, bound: float) -> dict[str, Any]:
        met = value is not None and (value >= bound if op == ">=" else value < bound)
        return {"value": value, "target": f"{op} {bound:g}", "met": met}

    out = {
        "baidu_face_audit_ratio_vs_reference": t(ratio, ">=", TARGETS["ratio_vs_reference"]),
        "baidu_face_audit_p99_ms": t(p99, "<", TARGETS["p99_ms"]),
        "cold_start_s": t(cold, "<", TARGETS["cold_start_s"]),
        "rss_mb_after": t(rss, "<", TARGETS["rss_mb_after"]),
    }
    aliyun = result["operations"].get("aliyun_image_scan")
    if aliyun is not None and "skipped" not in aliyun:
        out["aliyun_image_scan_ratio_vs_reference"] = t(
            aliyun.get("ratio_vs_reference"), ">=", TARGETS["aliyun_ratio_vs_reference"]
        )
    if face.get("ratio_vs_same_decoder_reference") is not None:
        out["baidu_face_audit_ratio_vs_same_decoder_reference"] = t(
            face["ratio_vs_same_decoder_reference"], ">=", TARGETS["ratio_vs_same_decoder_reference"]
        )
    sc = result.get("scale")
    if sc is not None:  # asked for (--state): a phase that could not run is a missed target
        for key in ("redis_1_worker_vs_memory", "redis_N_workers_vs_memory"):
            out[key] = t(sc.get(key), ">=", TARGETS[key])
        out["redis_N_workers_vs_memory"]["workers"] = sc.get("workers")
    return {**out, "all_met": all(v["met"] for v in out.values())}


def profile_ops(args: argparse.Namespace, driver: Driver, sim: Server, ctx: Context, workdir: Path) -> Any:
    """py-spy under load, one operation at a time: the top functions by own and inclusive samples."""
    if not shutil.which("py-spy"):
        return {"skipped": "py-spy not installed (pip install py-spy)"}
    out: dict[str, Any] = {}
    for name in args.profile:
        op = ALL_OPERATIONS[name]
        raw = workdir / f"profile-{name}.txt"
        secs = max(3, round(args.duration))
        spy_argv = ["py-spy", "record", "--pid", str(sim.proc.pid), "--duration", str(secs), "--rate", "250"]
        spy_argv += ["--format", "raw", "--output", str(raw), "--nonblocking"]
        spy = subprocess.Popen(
            spy_argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        driver.loadgen(sim.base, [op.name], warmup=0, duration=secs + 1)
        try:
            _, err = spy.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            _, err = spy.communicate()
        if not raw.exists():
            out[name] = {"skipped": f"py-spy failed: {err[-500:]}"}
            continue
        out[name] = summarise_profile(raw.read_text())
        if args.json:
            keep = Path(args.json).with_suffix(f".{name}.pyspy.txt")
            shutil.copyfile(raw, keep)
            out[name]["raw"] = str(keep)
        log(f"profile {name}: top own time: " + "; ".join(f"{p}% {f}" for p, f in out[name]["self"][:5]))
    return out


def _function(frame: str) -> str:
    """``name (path:line)`` -> ``name (path)``."""
    head, sep, tail = frame.rpartition(":")
    return head + ")" if sep and tail.rstrip(")").isdigit() else frame


def summarise_profile(text: str, top: int = 25) -> dict[str, Any]:
    """py-spy's raw (collapsed) stacks -> the top frames by own samples (per line) and the top
    functions by inclusive samples (per function), in percent of all samples."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + n  # by line: where the time goes
        for f in {_function(f) for f in frames}:  # by function: what to optimise
            incl[f] = incl.get(f, 0) + n

    def rank(d: dict[str, int], skip_outer: bool) -> list[list[Any]]:
        items = sorted(d.items(), key=lambda kv: -kv[1])
        if skip_outer:  # the event loop and the entry point contain everything: not informative
            items = [kv for kv in items if not any(o in kv[0] for o in _OUTER)]
        return [[round(100 * n / total, 1), f] for f, n in items[:top]]

    return {"samples": total, "self": rank(own, False), "inclusive": rank(incl, True)}


_OUTER = (
    "(asyncio/",
    "<frozen runpy>",
    "(simulator/cli.py",
    "<module> (",
    "(aiohttp/web_app.py",
    "web_middlewares",
)


# --- the scale phase (--state URL, --workers N) ---------------------------------------------------

#: the scale phase's three simulators, in the order each round measures them
SCALE_KEYS = ("memory", "redis_1_worker", "redis_N_workers")


def wait_workers(server: Server, n: int) -> None:
    """``serve --workers N`` answers /__modsim/health as soon as one worker listens; its supervisor
    prints ``N workers (pids ...)`` once every worker has reported ready."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            if f"{n} workers (pids" in server.log_path.read_text(errors="replace"):
                return
        time.sleep(0.05)
    raise RuntimeError(f"{server.name}: not every worker was ready within {START_TIMEOUT_S} s")


def open_state(args: argparse.Namespace) -> scale.Redis | None:
    """The benchmark's own connection to ``--state`` (None without it); RuntimeError when unusable, so
    the run stops before its first phase rather than after minutes."""
    if not args.state:
        return None
    try:
        return scale.Redis(args.state)
    except scale.RedisUnavailable as exc:
        raise RuntimeError(str(exc)) from exc


def run_scale(
    args: argparse.Namespace,
    driver: Driver,
    sim: Server,
    sim_ctx: Context,
    store: scale.Redis,
    image: bytes,
    workdir: Path,
    cpus: Cpus,
) -> dict[str, Any]:
    """Baidu face_audit on (a) the in-memory simulator already running, (b) one simulator process on
    the shared store, (c) ``--workers N`` on the same store (one simulator: the credentials and the
    token made on (b) serve on (c)). Each round measures the three in turn with the same load; the
    ratios are the medians of the per-round ratios to (a). The run's keys are removed at the end."""
    op = OPERATIONS["baidu_face_audit"]
    n = args.workers
    prefix = f"modsim-bench-{os.getpid()}:"
    state = ("--state", args.state, "--state-prefix", prefix)
    redis_pid = store.local_pid()
    out: dict[str, Any] = {
        "operation": op.name,
        "state": scale.describe(args.state),
        "state_prefix": prefix,
        "workers": n,
        "redis": {"version": store.version, "process_id": store.process_id, "local": redis_pid is not None},
    }
    servers: list[Server] = []
    try:
        with servers_cleanup(servers):
            port = free_port()
            argv1 = simulator_argv(port, (*state, "--instance", "bench-1"))
            one = spawn("simulator-redis-1", argv1, port, workdir, cpus)
            servers.append(one)
            port = free_port()
            argvn = simulator_argv(port, (*state, "--instance", "bench-w", "--workers", str(n)))
            # the N workers may use every core (pinned to all of them, not inheriting this process's)
            many = spawn(f"simulator-redis-{n}", argvn, port, workdir, cpus, pin=cpus.all)
            servers.append(many)
            wait_workers(many, n)
            scale.pin_tree(many.proc.pid, cpus.all)
            workers = scale.tree_pids(many.proc.pid)[1:]
            log(f"scale: 1 process and {n} workers (pids {workers}) on {out['state']} prefix {prefix}")
            out["simulators"] = {
                "redis_1_worker": " ".join(argv1[1:]).replace(str(REPO) + "/", ""),
                "redis_N_workers": " ".join(argvn[1:]).replace(str(REPO) + "/", ""),
            }
            out["cold_start_s"] = {
                "redis_1_worker": one.cold_start_s,
                "redis_N_workers_first": many.cold_start_s,
            }
            # one simulator: what is set up on (b) is there on (c), from whichever worker answers
            ctx, _ = setup_simulator(one, image)
            ctx_path = workdir / "context-redis.json"
            ctx_path.write_text(ctx.to_json())
            rdriver = Driver(driver.tool, driver.connections, cpus, workdir, ctx_path)
            for target in (one, *[many] * (4 * n)):  # fresh connections: every worker, most likely
                status, body = call(target.base, op.build(ctx))
                if not op.ok(status, body):
                    out["skipped"] = f"pre-check failed on {target.name}: " + workload.explain(
                        op.name, status, body
                    )
                    return out
            out["pinning"] = {
                "pinned": cpus.enabled,
                "loadgen_cpus": sorted(cpus.client) or None,
                "memory_cpus": scale.affinity(sim.proc.pid),
                "redis_1_worker_cpus": scale.affinity(one.proc.pid),
                "redis_N_workers_cpus": {str(p): scale.affinity(p) for p in [many.proc.pid, *workers]},
                "redis_server_cpus": scale.affinity(redis_pid) if redis_pid else "not local: unknown",
                "note": "the N workers are not pinned to one core; the Redis server is not pinned by the run",
            }

            def redis_cpu_us() -> float | None:
                cpu = store.cpu_s()
                return None if cpu is None else cpu * 1e6

            meters: dict[str, Meter] = {"redis_cpu_us": redis_cpu_us, "redis_commands": store.commands}
            runs: dict[str, tuple[Server, Context, Driver]] = {
                "memory": (sim, sim_ctx, driver),
                "redis_1_worker": (one, ctx, rdriver),
                "redis_N_workers": (many, ctx, rdriver),
            }
            phases: dict[str, list[Phase]] = {k: [] for k in SCALE_KEYS}
            checks: dict[str, list[dict[str, Any]]] = {k: [] for k in SCALE_KEYS}
            calls: dict[str, dict[str, int]] = {k: {} for k in SCALE_KEYS}
            for rnd in range(args.rounds):
                for key in SCALE_KEYS:
                    server, c, d = runs[key]
                    pid = server.proc.pid
                    calls0 = store.command_calls()
                    ph = d.phase(
                        server.base,
                        op,
                        c,
                        args.warmup,
                        args.duration,
                        "vendor",
                        cpu=functools.partial(tree_cpu_s, pid),  # the supervisor and its workers
                        meters=meters,
                    )
                    phases[key].append(ph)
                    for name, count in store.command_calls().items():  # warm-up and measured part
                        calls[key][name] = calls[key].get(name, 0) + count - calls0.get(name, 0)
                    checks[key].append(journal_check(server, op))
                    log(
                        f"scale round {rnd + 1}/{args.rounds}: {key.replace('_N_', f'_{n}_')} {ph.rps:.0f} req/s "
                        f"p99 {ph.p99_ms} ms, {ph.cpu_us} µs CPU/request, Redis "
                        f"{ph.extra.get('redis_cpu_us_per_request')} µs/request"
                    )
            for key in SCALE_KEYS:
                out[key] = _scale_entry(phases[key], checks[key], runs[key][0])
                issued = sum(p.requests + int(p.extra.get("warmup_requests", 0)) for p in phases[key])
                top = sorted(((v, k) for k, v in calls[key].items() if v > 0), reverse=True)[:12]
                out[key]["redis_calls_per_request_by_command"] = {
                    k: round(v / issued, 2) for v, k in top if issued
                }
            for key in SCALE_KEYS[1:]:
                ratios = [
                    round(p.rps / m.rps, 3)
                    for p, m in zip(phases[key], phases["memory"], strict=True)
                    if m.rps
                ]
                out[f"{key}_vs_memory"] = round(statistics.median(ratios), 3) if ratios else None
                out[f"{key}_round_ratios"] = ratios
            out["workers_served"] = out["redis_N_workers"]["journal_check"].get("instances", [])
    finally:
        try:
            out["keys_removed"] = store.delete_prefix(prefix)  # the servers are stopped: nothing writes
        except Exception as exc:  # a run that cannot clean up still reports what it measured
            out["keys_removed"] = f"failed: {exc}"
    return out


def _scale_entry(phases: list[Phase], checks: list[dict[str, Any]], server: Server) -> dict[str, Any]:
    bad = sum(c["bad"] for c in checks)
    instances = sorted({i for c in checks for i in c.get("instances", [])})
    errors = sum(sum(p.extra.get("errors", {}).values()) for p in phases)
    return {
        "rps": round(statistics.fmean(p.rps for p in phases), 1),
        "round_rps": [p.rps for p in phases],
        "p50_ms": _mean_opt([p.p50_ms for p in phases]),
        "p99_ms": _mean_opt([p.p99_ms for p in phases]),
        "cpu_us_per_request": _mean_opt([p.cpu_us for p in phases]),
        "redis_cpu_us_per_request": _mean_opt([p.extra.get("redis_cpu_us_per_request") for p in phases]),
        "redis_commands_per_request": _mean_opt([p.extra.get("redis_commands_per_request") for p in phases]),
        "requests": sum(p.requests for p in phases),
        "errors": errors,
        "journal_check": {"sampled": sum(c["sampled"] for c in checks), "bad": bad}
        | ({"instances": instances} if instances else {}),
        "rss_mb": scale.tree_rss_mb(server.proc.pid),
        "processes": len(scale.tree_pids(server.proc.pid)),
        "detail": [p.extra for p in phases],
    }


def wiremock_compare(
    args: argparse.Namespace, driver: Driver, ctx: Context, workdir: Path, cpus: Cpus, ops: dict[str, Any]
) -> dict[str, Any]:
    """Optional: Baidu face_audit against a WireMock stub answering a fixed body, same load, after
    ``--wiremock-warmup`` seconds (default 60) of the same load: the JVM's JIT keeps speeding WireMock
    up for about a minute, and a shorter warm-up would measure it before its steady state."""
    jar = args.wiremock_jar or os.environ.get("WIREMOCK_JAR")
    if not shutil.which("java"):
        return {"skipped": "java not installed"}
    if not jar or not Path(jar).is_file():
        return {"skipped": "no WireMock jar (pass --wiremock-jar PATH or set WIREMOCK_JAR)"}
    face = ops.get("baidu_face_audit", {})
    if "rps" not in face:
        return {"skipped": "baidu_face_audit was not measured"}
    port = free_port()
    log_path = workdir / "wiremock.log"
    argv = ["java", "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1"]
    argv += ["--no-request-journal", "--disable-request-logging"]
    with log_path.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    cpus.pin(proc.pid, cpus.server)
    wm = Server("wiremock", proc, port, log_path, 0.0)
    try:
        deadline = t0 + 60
        while http_get_status(port, "/__admin/mappings") != 200:
            if proc.poll() is not None or time.perf_counter() > deadline:
                return {"skipped": f"WireMock did not start: {wm.log_tail()[-500:]}"}
            time.sleep(0.01)
        wm.cold_start_s = round(time.perf_counter() - t0, 3)
        stub = {
            "request": {"method": "POST", "urlPath": workload.FACE_AUDIT},
            "response": {
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": '{"log_id":1,"result":[{"res_code":0,"res_msg":[]}]}',
            },
        }
        body = json.dumps(stub).encode()
        status, raw = call(
            wm.base, Request("POST", "/__admin/mappings", {"Content-Type": "application/json"}, body)
        )
        if status not in (200, 201):
            return {"skipped": f"WireMock stub not accepted: HTTP {status} {raw[:200]!r}"}
        op = OPERATIONS["baidu_face_audit"]
        warmup = args.wiremock_warmup
        log(f"wiremock: {warmup:g} s of warm-up (JIT), then {args.duration:g} s measured ...")
        p = driver.phase(wm.base, op, ctx, warmup, args.duration, "http200", proc.pid)
        return {
            "operation": "baidu_face_audit",
            "tool": p.tool,
            "warmup_s": warmup,
            "warmup_requests": p.extra.get("warmup_requests"),
            "cpu_us_per_request": p.cpu_us,
            "rps": p.rps,
            "p50_ms": p.p50_ms,
            "p99_ms": p.p99_ms,
            "cold_start_s": wm.cold_start_s,
            "rss_mb": wm.rss_mb(),
            "simulator_ratio_vs_wiremock": round(face["rps"] / p.rps, 3) if p.rps else None,
        }
    finally:
        wm.stop()


def run_soak(args: argparse.Namespace, cpus: Cpus, workdir: Path) -> dict[str, Any]:
    """``--soak MINUTES --rate R``: the fast mix at a fixed rate, RSS sampled every ``--sample-every`` s."""
    image = bench_image()
    servers: list[Server] = []
    with servers_cleanup(servers):
        port = free_port()
        sim = spawn("simulator", simulator_argv(port), port, workdir, cpus)
        servers.append(sim)
        ctx, vendors = setup_simulator(sim, image)
        ctx_path = workdir / "context.json"
        ctx_path.write_text(ctx.to_json())
        driver = Driver("python", args.connections, cpus, workdir, ctx_path)
        mix = [o for o in FAST_MIX if ALL_OPERATIONS[o].vendor in vendors]
        seconds = args.soak * 60
        log(
            f"soak: {args.soak:g} min at {args.rate:g} req/s of {', '.join(mix)}; RSS every {args.sample_every:g} s"
        )
        samples: list[list[float]] = []
        rss_start = sim.rss_mb()
        r = driver.loadgen(
            sim.base,
            mix,
            warmup=0,
            duration=seconds,
            rate=args.rate,
            watch=sim,
            every_s=args.sample_every,
            samples=samples,
        )
        # flatness is judged once the journal ring is full (it grows until then, by design), and at
        # the earliest on the second half
        from simulator.settings import Settings

        steady_from = max(seconds / 2, Settings().journal_size / args.rate + 30)
        steady = [s for s in samples if s[0] >= steady_from]
        slope = slope_mb_per_min(steady)
        first, last = (steady[0][1], steady[-1][1]) if steady else (float("nan"), float("nan"))
        growth = round(last - first, 1)
        flat: bool | None = None if slope is None else abs(slope) < args.flat_mb_per_min
        return {
            "machine": machine_info("python", cpus),
            "loadgen": "python",
            "soak": {
                "minutes": args.soak,
                "rate": args.rate,
                "achieved_rps": r["rps"],
                "requests": r["requests"],
                "p50_ms": r["p50_ms"],
                "p99_ms": r["p99_ms"],
                "errors": r["errors"],
                "bad_answers": r["bad"],
                "mix": mix,
                "rss_mb_start": rss_start,
                "rss_mb_end": sim.rss_mb(),
                "rss_mb_peak": sim.peak_mb(),
                "steady_from_s": round(steady_from, 1),
                "steady_growth_mb": growth,
                "steady_slope_mb_per_min": slope,
                "flat": flat,
                "flat_criterion": (
                    f"|least-squares slope| < {args.flat_mb_per_min:g} MB/min from {steady_from:.0f} s on "
                    "(the later of half-time and journal full + 30 s); null: too few samples by then"
                ),
                "samples_s_mb": samples,
            },
            "cold_start_s": sim.cold_start_s,
        }


# --- output ---------------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    if "soak" in result:
        rows: list[tuple[str, ...]] = []
    else:
        rows = [
            (
                "operation",
                "req/s",
                "p50 ms",
                "p99 ms",
                "ref req/s",
                "ref p99",
                "ratio",
                "cpu us",
                "ref cpu us",
                "same-dec ratio",
            )
        ]
    for name, e in result.get("operations", {}).items():
        if "skipped" in e:
            rows.append((name, "skipped", "", "", "", "", "", "", "", ""))
            continue
        rows.append(
            (
                name,
                f"{e['rps']:.0f}",
                f"{e['p50_ms']}",
                f"{e['p99_ms']}",
                f"{e['reference_rps']:.0f}",
                f"{e['reference_p99_ms']}",
                f"{e['ratio_vs_reference']:.3f}x"
                + (" !" if e.get("simulator_errors") or e["journal_check"]["bad"] else ""),
                f"{e.get('cpu_us_per_request')}",
                f"{e.get('reference_cpu_us_per_request')}",
                f"{e['ratio_vs_same_decoder_reference']:.3f}x"
                if e.get("ratio_vs_same_decoder_reference") is not None
                else "-",
            )
        )
    lines: list[str] = []
    if rows:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in rows
        ]
        lines.insert(1, "-" * len(lines[0]))
    out = [
        f"loadgen: {result.get('loadgen')}, machine: {result['machine'].get('cpu')} x{result['machine'].get('cpus')}"
    ]
    out += lines
    if "cold_start_s" in result and "rss_mb_after" in result:
        out.append(
            f"cold start {result['cold_start_s']} s (runs {result['cold_start_runs_s']}); "
            f"RSS {result['rss_mb_after']} MB after {result['requests_for_rss']} requests "
            f"(idle {result['rss_phase']['rss_mb_idle']} MB, peak {result['rss_phase']['rss_mb_peak']} MB)"
        )
    for name, e in result.get("operations", {}).items():
        if e.get("floor_vs_same_decoder_reference") is not None:
            out.append(
                f"floor reference ({name}): {e['floor_reference_rps']:.0f} req/s, "
                f"{e['floor_vs_same_decoder_reference']:.3f}x the same-decoder reference "
                f"(rounds {e['floor_round_ratios']})"
            )
    out += scale_table(result.get("scale"))
    wm = result.get("wiremock")
    if isinstance(wm, dict):
        out.append(
            "wiremock: "
            + (wm["skipped"] if "skipped" in wm else f"{wm['rps']:.0f} req/s p99 {wm['p99_ms']} ms")
        )
    for name, t in result.get("targets", {}).items():
        if name != "all_met":
            label = name if "workers" not in t else f"{name} (N={t['workers']})"
            out.append(f"target {label} {t['target']}: {t['value']} -> {'MET' if t['met'] else 'MISSED'}")
    soak = result.get("soak")
    if soak:
        out.append(
            f"soak {soak['minutes']} min at {soak['rate']} req/s ({soak['achieved_rps']} achieved): RSS "
            f"{soak['rss_mb_start']} -> {soak['rss_mb_end']} MB, slope from {soak['steady_from_s']} s "
            f"{soak['steady_slope_mb_per_min']} MB/min -> "
            + {True: "FLAT", False: "GROWING", None: "too short to tell"}[soak["flat"]]
        )
    return "\n".join(out)


def scale_table(sc: Any) -> list[str]:
    """The scale phase's lines of the printed table."""
    if not isinstance(sc, dict):
        return []
    if "skipped" in sc:
        return [f"scale: skipped ({sc['skipped']})"]
    n = sc["workers"]
    rows = [
        (
            "scale: baidu_face_audit",
            "req/s",
            "p50 ms",
            "p99 ms",
            "cpu us",
            "redis cpu us",
            "redis cmds",
            "ratio",
        )
    ]
    names = {
        "memory": "in memory, 1 process",
        "redis_1_worker": "Redis, 1 process",
        "redis_N_workers": f"Redis, {n} workers",
    }
    for key in SCALE_KEYS:
        e = sc[key]
        value = sc.get(f"{key}_vs_memory")
        ratio = "1" if key == "memory" else ("-" if value is None else f"{value:.3f}x")
        if e["errors"] or e["journal_check"]["bad"]:
            ratio += " !"
        rows.append(
            (
                "  " + names[key],
                f"{e['rps']:.0f}",
                f"{e['p50_ms']}",
                f"{e['p99_ms']}",
                f"{e['cpu_us_per_request']}",
                f"{e['redis_cpu_us_per_request']}",
                f"{e['redis_commands_per_request']}",
                ratio,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.append(
        f"  {sc['state']} prefix {sc['state_prefix']} (keys removed: {sc.get('keys_removed')}); "
        f"workers that served: {', '.join(sc.get('workers_served', [])) or '?'}"
    )
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="modsim benchmark: simulator vs a bare aiohttp reference")
    ap.add_argument("--json", metavar="OUT.json", help="write the results here")
    ap.add_argument("--duration", type=float, default=6.0, help="measured seconds per phase (default 6)")
    ap.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each phase (default 2)")
    ap.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    ap.add_argument(
        "--rounds", type=int, default=3, help="reference/simulator alternations per operation (default 3)"
    )
    ap.add_argument(
        "--ops", default=",".join(OPERATIONS), help=f"comma-separated subset of {', '.join(OPERATIONS)}"
    )
    ap.add_argument(
        "--loadgen", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk if installed"
    )
    ap.add_argument(
        "--requests-rss", type=int, default=100_000, help="requests before reading RSS (default 100000)"
    )
    ap.add_argument(
        "--rss-mix", choices=["fast", "full"], default="fast", help="fast: images by URL (default)"
    )
    ap.add_argument("--rss-timeout", type=float, default=900.0, help="time bound of the RSS phase (s)")
    ap.add_argument("--cold-starts", type=int, default=3, help="simulator starts timed (median reported)")
    ap.add_argument("--soak", type=float, metavar="MINUTES", help="soak mode: fixed rate for MINUTES")
    ap.add_argument("--rate", type=float, default=200.0, help="soak rate, requests/s (default 200)")
    ap.add_argument("--sample-every", type=float, default=5.0, help="soak RSS sampling period (s)")
    ap.add_argument("--flat-mb-per-min", type=float, default=0.5, help="soak: flat below this slope")
    ap.add_argument(
        "--profile", action="append", default=[], metavar="OP", help="py-spy the simulator under OP"
    )
    ap.add_argument(
        "--wiremock-jar", help="WireMock standalone jar (or WIREMOCK_JAR) for the optional comparison"
    )
    ap.add_argument(
        "--wiremock-warmup",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds of load on WireMock before its measured phase (default 60: its JIT keeps speeding up for about a minute)",
    )
    ap.add_argument(
        "--state",
        metavar="URL",
        help="add the scale phase: face_audit in memory vs on this shared store (redis://HOST:PORT/DB; "
        "its keys get a prefix of their own, removed at the end) with 1 process and --workers N",
    )
    ap.add_argument(
        "--workers",
        metavar="N",
        help=f"workers of the scale phase's multi-process simulator (default {SCALE_WORKERS}; auto: one per "
        "core); needs --state (or MODSIM_STATE_URL)",
    )
    ap.add_argument(
        "--no-pin", action="store_true", help="do not pin server and load generator to separate cores"
    )
    ap.add_argument(
        "--simulator-module",
        default="simulator",
        help="run `python -m MODULE serve` (default simulator; e.g. a patched entry point on PYTHONPATH)",
    )
    ap.add_argument(
        "--no-same-decoder",
        dest="same_decoder",
        action="store_false",
        help="skip the second reference (pybase64, the simulator's decoder) for base64-image operations",
    )
    ap.add_argument(
        "--floor",
        action="store_true",
        help="also measure the floor reference (reference.py --floor: the same-decoder reference that "
        "also hashes, journals and renders) for base64-image operations, after the same-decoder one",
    )
    ap.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    args.ops = [o for o in args.ops.split(",") if o]
    bad = [o for o in args.ops if o not in OPERATIONS]
    bad += [o for o in args.profile if o not in ALL_OPERATIONS]
    if bad:
        ap.error(f"unknown operations {bad}")
    if not (0 < args.duration <= 600 and 0 <= args.warmup <= 60 and 1 <= args.connections <= 1000):
        ap.error("bounds: 0 < --duration <= 600, 0 <= --warmup <= 60, 1 <= --connections <= 1000")
    if not (1 <= args.rounds <= 10 and 1 <= args.cold_starts <= 10):
        ap.error("bounds: 1 <= --rounds <= 10, 1 <= --cold-starts <= 10")
    if not (1 <= args.requests_rss <= 10_000_000 and 0 < args.rss_timeout <= 3600):
        ap.error("bounds: 1 <= --requests-rss <= 10000000, 0 < --rss-timeout <= 3600")
    if not 0 <= args.wiremock_warmup <= 600:
        ap.error("bounds: 0 <= --wiremock-warmup <= 600")
    if args.workers is not None and not args.state:
        args.state = os.environ.get("MODSIM_STATE_URL") or None
        if not args.state:
            ap.error(
                "--workers N needs --state redis://HOST:PORT/DB (or MODSIM_STATE_URL): workers share a store"
            )
    if args.state:
        if args.soak is not None:
            ap.error("--state and --workers add a phase to the benchmark, not to --soak")
        if args.state.split(":", 1)[0] not in ("redis", "rediss", "unix"):
            ap.error(f"--state {scale.describe(args.state)!r} is not a Redis URL (redis://HOST:PORT/DB)")
        text = args.workers or str(SCALE_WORKERS)
        try:
            args.workers = len(os.sched_getaffinity(0)) if text == "auto" else int(text)
        except ValueError:
            ap.error(f"--workers {text!r} is neither a number nor auto")
        if not 2 <= args.workers <= 64:
            ap.error("bounds: 2 <= --workers <= 64 (the scale phase compares N workers with one process)")
    if args.soak is not None and not (
        0 < args.soak <= 120 and 0 < args.rate <= 5000 and args.sample_every >= 0.5
    ):
        ap.error("bounds: 0 < --soak <= 120 minutes, 0 < --rate <= 5000, --sample-every >= 0.5")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tool = args.loadgen
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    elif tool == "wrk" and not shutil.which("wrk"):
        log("wrk is not installed (apt-get install -y wrk); use --loadgen python")
        return 2
    SIMULATOR_MODULE[0] = args.simulator_module
    cpus = Cpus(not args.no_pin)
    with tempfile.TemporaryDirectory(prefix="modsim-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if args.soak is not None:
                result = run_soak(args, cpus, workdir)
            else:
                result = run_benchmark(args, tool, cpus, workdir)
        except RuntimeError as exc:
            log(f"benchmark failed: {exc}")
            return 2
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        log(f"wrote {args.json}")
    if args.fail_on_miss and not result.get("targets", {}).get("all_met", result.get("soak", {}).get("flat")):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
