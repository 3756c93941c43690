"""Issue 12 items 5, 6, 7, 10, 11 and 13: each test reproduces the attack or input.

5. non-finite numbers in admin JSON, unbounded fault waits, SIGTERM with hang faults in flight;
6. body reads without a timeout (a fault matching on ``fields``, admin bodies);
7. deep JSON while a ``fields`` fault is active;
10. requests aiohttp refuses before routing: journalled, one log line, no traceback;
11. the journal tells the truth (no answer, half-closed clients, Alibaba Cloud RequestIds);
13. rule regexes run on a linear-time engine.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator.scenarios.loader import FixtureError
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.testing import ThreadedServer
from tests.vendors.aliyun.helpers import sign_headers

SHOWAPI_CALL = b"showapi_appid=100001&showapi_sign=demo-showapi-secret&content=hello"
ALIYUN_SCAN = "/green/image/scan"
SIGNED_QUERY = "?RegionId=cn-shanghai"  # what sign_headers signs, as aliyunsdkcore sends


def admin_raw(server: ThreadedServer, method: str, path: str, body: bytes) -> tuple[int, Any]:
    resp = requests.request(
        method,
        f"{server.url}/__modsim{path}",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    return resp.status_code, resp.json()


def journal(server: ThreadedServer, **filters: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(
        f"{server.url}/__modsim/journal", params=filters, timeout=10
    ).json()["entries"]
    return entries


async def raw_exchange(port: int, data: bytes, *, half_close: bool = False, timeout: float = 10) -> bytes:
    """Send ``data`` on a fresh connection; everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if half_close:
        writer.write_eof()
    try:
        return await asyncio.wait_for(reader.read(), timeout=timeout)
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.fixture
def server() -> Any:
    with ThreadedServer(Settings(validate_responses=True)) as s:
        yield s


# --- 5. non-finite numbers, bounded waits, SIGTERM ----------------------------------------------


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_admin_json_are_refused(server: ThreadedServer, number: str) -> None:
    body = f'{{"rules": [{{"action": {{"type": "latency", "ms": {number}}}}}]}}'.encode()
    status, answer = admin_raw(server, "POST", "/faults", body)
    assert status == 400
    assert answer["error"] == "invalid_json"
    assert "non-finite numbers are refused" in answer["detail"]
    # nothing was installed, and the listing is still valid JSON
    listed = requests.get(f"{server.url}/__modsim/faults", timeout=10)
    assert json.loads(listed.text) == {"rules": []}
    status, answer = admin_raw(server, "POST", "/clock", f'{{"advance_s": {number}}}'.encode())
    assert (status, answer["error"]) == (400, "invalid_json")


def test_non_finite_numbers_in_fixtures_stop_the_start(tmp_path: Path) -> None:
    (tmp_path / "faults.yaml").write_text(
        "faults:\n  - {vendor: baidu, action: {type: latency, ms: .nan}}\n", encoding="utf-8"
    )
    with pytest.raises(FixtureError, match="faults/0/action/ms: nan is not a finite number"):
        Sim(Settings(fixtures=(tmp_path,)))


def test_non_finite_numbers_in_an_aliyun_body_are_bad_request(server: ThreadedServer) -> None:
    raw = b'{"scenes": ["porn"], "tasks": [{"url": "https://a.invalid/x.png", "score": NaN}]}'
    headers = sign_headers(ALIYUN_SCAN, raw, date=formatdate(time.time(), usegmt=True))
    resp = requests.post(server.url + ALIYUN_SCAN + SIGNED_QUERY, data=raw, headers=headers, timeout=10)
    assert resp.status_code == 200
    assert (resp.json()["code"], resp.json()["msg"]) == (400, "BAD_REQUEST")


