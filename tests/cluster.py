"""Real ``modsim serve`` processes sharing one Redis (``--state``), for the multi-instance tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.redisproc import free_port

ROOT = Path(__file__).resolve().parents[1]
#: the suite's Redis (the machine's, on its own database) for shared-state tests
REDIS_URL = os.environ.get("MODSIM_TEST_REDIS", "redis://127.0.0.1:6379/15")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSIM_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Instance:
    name: str
    port: int
    proc: subprocess.Popen[str]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        resp = requests.request(method, f"{self.url}/__modsim{path}", json=body, timeout=15)
        if expect is not None:
            assert resp.status_code == expect, resp.text
        else:
            assert resp.status_code < 300, resp.text
        return resp.json()

    def journal(self, **params: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.admin(
            "GET", "/journal?" + "&".join(f"{k}={v}" for k, v in params.items())
        )["entries"]
        return entries

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """``n`` instances on one prefix of one Redis."""

    workdir: Path
    redis_url: str = REDIS_URL
    prefix: str = field(default_factory=lambda: f"modsim-test:{uuid.uuid4().hex[:12]}:")
    instances: list[Instance] = field(default_factory=list)

    def start(self, n: int, *extra: str) -> Cluster:
        for i in range(n):
            self.instances.append(self.spawn(f"i{i}", *extra))
        for inst in self.instances:
            wait_healthy(inst)
        return self

    def spawn(self, name: str, *extra: str) -> Instance:
        port = free_port()
        log = self.workdir / f"{name}.log"
        argv = [
            sys.executable, "-m", "simulator", "serve", "--port", str(port), "--seed", "0", "--quiet",
            "--validate", "--state", self.redis_url, "--state-prefix", self.prefix, "--instance", name, *extra,
        ]  # fmt: skip
        with log.open("w") as out:
            proc = subprocess.Popen(
                argv, cwd=ROOT, env=clean_env(), stdout=out, stderr=subprocess.STDOUT, text=True
            )
        return Instance(name, port, proc, log)

    def stop(self) -> None:
        for inst in self.instances:
            if inst.proc.poll() is None:
                inst.proc.send_signal(signal.SIGTERM)
        for inst in self.instances:
            try:
                inst.proc.wait(20)
            except subprocess.TimeoutExpired:
                inst.proc.kill()
                inst.proc.wait(5)
        self.instances.clear()

    def __getitem__(self, i: int) -> Instance:
        return self.instances[i]

    def __len__(self) -> int:
        return len(self.instances)


def wait_healthy(inst: Instance, timeout: float = 60.0, status: str = "ok") -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        assert inst.proc.poll() is None, f"{inst.name} exited: {inst.output()}"
        try:
            resp = requests.get(f"{inst.url}/__modsim/health", timeout=2)
            last = resp.json()
            if last.get("state", {}).get("status") == status:
                return dict(last)
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{inst.name} not {status} within {timeout} s: {last}\n{inst.output()}")
