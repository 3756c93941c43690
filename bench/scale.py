"""Helpers of the benchmark's scale phase (``run.py --state URL --workers N``; bench/README.md).

- a process tree (``modsim serve --workers N``: a supervisor and its forked workers): its pids, its
  CPU time (user + system of every process, from ``/proc/PID/stat``) and its summed RSS;
- pinning a whole tree to a set of cores;
- the Redis server the simulators share (``Redis``): reachable?, its version and pid, its own CPU time
  and its count of executed commands (``INFO``), and removing the run's keys (``SCAN`` + ``UNLINK`` by
  prefix) at the end.

Nothing here imports ``run.py`` (which imports this module).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process from /proc/PID/stat (None where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def proc_status_mb(pid: int, key: str) -> float:
    """``VmRSS`` / ``VmHWM`` of a process from /proc (no psutil needed), in MB (2**20 bytes)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def children(pid: int) -> list[int]:
    """The direct children of ``pid``: ``/proc/PID/task/*/children`` where the kernel has it, else
    a scan of every ``/proc/*/stat`` for the parent pid."""
    tasks = Path(f"/proc/{pid}/task")
    try:
        found: list[int] = []
        for task in tasks.iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
        return sorted(set(found))
    except (OSError, ValueError):
        pass
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return sorted(out)


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (breadth first)."""
    out = [pid]
    i = 0
    while i < len(out) and len(out) < 1024:
        out += [c for c in children(out[i]) if c not in out]
        i += 1
    return out


def tree_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) of ``pid`` and its live descendants: for ``--workers N``, the
    supervisor plus every worker. None when ``pid`` itself is gone."""
    root = proc_cpu_s(pid)
    if root is None:
        return None
    return root + sum(proc_cpu_s(p) or 0.0 for p in tree_pids(pid)[1:])


def tree_rss_mb(pid: int) -> float:
    """Summed VmRSS of the tree (forked workers share pages with their parent: an upper bound)."""
    return round(sum(proc_status_mb(p, "VmRSS") for p in tree_pids(pid)), 1)


def pin_tree(pid: int, cpus: set[int]) -> list[int]:
    """Pin ``pid`` and its descendants to ``cpus`` (nothing when empty); the pids pinned."""
    pinned: list[int] = []
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return pinned
    for p in tree_pids(pid):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(p, cpus)
            pinned.append(p)
    return pinned


def affinity(pid: int) -> list[int] | None:
    """The cores ``pid`` may run on (None: unknown)."""
    try:
        return sorted(os.sched_getaffinity(pid))
    except (AttributeError, OSError):
        return None


class RedisUnavailable(Exception):
    """The Redis of ``--state`` cannot be used (client not installed, not reachable)."""


class Redis:
    """The benchmark's own connection to the shared store (redis-py, the simulator's ``modsim[redis]``
    extra): what the server reports about itself, and the clean-up of the run's keys."""

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError as exc:
            raise RedisUnavailable(
                "--state needs the Redis client, as the simulator does: pip install 'modsim[redis]'"
            ) from exc
        self.url = url
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=10.0)
        try:
            self._client.ping()
            server = self.info("server")
        except (redis.RedisError, OSError) as exc:
            self._client.close()
            raise RedisUnavailable(f"cannot reach Redis at {describe(url)}: {exc}") from exc
        self.version = str(server.get("redis_version", ""))
        self.process_id: int | None = int(server["process_id"]) if "process_id" in server else None

    def info(self, section: str) -> dict[str, Any]:
        got: dict[str, Any] = self._client.info(section)
        return got

    def cpu_s(self) -> float | None:
        """The server's own CPU seconds (user + system, all its threads: ``INFO cpu``, getrusage in the
        server), so a Redis on another host or in a container is measured as well."""
        with contextlib.suppress(Exception):
            cpu = self.info("cpu")
            return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
        return None

    def commands(self) -> float | None:
        """Commands the server has executed (``INFO stats`` ``total_commands_processed``; those a Lua
        script runs count too, and so do other clients')."""
        with contextlib.suppress(Exception):
            return float(self.info("stats")["total_commands_processed"])
        return None

    def command_calls(self) -> dict[str, int]:
        """Calls per command name so far (``INFO commandstats``; script-run commands included, as
        ``EVALSHA`` itself), {} when unavailable."""
        with contextlib.suppress(Exception):
            stats = self.info("commandstats")
            return {
                k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items() if isinstance(v, dict)
            }
        return {}

    def local_pid(self) -> int | None:
        """The server's pid when it runs on this machine in this pid namespace (its ``/proc`` entry is
        a redis-server), else None."""
        parts = urlsplit(self.url)
        local = parts.scheme == "unix" or (parts.hostname or "") in ("127.0.0.1", "localhost", "::1", "")
        if not local or self.process_id is None:
            return None
        try:
            comm = Path(f"/proc/{self.process_id}/comm").read_text().strip()
        except OSError:
            return None
        return self.process_id if "redis" in comm else None

    def delete_prefix(self, prefix: str) -> int:
        """``SCAN MATCH prefix*`` + ``UNLINK``: every key of the run; the number removed."""
        pattern = "".join("\\" + ch if ch in "*?[]\\" else ch for ch in prefix) + "*"
        removed = 0
        cursor = 0
        while True:
            cursor, keys = self._client.scan(cursor=cursor, match=pattern, count=1000)
            if keys:
                removed += int(self._client.unlink(*keys))
            if int(cursor) == 0:
                return removed

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()


def describe(url: str) -> str:
    """``url`` without a password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"