def test_a_hang_fault_longer_than_any_wait_allowed_is_cut_at_the_bound() -> None:
    with ThreadedServer(Settings(fault_max_wait_s=0.3, validate_responses=True)) as server:
        fault = {"vendor": "showapi", "action": {"type": "hang", "max_s": 3600}}
        assert requests.post(f"{server.url}/__modsim/faults", json={"rules": [fault]}, timeout=10).ok
        got = asyncio.run(
            raw_exchange(
                server.port,
                b"POST /2054-3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(SHOWAPI_CALL)}\r\n\r\n".encode()
                + SHOWAPI_CALL,
            )
        )
        assert got == b""  # the client got no byte: the connection was closed
        [entry] = journal(server, vendor="showapi")
        assert entry["status"] is None
        assert entry["error"] == "no answer: a hang fault held the connection 0.3 s, then closed it"


def test_a_latency_fault_and_a_slow_body_are_bounded_too() -> None:
    with ThreadedServer(Settings(fault_max_wait_s=0.3, validate_responses=True)) as server:
        faults = [
            {"vendor": "showapi", "first_n": 1, "action": {"type": "latency", "ms": 600000}},
            {"vendor": "showapi", "action": {"type": "slow_body", "chunk_bytes": 1, "delay_ms": 60000}},
        ]
        assert requests.post(f"{server.url}/__modsim/faults", json={"rules": faults}, timeout=10).ok
        for _ in range(2):  # 600 s of latency, then a 60 s pause per byte: each within the 0.3 s bound
            resp = requests.post(f"{server.url}/2054-3", data=SHOWAPI_CALL, timeout=10)
            assert resp.json()["showapi_res_code"] == 0
        entries = journal(server, vendor="showapi")
        for _ in range(50):  # the journal entry is written once the drip is over
            if len(entries) == 2:
                break
            time.sleep(0.05)
            entries = journal(server, vendor="showapi")
        latency, slow = entries
        assert latency["fault"]["latency_ms"] == 300.0
        assert slow["fault"]["action"]["type"] == "slow_body"


def test_a_hang_fault_over_an_hour_is_refused(server: ThreadedServer) -> None:
    rule = {"vendor": "showapi", "action": {"type": "hang", "max_s": 3601}}
    resp = requests.post(f"{server.url}/__modsim/faults", json={"rules": [rule]}, timeout=10)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"


def _serve(port_env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **port_env},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # "modsim X serving on http://127.0.0.1:PORT  (admin: ...)"
    if "serving on " not in first:
        proc.kill()
        raise AssertionError(f"modsim serve did not start: {first!r} {proc.communicate(timeout=10)}")
    url = first.split("serving on ")[1].split()[0]
    return proc, url


def test_sigterm_exits_within_the_shutdown_timeout_with_hang_faults_in_flight() -> None:
    proc, url = _serve({"MODSIM_SHUTDOWN_TIMEOUT_S": "2"})
    try:
        fault = {"vendor": "showapi", "action": {"type": "hang", "max_s": 600}}
        assert requests.post(f"{url}/__modsim/faults", json={"rules": [fault]}, timeout=10).ok
        port = int(url.rsplit(":", 1)[1])
        hung = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(
                b"POST /2054-3 HTTP/1.1\r\nHost: x\r\nContent-Length: "
                + str(len(SHOWAPI_CALL)).encode()
                + b"\r\n\r\n"
                + SHOWAPI_CALL
            )
            hung.append(s)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=3 + 5)  # the 2 s timeout + 1 s, and a margin for a loaded machine
        assert proc.returncode == 0
        for s in hung:
            s.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


# --- 6. every body read has a timeout -------------------------------------------------------------


def test_a_fields_fault_reads_the_body_with_the_timeout() -> None:
    with ThreadedServer(Settings(body_timeout_s=0.3, validate_responses=True)) as server:
        rule = {"vendor": "showapi", "fields": {"content": "x"}, "action": {"type": "error", "code": -1009}}
        assert requests.post(f"{server.url}/__modsim/faults", json={"rules": [rule]}, timeout=10).ok
        got = asyncio.run(
            raw_exchange(
                server.port,
                b"POST /2054-3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000\r\n\r\ncontent=",
            )
        )
        head, _, body = got.partition(b"\r\n\r\n")
        assert b"Connection: close" in head
        answer = json.loads(body)
        assert (answer["showapi_res_code"], answer["showapi_res_error"]) == (-1, "系统调用错误")
        [entry] = journal(server, vendor="showapi")
        assert entry["error"] == "HTTP 408 Request Timeout"


