"""What ``modsim serve`` tells its operator (issue 13 §2, §3): the console access log, Prometheus
metrics, and a command line that never shows a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from simulator.settings import Settings
from simulator.testing import ThreadedServer

SHOWAPI_CALL = {"showapi_appid": "100001", "showapi_sign": "demo-showapi-secret", "content": "hello"}


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str, banner: list[str]) -> None:
        self.proc, self.url, self.banner = proc, url, banner

    def stop(self) -> tuple[str, str]:
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=20)
        return out, err


def serve(*args: str, env: dict[str, str] | None = None) -> Served:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if "serving on " not in first:
        proc.kill()
        raise AssertionError(f"modsim serve did not start: {first!r} {proc.communicate(timeout=10)}")
    url = first.split("serving on ")[1].split()[0]
    banner = [first]
    while not banner[-1].startswith("    demo credential") or "showapi_appid" not in banner[-1]:
        banner.append(proc.stdout.readline())
    for _ in range(2):  # the last two showapi apps
        banner.append(proc.stdout.readline())
    return Served(proc, url, banner)


def lines_until(proc: subprocess.Popen[str], n: int) -> list[str]:
    """The next ``n`` access-log lines (the log is flushed every 0.2 s)."""
    assert proc.stdout is not None
    return [proc.stdout.readline() for _ in range(n)]


# --- the access log -----------------------------------------------------------------------------

TEXT_LINE = re.compile(
    r"\d\d:\d\d:\d\d\.\d{3} (?P<vendor>\S+)\s+(?P<op>\S+)\s+(?P<status>\d{3}|---) code=(?P<code>\S+) "
    r"scenario=(?P<scenario>\S+) fault=(?P<fault>\S+) (?P<ms>\d+\.\d)ms\n"
)


def test_serve_prints_one_line_per_request_and_the_dashboard_url() -> None:
    s = serve()
    try:
        assert any(line.strip().startswith(f"dashboard: {s.url}/__modsim/ui/") for line in s.banner), s.banner
        requests.post(
            f"{s.url}/__modsim/faults",
            json={"rules": [{"vendor": "showapi", "first_n": 1, "action": {"type": "error", "code": -1009}}]},
            timeout=10,
        )
        requests.post(f"{s.url}/2054-3", data=SHOWAPI_CALL, timeout=10)
        requests.post(f"{s.url}/2054-3", data={**SHOWAPI_CALL, "content": "[[modsim=text_ads]]"}, timeout=10)
        requests.get(f"{s.url}/nowhere", timeout=10)
        first, second, third = (TEXT_LINE.fullmatch(line) for line in lines_until(s.proc, 3))
        assert first and second and third
        assert (first["vendor"], first["op"], first["status"], first["code"], first["fault"]) == (
            "showapi",
            "2054-3",
            "200",
            "-1009",
            "f1",
        )
        assert (second["code"], second["scenario"], second["fault"]) == ("0", "text_ads(marker)", "-")
        assert (third["vendor"], third["status"]) == ("unmatched", "404")
    finally:
        _, err = s.stop()
    assert "Traceback" not in err


def test_json_access_log_and_quiet() -> None:
    s = serve("--log-format", "json")
    try:
        resp = requests.post(f"{s.url}/2054-3", data=SHOWAPI_CALL, timeout=10)
        [line] = lines_until(s.proc, 1)
        entry = json.loads(line)
        assert set(entry) == {
            "time", "request_id", "vendor", "operation", "status", "vendor_code",
            "scenario", "scenario_source", "fault", "latency_ms",
        }  # fmt: skip
        assert (entry["vendor"], entry["operation"], entry["status"], entry["vendor_code"]) == (
            "showapi",
            "2054-3",
            200,
            0,
        )
        assert entry["request_id"] == resp.headers["X-Modsim-Request-Id"]
    finally:
        s.stop()
    q = serve(env={"MODSIM_QUIET": "1"})
    try:
        requests.post(f"{q.url}/2054-3", data=SHOWAPI_CALL, timeout=10)
        time.sleep(0.5)  # past the access log's flush interval
    finally:
        out, _ = q.stop()
    assert out.strip() == "modsim: shutting down"


# --- metrics ------------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(Settings(validate_responses=True)) as s:
        yield s


def scrape(url: str) -> dict[str, list[Any]]:
    resp = requests.get(f"{url}/__modsim/metrics", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    return {f.name: f.samples for f in text_string_to_metric_families(resp.text)}


def test_metrics_count_requests_faults_latency_quotas_and_the_journal(server: ThreadedServer) -> None:
    rule = {"vendor": "showapi", "first_n": 1, "action": {"type": "error", "code": -1009}}
    requests.post(f"{server.url}/__modsim/faults", json={"rules": [rule]}, timeout=10)
    for _ in range(3):
        requests.post(f"{server.url}/2054-3", data=SHOWAPI_CALL, timeout=10)
    tiny = {"showapi_appid": "100003", "showapi_sign": "demo-showapi-tiny-quota", "content": "x"}
    requests.post(f"{server.url}/2054-3", data=tiny, timeout=10)
    m = scrape(server.url)
    counted = {
        (s.labels["vendor"], s.labels["operation"], s.labels["status"], s.labels["vendor_code"]): s.value
        for s in m["modsim_requests"]
        if s.name == "modsim_requests_total"
    }
    assert counted[("showapi", "2054-3", "200", "-1009")] == 1
    assert counted[("showapi", "2054-3", "200", "0")] == 3
    count = [s for s in m["modsim_request_latency_seconds"] if s.name.endswith("_count")]
    assert [(s.labels, s.value) for s in count] == [({"vendor": "showapi", "operation": "2054-3"}, 4.0)]
    inf = [s for s in m["modsim_request_latency_seconds"] if s.labels.get("le") == "+Inf"]
    assert inf[0].value == 4.0
    hits = {s.labels["rule"]: s.value for s in m["modsim_fault_hits"] if s.name == "modsim_fault_hits_total"}
    seen = {s.labels["rule"]: s.value for s in m["modsim_fault_rule_seen"] if s.name.endswith("_total")}
    assert (hits, seen) == ({"f1": 1.0}, {"f1": 4.0})
    remaining = {(s.labels["credential"], s.labels["window"]): s.value for s in m["modsim_quota_remaining"]}
    assert ("100001", "total") not in remaining  # no limit: no series
    tiny_limits = {w: v for (c, w), v in remaining.items() if c == "100003"}
    assert tiny_limits and all(v >= 0 for v in tiny_limits.values())
    assert m["modsim_journal_entries"][0].value == 4.0  # the fault POST is an admin call: not journalled


def test_metrics_reset_with_the_simulator(server: ThreadedServer) -> None:
    requests.post(f"{server.url}/2054-3", data=SHOWAPI_CALL, timeout=10)
    assert scrape(server.url)["modsim_requests"]
    requests.post(f"{server.url}/__modsim/reset", timeout=10)
    m = scrape(server.url)
    assert [s for s in m["modsim_requests"] if s.name == "modsim_requests_total"] == []
    assert m["modsim_journal_entries"][0].value == 0.0


# --- a command line that never shows a traceback -------------------------------------------------

BAD = [
    (
        ["serve", "--port", "99999"],
        {},
        "argument --port: 99999 is not a port (0 to 65535; 0 picks a free one)",
    ),
    (["serve", "--port", "-5"], {}, "argument --port: -5 is not a port"),
    (["serve", "--proxy-port", "99999"], {}, "argument --proxy-port: 99999 is not a port"),
    (["serve"], {"MODSIM_PORT": "abc"}, "MODSIM_PORT='abc' is not a valid int"),
    (["serve"], {"MODSIM_PORT": "70000"}, "port 70000 is not a port (0 to 65535"),
    (["serve"], {"MODSIM_SEED": "x1"}, "MODSIM_SEED='x1' is not a valid int"),
    (["serve", "--log-format", "xml"], {}, "argument --log-format: invalid choice: 'xml'"),
    (
        ["serve", "--fixtures", "/nonexistent/fixtures"],
        {},
        "cannot load fixtures: fixtures directory not found",
    ),
    (
        ["image", "-o", "/nonexistent/dir/x.png"],
        {},
        "cannot write /nonexistent/dir/x.png: No such file or directory",
    ),
    (["image", "--size", "100000x100000", "-o", "x.png"], {}, "100000x100000 x 1 frame(s) is too large"),
    (["image", "--size", "abc", "-o", "x.png"], {}, "argument --size: size is WxH"),
    (["image", "--format", "gif", "--frames", "1000", "-o", "x.gif"], {}, "frames must be 1 (or up to 100"),
    (["image", "--scenario", "nope", "-o", "x.png"], {}, "unknown scenario 'nope'"),
    (
        ["scenarios", "--fixtures", "/nonexistent/fixtures"],
        {},
        "cannot load fixtures: fixtures directory not found",
    ),
    (["ca", "-o", "/nonexistent/dir/ca.pem"], {}, "cannot write /nonexistent/dir/ca.pem"),
    (["nope"], {}, "invalid choice: 'nope'"),
    ([], {}, "the following arguments are required: command"),
]


@pytest.mark.parametrize(("argv", "env", "says"), BAD, ids=[" ".join(a) or "no-args" for a, _, _ in BAD])
def test_bad_input_ends_in_one_line_and_exit_2(
    tmp_path: Path, argv: list[str], env: dict[str, str], says: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path), **env},
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    [line] = proc.stderr.splitlines()
    assert line.startswith("modsim")
    assert says in line


def test_a_broken_fixture_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("scenarios: [ {name: x\n", encoding="utf-8")
    for argv in (
        ["scenarios", "--fixtures", str(tmp_path)],
        ["serve", "--port", "0", "--fixtures", str(tmp_path)],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "simulator", *argv], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2
        [line] = proc.stderr.splitlines()
        assert line.startswith(f"modsim: cannot load fixtures: {tmp_path / 'broken.yaml'}: not valid YAML")


def test_a_closed_output_pipe_is_one_line() -> None:
    read, write = os.pipe()
    os.close(read)  # ``modsim scenarios --json | head``: the reader is gone before modsim writes
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "simulator", "scenarios", "--json"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    assert proc.returncode == 2
    assert proc.stderr == "modsim: output closed early (broken pipe)\n"
