"""Several real ``modsim serve`` processes sharing one Redis behave as one simulator (issue 14).

Four instances (``i0``..``i3``) on one prefix of the suite's Redis; every test starts from
``POST /__modsim/reset`` on one of them, which resets all four. The official SDKs are pointed at one
instance for one step and at another for the next; the concurrency cases spread clients over all four.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import aip
import pytest
import requests
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import AcsRequest
from aliyunsdkgreen.request.v20180509 import (
    AddPersonRequest,
    GetPersonRequest,
    ImageAsyncScanRequest,
    ImageAsyncScanResultsRequest,
)

from simulator.content import make_image
from tests.cluster import Cluster, Instance, wait_healthy
from tests.helpers import BAIDU_API_KEY, BAIDU_APP_ID, BAIDU_SECRET, FACE_AUDIT, TOKEN, without_log_ids
from tests.redisproc import RedisProcess
from tests.store.conftest import drop_prefix
from tests.vendors.aliyun.helpers import AK, SECRET, UID, rfc2616, sign_headers

pytestmark = pytest.mark.sdk

SCAN = "/green/image/scan"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster")).start(4)
    yield c
    c.stop()
    drop_prefix(c.prefix, c.redis_url)


@pytest.fixture
def four(cluster: Cluster) -> Cluster:
    cluster[3].admin("POST", "/reset")
    return cluster


# --- Baidu: tokens ---------------------------------------------------------------------------------


def baidu_sdk(token_from: Instance, audit_on: Instance) -> aip.AipImageCensor:
    client = aip.AipImageCensor(BAIDU_APP_ID, BAIDU_API_KEY, BAIDU_SECRET)
    client._AipBase__accessTokenUrl = token_from.url + TOKEN
    client._AipImageCensor__faceAuditUrl = audit_on.url + FACE_AUDIT
    return client


def test_a_token_issued_on_one_instance_is_valid_and_revocable_on_all(four: Cluster) -> None:
    client = baidu_sdk(four[0], four[1])
    image = make_image(None, "png")
    first = client.faceAudit(image)
    assert [r["res_code"] for r in first["result"]] == [0], first
    token = client._authObj["access_token"]
    for inst in four.instances:  # valid everywhere
        resp = requests.post(f"{inst.url}{FACE_AUDIT}", params={"access_token": token},
                             data={"images": base64.b64encode(image).decode()}, timeout=10)  # fmt: skip
        assert resp.json()["result"][0]["res_code"] == 0, (inst.name, resp.text)

    assert four[2].admin("POST", "/vendors/baidu/tokens/revoke", {"token": token}) == {"revoked": 1}
    for inst in four.instances:  # revoked everywhere, at once
        resp = requests.post(f"{inst.url}{FACE_AUDIT}", params={"access_token": token},
                             data={"images": base64.b64encode(image).decode()}, timeout=10)  # fmt: skip
        assert (resp.status_code, resp.json()["error_code"]) == (200, 110), (inst.name, resp.text)
        assert resp.json()["error_msg"] == "Access token invalid or no longer valid"
    # the SDK takes 110 as "refresh the token", gets a new one from i0 and succeeds on i1
    again = client.faceAudit(image)
    assert [r["res_code"] for r in again["result"]] == [0], again
    assert client._authObj["access_token"] != token


def test_same_content_and_seed_give_the_same_verdict_on_every_instance(four: Cluster) -> None:
    images = {name: make_image(name, "jpeg") for name in (None, "porn", "no_face")}
    verdicts = []
    for inst in four.instances:
        client = baidu_sdk(inst, inst)
        got = {}
        for name, image in images.items():
            body = client.faceAudit(image)
            got[name] = without_log_ids(body["result"])
        verdicts.append(got)
    assert all(v == verdicts[0] for v in verdicts), verdicts
    assert verdicts[0]["porn"] != verdicts[0][None]


# --- quotas: exact and atomic across instances ------------------------------------------------------


async def _aioasis(session: aiohttp.ClientSession, inst: Instance, image: str) -> dict[str, Any]:
    async with session.post(
        f"{inst.url}/fantabulous/touxiangshenhe",
        params={"appkey": "demo-aioasis-trial"},
        data={"images": image},
    ) as resp:
        assert resp.status == 200
        body: dict[str, Any] = json.loads(await resp.text())
        return body


async def test_fifty_clients_over_four_instances_get_exactly_three_free_answers(four: Cluster) -> None:
    image = base64.b64encode(make_image(None, "jpeg")).decode()
    async with aiohttp.ClientSession() as session:
        bodies = await asyncio.gather(*(_aioasis(session, four[i % 4], image) for i in range(50)))
    codes = Counter(b["code"] for b in bodies)
    assert codes == {"10000": 3, "10010": 47}, codes
    assert sorted(b["remain"] for b in bodies if b["code"] == "10000") == [0, 1, 2]
    paid = [b for b in bodies if b["code"] == "10010"]
    assert all(b["msg"] == "接口需要付费，请充值" and b["charge"] is False for b in paid)
    balances = {inst.name: inst.admin("GET", "/quotas?vendor=aioasis") for inst in four.instances}
    trial = [
        next(q for q in b["quotas"] if q["credential"] == "demo-aioasis-trial")["balance"]
        for b in balances.values()
    ]
    assert all(t == trial[0] for t in trial), trial


async def test_a_daily_quota_is_exact_across_instances(four: Cluster) -> None:
    """showapi's tiny-quota app (daily 5 in the fixtures' policy) called 20 times over four instances."""
    cred = {
        "vendor": "baidu",
        "id": "quota-key",
        "secret": "quota-secret",
        "attrs": {"app_id": "1", "quota": {"daily": 7}},
    }
    four[0].admin("POST", "/credentials", cred)
    token = requests.post(
        f"{four[1].url}{TOKEN}",
        params={
            "grant_type": "client_credentials",
            "client_id": "quota-key",
            "client_secret": "quota-secret",
        },
        timeout=10,
    ).json()["access_token"]
    image = base64.b64encode(make_image(None, "png")).decode()

    async def one(session: aiohttp.ClientSession, inst: Instance) -> int:
        async with session.post(
            f"{inst.url}{FACE_AUDIT}", params={"access_token": token}, data={"images": image}
        ) as resp:
            body = json.loads(await resp.text())
            return int(body.get("error_code", 0))

    async with aiohttp.ClientSession() as session:
        codes = await asyncio.gather(*(one(session, four[i % 4]) for i in range(30)))
    assert Counter(codes) == {0: 7, 17: 23}, Counter(codes)


# --- Alibaba Cloud: nonces, tasks, callbacks, the face library ---------------------------------------


def green_client(inst: Instance) -> AcsClient:
    client = AcsClient(AK, SECRET, "cn-shanghai")
    client.add_endpoint("cn-shanghai", "Green", f"127.0.0.1:{inst.port}")
    return client


def send(client: AcsClient, request: AcsRequest, body: Any) -> dict[str, Any]:
    request.set_protocol_type("http")
    request.set_content(json.dumps(body))
    out: dict[str, Any] = json.loads(client.do_action_with_exception(request))
    return out


def test_a_nonce_replayed_on_another_instance_is_refused(four: Cluster) -> None:
    body = json.dumps(
        {"scenes": ["porn"], "tasks": [{"dataId": "d", "url": "https://a.invalid/x.png"}]}
    ).encode()
    headers = sign_headers(SCAN, body, date=rfc2616(time.time()), nonce="nonce-shared-1")
    first = requests.post(f"{four[0].url}{SCAN}?RegionId=cn-shanghai", data=body, headers=headers, timeout=10)
    assert (first.status_code, first.json()["code"]) == (200, 200), first.text
    for inst in four.instances[1:]:
        again = requests.post(
            f"{inst.url}{SCAN}?RegionId=cn-shanghai", data=body, headers=headers, timeout=10
        )
        assert again.status_code == 400, again.text
        assert (again.json()["Code"], again.json()["Message"]) == (
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )


def test_an_async_scan_submitted_on_one_instance_is_polled_on_another(four: Cluster) -> None:
    submitted = send(
        green_client(four[0]),
        ImageAsyncScanRequest.ImageAsyncScanRequest(),
        {"scenes": ["porn"], "tasks": [{"dataId": "a1", "url": "https://a.invalid/p.png#modsim=porn"}]},
    )
    task_id = submitted["data"][0]["taskId"]
    codes = []
    for i in range(10):  # the first polls may answer 280 PROCESSING (async.pending_polls), on any instance
        poll = ImageAsyncScanResultsRequest.ImageAsyncScanResultsRequest()
        polled = send(green_client(four[(i + 2) % 4]), poll, [task_id])
        [result] = polled["data"]
        codes.append(result["code"])
        if result["code"] != 280:
            break
    assert codes[-1] == 200 and set(codes[:-1]) <= {280}, codes
    assert (result["taskId"], result["dataId"], result["code"]) == (task_id, "a1", 200), polled
    assert result["results"][0]["suggestion"] == "block"
    unknown = send(
        green_client(four[3]), ImageAsyncScanResultsRequest.ImageAsyncScanResultsRequest(), ["nope"]
    )
    assert (unknown["data"][0]["code"], unknown["data"][0]["msg"]) == (594, "EXPIRED")


def test_itapi_task_submitted_on_one_instance_is_answered_on_another(four: Cluster) -> None:
    image = base64.b64encode(make_image("porn", "png")).decode()
    sub = requests.post(
        f"{four[1].url}/api/badword/pic",
        data={"key": "demo-itapi-key", "data": image, "type": "porn"},
        timeout=10,
    ).json()
    assert sub["code"] == 200, sub
    taskid = sub["data"]["taskid"]
    got = requests.get(
        f"{four[3].url}/api/badword/picresult", params={"key": "demo-itapi-key", "taskid": taskid}, timeout=10
    ).json()
    assert got["code"] == 200 and got["data"]["porn"]["label"] == "色情", got


class _Receiver(BaseHTTPRequestHandler):
    got: ClassVar[list[dict[str, Any]]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            self.got.append({"body": raw.decode()})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/green-callback"
    server.shutdown()
    server.server_close()


def test_each_callback_is_delivered_exactly_once(four: Cluster, receiver: str) -> None:
    from urllib.parse import parse_qs

    task_ids = []
    for i in range(8):
        inst = four[i % 4]
        body = send(
            green_client(inst),
            ImageAsyncScanRequest.ImageAsyncScanRequest(),
            {
                "scenes": ["porn"],
                "callback": receiver,
                "seed": "s",
                "tasks": [{"dataId": f"cb{i}", "url": "https://a.invalid/x.png"}],
            },
        )
        task_ids.append(body["data"][0]["taskId"])
        # polled everywhere meanwhile: polling never sends a callback again
        send(
            green_client(four[(i + 1) % 4]),
            ImageAsyncScanResultsRequest.ImageAsyncScanResultsRequest(),
            [task_ids[-1]],
        )
    deadline = time.monotonic() + 15
    while len(_Receiver.got) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # anything extra would arrive now
    delivered = Counter(json.loads(parse_qs(g["body"])["content"][0])["taskId"] for g in _Receiver.got)
    assert delivered == dict.fromkeys(task_ids, 1), delivered
    checks = [parse_qs(g["body"]) for g in _Receiver.got]
    assert all(
        c["checksum"][0] == hashlib.sha256((UID + "s" + c["content"][0]).encode()).hexdigest() for c in checks
    )


def test_the_face_library_is_one_library(four: Cluster) -> None:
    added = send(
        green_client(four[0]),
        AddPersonRequest.AddPersonRequest(),
        {"personId": "p-1", "groupIds": ["blacklist"], "name": "n"},
    )
    assert added["data"] == {"code": 200, "personId": "p-1", "groupIds": ["blacklist"]}
    dup = send(
        green_client(four[1]), AddPersonRequest.AddPersonRequest(), {"personId": "p-1", "groupIds": ["x"]}
    )
    assert dup["data"] == {"code": 400, "msg": "BAD_REQUEST", "personId": "p-1"}
    person = send(green_client(four[2]), GetPersonRequest.GetPersonRequest(), {"personId": "p-1"})["data"]
    assert (person["code"], person["personId"], person["groupIds"]) == (200, "p-1", ["blacklist"])


def test_the_same_person_added_concurrently_on_four_instances_is_added_once(four: Cluster) -> None:
    results: list[dict[str, Any]] = []

    def add(inst: Instance) -> None:
        results.append(
            send(
                green_client(inst),
                AddPersonRequest.AddPersonRequest(),
                {"personId": "race", "groupIds": ["g"]},
            )
        )

    threads = [threading.Thread(target=add, args=(four[i % 4],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = Counter(r["data"]["code"] for r in results)
    assert codes == {200: 1, 400: 7}, results


# --- controls: clock, faults, rules, queued outcomes --------------------------------------------------


def test_the_clock_is_one_clock(four: Cluster) -> None:
    now = four[0].admin("POST", "/clock", {"advance_s": 86400 * 3, "freeze": True})
    for inst in four.instances:
        assert inst.admin("GET", "/clock")["now"] == pytest.approx(now["now"], abs=1e-6), inst.name
    four[1].admin("POST", "/clock", {"skew_s": 30})
    assert {inst.admin("GET", "/clock")["skew_s"] for inst in four.instances} == {30}
    # a token issued now expires on the shared clock: advancing past its TTL on one instance
    four[2].admin("POST", "/clock", {"freeze": False})
    token = requests.post(
        f"{four[0].url}{TOKEN}",
        params={
            "grant_type": "client_credentials",
            "client_id": BAIDU_API_KEY,
            "client_secret": BAIDU_SECRET,
        },
        timeout=10,
    ).json()["access_token"]
    four[3].admin("POST", "/clock", {"advance_s": 2592000 + 10})
    resp = requests.post(
        f"{four[1].url}{FACE_AUDIT}", params={"access_token": token}, data={"images": "x"}, timeout=10
    )
    assert resp.json()["error_code"] == 111, resp.text


async def test_first_n_fires_exactly_n_times_across_instances(four: Cluster) -> None:
    four[0].admin(
        "POST",
        "/faults",
        {
            "rules": [
                {
                    "id": "three",
                    "vendor": "aioasis",
                    "first_n": 3,
                    "action": {"type": "error", "code": "10020"},
                }
            ]
        },
    )
    image = base64.b64encode(make_image(None, "jpeg")).decode()

    async def one(session: aiohttp.ClientSession, inst: Instance) -> str:
        async with session.post(
            f"{inst.url}/fantabulous/touxiangshenhe",
            params={"appkey": "demo-aioasis-appkey"},
            data={"images": image},
        ) as resp:
            return str(json.loads(await resp.text())["code"])

    async with aiohttp.ClientSession() as session:
        codes = await asyncio.gather(*(one(session, four[i % 4]) for i in range(40)))
    assert Counter(codes) == {"10020": 3, "10000": 37}, Counter(codes)
    for inst in four.instances:
        [rule] = inst.admin("GET", "/faults")["rules"]
        assert (rule["id"], rule["seen"], rule["hits"]) == ("three", 40, 3), (inst.name, rule)


def test_a_sequence_is_global(four: Cluster) -> None:
    four[1].admin(
        "POST",
        "/faults",
        {
            "rules": [
                {
                    "id": "seq",
                    "vendor": "itapi",
                    "sequence": [{"type": "http", "status": 502}, None, {"type": "http", "status": 503}],
                }
            ]
        },
    )
    statuses = []
    image = base64.b64encode(make_image(None, "png")).decode()
    for i in range(4):
        resp = requests.post(
            f"{four[i].url}/api/badword/pic",
            data={"key": "demo-itapi-key", "data": image, "type": "porn"},
            timeout=10,
        )
        statuses.append((resp.status_code, resp.json()["code"] if resp.status_code == 200 else None))
    # the sequence's steps go to the requests in order, whichever instance serves them; then it is spent
    assert statuses == [(502, None), (200, 200), (503, None), (200, 200)], statuses


def test_rules_and_scenarios_added_on_one_instance_apply_on_all(four: Cluster) -> None:
    image = make_image(None, "png")
    sha = hashlib.sha256(image).hexdigest()
    four[0].admin(
        "PATCH", "/rules", {"rules": [{"name": "by-hash", "match": {"sha256": sha}, "scenario": "porn"}]}
    )
    for inst in four.instances:
        body = baidu_sdk(inst, inst).faceAudit(image)
        assert body["result"][0]["res_code"] == 1, (inst.name, body)
        assert inst.admin("GET", "/rules")["rules"][-1]["name"] == "by-hash"


async def test_a_queued_outcome_is_consumed_exactly_once_across_instances(four: Cluster) -> None:
    four[2].admin("POST", "/queue", {"scenario": "porn", "vendor": "baidu", "count": 5})
    token = requests.post(
        f"{four[0].url}{TOKEN}",
        params={
            "grant_type": "client_credentials",
            "client_id": BAIDU_API_KEY,
            "client_secret": BAIDU_SECRET,
        },
        timeout=10,
    ).json()["access_token"]
    image = base64.b64encode(make_image(None, "png")).decode()

    async def one(session: aiohttp.ClientSession, inst: Instance) -> int:
        async with session.post(
            f"{inst.url}{FACE_AUDIT}", params={"access_token": token}, data={"images": image}
        ) as resp:
            return int(json.loads(await resp.text())["result"][0]["res_code"])

    async with aiohttp.ClientSession() as session:
        codes = await asyncio.gather(*(one(session, four[i % 4]) for i in range(40)))
    assert Counter(codes) == {1: 5, 0: 35}, Counter(codes)
    assert all(inst.admin("GET", "/queue")["queue"] == [] for inst in four.instances)


# --- one journal, one reset ---------------------------------------------------------------------------


def test_one_journal_names_each_instance(four: Cluster) -> None:
    for inst in four.instances:
        requests.get(f"{inst.url}/fantabulous/touxiangshenhe", timeout=10)  # 10004: no appkey
    for inst in four.instances:
        entries = inst.journal(vendor="aioasis")
        assert [(e["instance"], e["vendor_code"]) for e in entries] == [(f"i{i}", "10004") for i in range(4)]
        assert len({e["seq"] for e in entries}) == 4 and len({e["request_id"] for e in entries}) == 4
        assert inst.admin("GET", "/health")["journal_entries"] == 4


def test_reset_on_one_instance_resets_every_instance(four: Cluster) -> None:
    four[0].admin("POST", "/clock", {"advance_s": 3600})
    four[0].admin(
        "POST", "/faults", {"rules": [{"vendor": "itapi", "action": {"type": "http", "status": 500}}]}
    )
    four[1].admin("POST", "/queue", {"scenario": "porn"})
    requests.get(f"{four[2].url}/fantabulous/touxiangshenhe", timeout=10)
    four[3].admin("POST", "/reset")
    for inst in four.instances:
        assert abs(inst.admin("GET", "/clock")["offset_s"]) < 1, inst.name
        assert inst.admin("GET", "/faults")["rules"] == []
        assert inst.admin("GET", "/queue")["queue"] == []
        assert inst.journal() == []


# --- a lost Redis -----------------------------------------------------------------------------------------


def test_redis_lost_while_running_then_back(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path).start()
    c = Cluster(tmp_path, redis_url=server.url).start(2)
    try:
        c[0].admin(
            "POST",
            "/faults",
            {"rules": [{"id": "kept", "vendor": "showapi", "action": {"type": "http", "status": 500}}]},
        )
        server.stop()
        for inst in c.instances:
            wait_healthy(inst, status="degraded", timeout=15)
            resp = requests.post(
                f"{inst.url}{FACE_AUDIT}", params={"access_token": "24.x"}, data={"images": "x"}, timeout=10
            )
            assert resp.status_code == 200, resp.text
            assert (resp.json()["error_code"], resp.json()["error_msg"]) == (
                282000,
                "logic internal error",
            ), resp.text
            aio = requests.get(
                f"{inst.url}/fantabulous/touxiangshenhe", params={"appkey": "demo-aioasis-appkey"}, timeout=10
            )
            assert (aio.json()["code"], aio.json()["msg"]) == ("11010", "商家接口调用异常，请稍后再试"), (
                aio.text
            )
            health = inst.admin("GET", "/health")
            assert health["state"]["status"] == "degraded" and "journal_backlog" in health["state"]
            local = inst.journal()  # what this instance answered meanwhile, kept locally
            assert [e["vendor_code"] for e in local][-2:] == [282000, "11010"], local
        server.start()
        for inst in c.instances:
            wait_healthy(inst, status="ok", timeout=15)
        token = requests.post(
            f"{c[0].url}{TOKEN}",
            params={
                "grant_type": "client_credentials",
                "client_id": BAIDU_API_KEY,
                "client_secret": BAIDU_SECRET,
            },
            timeout=10,
        ).json()["access_token"]
        image = base64.b64encode(make_image(None, "png")).decode()
        ok = requests.post(
            f"{c[1].url}{FACE_AUDIT}", params={"access_token": token}, data={"images": image}, timeout=10
        )
        assert ok.json()["result"][0]["res_code"] == 0, ok.text
        assert [r["id"] for r in c[1].admin("GET", "/faults")["rules"]] == ["kept"]
        journal = c[0].journal()
        assert sum(1 for e in journal if e["vendor_code"] == 282000) == 2  # both instances' backlogs arrived
    finally:
        c.stop()
        server.stop()


# --- the command line: Redis down at start, --workers ----------------------------------------------------


def test_redis_down_at_start_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.cluster import ROOT, clean_env
    from tests.redisproc import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"
    for extra in ([], ["--workers", "2"]):
        proc = subprocess.run(
            [sys.executable, "-m", "simulator", "serve", "--port", "0", "--state", url, *extra],
            cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 2, proc
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"modsim: cannot reach the shared store at {url}"), (
            proc.stderr
        )
        assert "Traceback" not in proc.stdout + proc.stderr


def test_workers_without_state_refuse_to_start() -> None:
    import subprocess
    import sys

    from tests.cluster import ROOT, clean_env

    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "serve", "--port", "0", "--workers", "2"],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "modsim: --workers 2 needs --state redis://HOST:PORT/DB (MODSIM_STATE_URL): each worker is a process of "
        "its own, and only a shared store makes them one simulator (tokens, quotas, tasks, the journal); start "
        "Redis and pass its URL, or run one worker"
    )


def test_workers_share_one_port_one_banner_and_stop_together(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.cluster import REDIS_URL, ROOT, clean_env
    from tests.redisproc import free_port

    prefix = f"modsim-test:workers-{os.getpid()}:"
    port = free_port()
    out = (tmp_path / "out.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--workers", "3", "--quiet",
         "--state", REDIS_URL, "--state-prefix", prefix, "--instance", "w"],
        cwd=ROOT, env=clean_env(), stdout=out, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "workers (pids" not in (tmp_path / "out.log").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "out.log").read_text()
            time.sleep(0.1)
        text = (tmp_path / "out.log").read_text()
        assert text.count("serving on") == 1, text
        pids = [int(p) for p in text.split("workers (pids ")[1].split(")")[0].split(", ")]
        assert len(pids) == 3
        seen: set[str] = set()
        for _ in range(60):  # new connections spread over the workers
            with requests.Session() as s:
                s.get(f"http://127.0.0.1:{port}/fantabulous/touxiangshenhe", timeout=10)
            if len(seen) < 3:
                seen = {
                    e["instance"]
                    for e in requests.get(f"http://127.0.0.1:{port}/__modsim/journal", timeout=10).json()[
                        "entries"
                    ]
                }
        assert seen == {"w-0", "w-1", "w-2"}, seen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert "Traceback" not in (tmp_path / "out.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        out.close()
        drop_prefix(prefix, REDIS_URL)