def test_an_admin_body_is_read_with_the_timeout_and_capped() -> None:
    with ThreadedServer(Settings(body_timeout_s=0.3)) as server:
        got = asyncio.run(
            raw_exchange(
                server.port,
                b"POST /__modsim/faults HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"rules": [',
            )
        )
        head, _, body = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        assert json.loads(body)["error"] == "Request Timeout"
        big = b'{"rules": [' + b" " * (1024 * 1024) + b"]}"
        status, answer = admin_raw(server, "POST", "/faults", big)
        assert (status, answer["error"]) == (413, "body_too_large")


# --- 7. deep JSON with a fields fault ---------------------------------------------------------------


def test_deep_json_with_a_fields_fault_is_bad_request_not_internal_error(server: ThreadedServer) -> None:
    rule = {"vendor": "aliyun", "fields": {"dataId": "d1"}, "action": {"type": "error", "code": 586}}
    assert requests.post(f"{server.url}/__modsim/faults", json={"rules": [rule]}, timeout=10).ok
    raw = b"[" * 2000 + b"]" * 2000
    headers = sign_headers(ALIYUN_SCAN, raw, date=formatdate(time.time(), usegmt=True))
    resp = requests.post(server.url + ALIYUN_SCAN + SIGNED_QUERY, data=raw, headers=headers, timeout=10)
    assert resp.status_code == 200
    assert (resp.json()["code"], resp.json()["msg"]) == (400, "BAD_REQUEST")
    [entry] = journal(server, vendor="aliyun")
    assert "traceback" not in entry and entry["fault"] is None


# --- 10. requests refused before routing -----------------------------------------------------------

