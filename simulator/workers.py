"""``modsim serve --workers N``: N processes serving one port, one simulator.

The supervisor (the process ``modsim serve`` started) checks that the shared store answers, reserves
the port (``--port 0``: a free one) with a bound, non-listening ``SO_REUSEPORT`` socket, and forks
the workers. Each worker builds its own simulator (its own connection to the store, its own instance
name: ``--instance`` plus ``-<n>``, else host-pid), listens on the port with ``SO_REUSEPORT`` (the
kernel spreads connections over them) and reports ready through a pipe; the supervisor then prints
the banner, once. SIGINT or SIGTERM to the supervisor stops every worker (SIGTERM, then SIGKILL after
the shutdown timeout) and it exits 0. A worker that dies is started again (at most once a second);
one that cannot start at all stops the others and the supervisor exits 2.

Workers need a shared store (``--state``): without it, each would be a simulator of its own, and a
client's token, quota or task would depend on which one the kernel picked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import select
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.settings import Settings
    from simulator.sim import Sim

#: how long every worker has to report ready
READY_TIMEOUT_S = 60.0


@dataclasses.dataclass
class Worker:
    """What a worker process knows of its place (``cli._run``)."""

    index: int
    ready_fd: int

    def ready(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.ready_fd, bytes([self.index]))
            os.close(self.ready_fd)


def _probe(settings: Settings) -> str | None:
    """None when the shared store answers a PING, else why not (one line)."""
    from simulator.store.redis import describe

    try:
        import redis
    except ImportError:
        return "--state redis://... needs the Redis client: pip install 'modsim[redis]'"
    assert settings.state_url is not None
    try:
        client = redis.Redis.from_url(settings.state_url, socket_connect_timeout=2.0, socket_timeout=2.0)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError) as exc:
        return f"cannot reach the shared store at {describe(settings.state_url)}: {exc}"
    return None


def _reserve(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _child(settings: Settings, index: int, ready_fd: int) -> int:
    from simulator.app import create_app
    from simulator.cli import _run
    from simulator.sim import Sim
    from simulator.store import StoreUnavailable

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # whole lines: workers share it
    if settings.instance:
        settings = dataclasses.replace(settings, instance=f"{settings.instance}-{index}")
    try:
        sim = Sim(settings)
    except StoreUnavailable as exc:
        print(f"modsim: worker {index}: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run(create_app(settings, sim), sim, settings, Worker(index, ready_fd)))


def supervise(settings: Settings, sim: Sim) -> int:
    from simulator.cli import banner

    why = _probe(settings)
    if why is not None:
        print(f"modsim: {why}", file=sys.stderr)
        return 2
    try:
        reserved = _reserve(settings.host, settings.port)
    except OSError as exc:
        print(f"modsim: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 2
    port = reserved.getsockname()[1]
    settings = dataclasses.replace(settings, port=port, workers=1)
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    count = sim.settings.workers

    def spawn(index: int) -> int:
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read_fd)
            reserved.close()
            code = 2
            try:
                code = _child(settings, index, write_fd)
            except KeyboardInterrupt:
                code = 0
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        return pid

    pids = {spawn(i): i for i in range(count)}
    ready: set[int] = set()
    deadline = time.monotonic() + READY_TIMEOUT_S
    failed = False
    while len(ready) < count and not stopping:
        exited = _reap(pids)
        if exited:
            index, status = exited
            print(f"modsim: worker {index} could not start (exit status {status})", file=sys.stderr)
            failed = True
            break
        if time.monotonic() > deadline:
            print(f"modsim: workers not ready within {READY_TIMEOUT_S:.0f} s", file=sys.stderr)
            failed = True
            break
        with contextlib.suppress(InterruptedError):
            r, _, _ = select.select([read_fd], [], [], 0.1)
            if r:
                ready.update(os.read(read_fd, 64))
    if failed or stopping:
        _stop_all(pids, settings.shutdown_timeout_s)
        return 2 if failed else 0
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    print(banner(sim, f"http://{host}:{port}"), flush=True)
    print(
        f"  {count} workers (pids {', '.join(str(p) for p in sorted(pids))}) sharing {sim.store.status().get('url')}",
        flush=True,
    )
    last_restart = 0.0
    while not stopping:
        time.sleep(0.2)
        exited = _reap(pids)
        if exited and not stopping:
            index, status = exited
            wait = last_restart + 1.0 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            last_restart = time.monotonic()
            print(
                f"modsim: worker {index} exited (status {status}); starting it again",
                file=sys.stderr,
                flush=True,
            )
            pids[spawn(index)] = index
    with contextlib.suppress(OSError):
        print("modsim: shutting down", flush=True)
    _stop_all(pids, settings.shutdown_timeout_s)
    reserved.close()
    return 0


def _reap(pids: dict[int, int]) -> tuple[int, int] | None:
    """(index, exit status) of a worker that has exited, forgotten; None when all run."""
    for pid in list(pids):
        with contextlib.suppress(ChildProcessError):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return pids.pop(pid), os.waitstatus_to_exitcode(status)
    return None


def _stop_all(pids: dict[int, int], timeout_s: float) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s + 5.0
    while pids and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, InterruptedError):
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid:
                pids.pop(pid, None)
                continue
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
