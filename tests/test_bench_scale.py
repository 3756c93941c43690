"""bench/run.py's scale phase helpers (``--state``, ``--workers``): process trees, the Redis probe and
its clean-up, the options and the targets. The phase itself is a benchmark run (bench/README.md)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.redisproc import RedisProcess

BENCH = Path(__file__).resolve().parent.parent / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import run  # noqa: E402
import scale  # noqa: E402


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = RedisProcess(tmp_path).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_a_process_tree_is_its_root_and_every_descendant() -> None:
    # python -> sh -> a background sleep (and sh's own sleep): three generations
    script = "import subprocess, time; subprocess.Popen(['sh', '-c', 'sleep 30 & sleep 30']); time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 10
        while len(scale.tree_pids(proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = scale.tree_pids(proc.pid)
        assert pids[0] == proc.pid and len(pids) >= 3
        total = scale.tree_cpu_s(proc.pid)
        own = scale.proc_cpu_s(proc.pid)
        assert total is not None and own is not None and total >= own
        assert scale.tree_rss_mb(proc.pid) > scale.proc_status_mb(proc.pid, "VmRSS")
    finally:
        for pid in reversed(scale.tree_pids(proc.pid)[1:]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
    assert scale.tree_cpu_s(proc.pid) is None


def test_the_redis_probe_reports_the_server_and_removes_only_the_runs_keys(redis_url: str) -> None:
    store = scale.Redis(redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        assert store.version and store.process_id
        assert store.local_pid() == store.process_id  # a redis-server on this machine
        before = store.commands()
        prefix = "modsim-bench-1:[x]*"  # glob characters are matched literally
        client.mset({prefix + "a": 1, prefix + "b": 2, "modsim-bench-1:xa": 3, "other": 4})
        after = store.commands()
        assert before is not None and after is not None and after > before
        assert store.command_calls().get("mset") == 1
        assert store.cpu_s() is not None
        assert store.delete_prefix(prefix) == 2
        assert sorted(client.keys()) == [b"modsim-bench-1:xa", b"other"]
    finally:
        client.close()
        store.close()


def test_an_unreachable_store_stops_the_run_before_its_first_phase() -> None:
    args = run.parse_args(["--state", "redis://127.0.0.1:1/0"])
    with pytest.raises(RuntimeError, match="cannot reach Redis"):
        run.open_state(args)


def test_the_options() -> None:
    assert run.parse_args([]).state is None
    args = run.parse_args(["--state", "redis://127.0.0.1:6379/15"])
    assert args.workers == run.SCALE_WORKERS and args.wiremock_warmup == 60.0
    assert run.parse_args(["--state", "redis://h/0", "--workers", "3"]).workers == 3
    for bad in (["--workers", "2"], ["--state", "http://h/"], ["--state", "redis://h/0", "--workers", "1"]):
        with pytest.raises(SystemExit):
            run.parse_args(bad)


def _result(scale_part: dict[str, Any] | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operations": {"baidu_face_audit": {"ratio_vs_reference": 1.0, "p99_ms": 10.0}},
        "cold_start_s": 0.5,
        "rss_mb_after": 100.0,
    }
    if scale_part is not None:
        result["scale"] = scale_part
    return result


def test_the_scale_targets_are_judged_when_the_phase_was_asked_for() -> None:
    assert "redis_1_worker_vs_memory" not in run.targets(_result(None))
    t = run.targets(
        _result({"workers": 2, "redis_1_worker_vs_memory": 0.85, "redis_N_workers_vs_memory": 1.3})
    )
    assert t["redis_1_worker_vs_memory"] == {"value": 0.85, "target": ">= 0.8", "met": True}
    assert t["redis_N_workers_vs_memory"] == {"value": 1.3, "target": ">= 1.6", "met": False, "workers": 2}
    assert t["all_met"] is False
    skipped = run.targets(_result({"skipped": "pre-check failed"}))
    assert skipped["redis_1_worker_vs_memory"]["met"] is False  # asked for and not measured: missed