MALFORMED = {
    "oversized request line": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "oversized header": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
    "control byte in a header": b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
    "duplicate Content-Length": b"POST /2054-3 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
    "Content-Length with Transfer-Encoding": (
        b"POST /2054-3 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "TLS on the plain port": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
}


def test_requests_refused_before_routing_are_journalled_in_one_line_without_traceback() -> None:
    proc, url = _serve({})
    try:
        port = int(url.rsplit(":", 1)[1])
        for data in MALFORMED.values():
            got = asyncio.run(raw_exchange(port, data))
            assert got.startswith(b"HTTP/1.0 400 Bad Request") or got.startswith(
                b"HTTP/1.1 400 Bad Request"
            ), got
        with urllib.request.urlopen(f"{url}/__modsim/journal?vendor=unmatched", timeout=10) as resp:
            entries = json.loads(resp.read())["entries"]
        assert len(entries) == len(MALFORMED)
        for e in entries:
            assert (e["vendor"], e["status"], e["vendor_code"]) == ("unmatched", 400, 400)
            assert e["error"].startswith("refused before routing: ")
        errors = [e["error"] for e in entries]
        assert any("Duplicate Content-Length" in e for e in errors)
        assert any("HTTPS traffic on an HTTP port" in e for e in errors)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    refused = [
        line for line in lines if line.startswith("modsim: refused a malformed request from 127.0.0.1: ")
    ]
    assert len(refused) == len(MALFORMED), err


# --- 11. the journal tells the truth ---------------------------------------------------------------


def test_a_reset_fault_is_journalled_as_no_answer(server: ThreadedServer) -> None:
    rule = {"vendor": "showapi", "action": {"type": "reset"}}
    assert requests.post(f"{server.url}/__modsim/faults", json={"rules": [rule]}, timeout=10).ok
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{server.url}/2054-3", data=SHOWAPI_CALL, timeout=10)
    [entry] = journal(server, vendor="showapi")
    assert (entry["status"], entry["error"]) == (None, "no answer: a reset fault closed the connection")
    har = requests.get(f"{server.url}/__modsim/journal", params={"format": "har"}, timeout=10).json()
    assert har["log"]["entries"][-1]["response"]["status"] == 0


def test_a_client_that_half_closes_mid_body_is_journalled_with_the_reason(server: ThreadedServer) -> None:
    got = asyncio.run(
        raw_exchange(
            server.port,
            b"POST /2054-3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 1000\r\n\r\ncontent=ab",
            half_close=True,
        )
    )
    assert got == b""
    for _ in range(50):  # the server notices the half-close on its own loop
        entries = journal(server, vendor="showapi")
        if entries:
            break
        time.sleep(0.05)
    [entry] = entries
    assert entry["status"] is None
    assert entry["error"] == (
        "no answer: the client closed the connection mid-request (10 of 1000 body bytes received)"
    )


def test_aliyun_internal_errors_and_timeouts_carry_the_journal_request_id() -> None:
    with ThreadedServer(Settings(body_timeout_s=0.3, validate_responses=True)) as server:
        raw = json.dumps({"scenes": ["porn"], "tasks": [{"url": "https://a.invalid/x.png"}]}).encode()
        headers = sign_headers(ALIYUN_SCAN, raw, date=formatdate(time.time(), usegmt=True))
        got = asyncio.run(
            raw_exchange(
                server.port,
                f"POST {ALIYUN_SCAN}{SIGNED_QUERY} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
                + f"Content-Length: {len(raw) + 50}\r\n\r\n".encode()
                + raw,
            )
        )
        head, _, body = got.partition(b"\r\n\r\n")
        answer = json.loads(body)
        [rid_header] = [
            line.split(b": ")[1].decode()
            for line in head.split(b"\r\n")
            if line.startswith(b"X-Modsim-Request-Id")
        ]
        assert answer["Code"] == "InternalError"
        assert answer["RequestId"].replace("-", "").lower() == rid_header
        [entry] = journal(server, vendor="aliyun")
        assert entry["request_id"] == rid_header


# --- 13. rule regexes on a linear-time engine ------------------------------------------------------


def test_a_catastrophic_rule_regex_runs_in_linear_time(server: ThreadedServer) -> None:
    rule = {"name": "evil", "match": {"text": "(a+)+$"}, "scenario": "text_ads"}
    assert requests.patch(f"{server.url}/__modsim/rules", json={"rules": [rule]}, timeout=10).ok
    # 40 letters and a mismatch: 2**40 steps for a backtracking engine, one pass for RE2
    call = SHOWAPI_CALL.replace(b"content=hello", b"content=" + b"a" * 40 + b"b")
    body = requests.post(f"{server.url}/2054-3", data=call, timeout=10).json()["showapi_res_body"]
    assert body["result"]["spam"] == 0
    call = SHOWAPI_CALL.replace(b"content=hello", b"content=" + b"a" * 40)
    body = requests.post(f"{server.url}/2054-3", data=call, timeout=10).json()["showapi_res_body"]
    assert body["result"]["spam"] == 1  # matched: the rule's text_ads scenario
    assert journal(server, vendor="showapi")[-1]["scenario_source"] == ["rule:evil"]


def test_a_rule_regex_re2_cannot_run_is_refused(server: ThreadedServer) -> None:
    rule = {"match": {"text": r"(?<=a)b"}, "scenario": "text_ads"}
    resp = requests.patch(f"{server.url}/__modsim/rules", json={"rules": [rule]}, timeout=10)
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "invalid_request",
        "detail": "match.text: '(?<=a)b' is not an RE2 regular expression: invalid perl operator: (?<=",
    }


def test_a_fixture_rule_regex_re2_cannot_run_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - name: backref\n    match: {text: '(a)\\1'}\n    scenario: porn\n", encoding="utf-8"
    )
    with pytest.raises(
        FixtureError, match=r"rules.yaml:2: rule backref: match.text: '\(a\)\\\\1' is not an RE2"
    ):
        Sim(Settings(fixtures=(tmp_path,)))
