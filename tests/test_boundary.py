"""The admin boundary and outbound requests (issue 12, items 1, 2 and 12).

Outbound requests (Alibaba Cloud callbacks, allowlisted image fetches) never reach the simulator's
own listeners or its admin API, follow no redirect off the allowlist, and never reach loopback for a
remote client; remote admin needs a token and never sees secrets. A remote peer is faked by an
outermost test-only middleware; a "remote" host is a second loopback address (127.0.0.2).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.typedefs import Handler

from simulator import cli
from simulator.app import create_app
from simulator.content import make_image
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.testing import ThreadedServer
from simulator.vendors.baidu.auth import tokens
from tests.helpers import FACE_AUDIT, baidu_token, face_audit
from tests.vendors.aliyun.helpers import ASYNC, SCAN, green, scan_body, sign_headers

A = "/__modsim"
MARKED = "https://img.example.invalid/a.jpg#modsim=porn"
OWN = "is one of the simulator's own listeners"
NO_RETRIES = "vendors:\n  aliyun:\n    callback: {retries: 0}\n"


# --- helpers ----------------------------------------------------------------------------------------


def peer(address: str) -> Any:
    @web.middleware
    async def fake_peer(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request.clone(remote=address))

    return fake_peer


async def app_client(
    aiohttp_client: Any, settings: Settings, remote: str | None = None, sim: Sim | None = None
) -> TestClient:
    app = create_app(sim=sim or Sim(settings))
    if remote is not None:  # a test-only outermost middleware standing in for a remote peer
        app.middlewares.insert(0, peer(remote))
    client: TestClient = await aiohttp_client(app)
    return client


def no_retries(tmp_path: Path) -> tuple[Path, ...]:
    (tmp_path / "no-retries.yaml").write_text(NO_RETRIES, encoding="utf-8")
    return (tmp_path,)


async def callbacks_done(sim: Sim) -> list[dict[str, Any]]:
    """Every callback of ``sim`` (on this loop) finished: their journal entries."""
    await asyncio.gather(*list(sim.state.vendor_state("aliyun").get("callbacks", ())))
    return [e for e in sim.state.journal.query(vendor="aliyun") if e["operation"] == "callback"]


async def admin_json(client: TestClient, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    resp = await client.request(method, A + path, **kw)
    return resp.status, await resp.json()


class Counting:
    """A little HTTP server on ``host``: ``/img.png`` (an image), ``/cb`` (200), ``/to?u=URL`` (307 to URL)."""

    def __init__(self, host: str) -> None:
        self.hits: list[str] = []
        app = web.Application()
        app.router.add_route("*", "/img.png", self._image)
        app.router.add_route("*", "/cb", self._ok)
        app.router.add_route("*", "/to", self._redirect)
        self.server = TestServer(app, host=host)

    async def _image(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(body=make_image("sexy", "png"), content_type="image/png")

    async def _ok(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        await request.read()
        return web.Response(text="ok")

    async def _redirect(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        raise web.HTTPTemporaryRedirect(request.query["u"])

    def url(self, path: str) -> str:
        return f"http://{self.server.host}:{self.server.port}{path}"


@pytest.fixture
async def near() -> AsyncIterator[Counting]:
    c = Counting("127.0.0.1")
    await c.server.start_server()
    yield c
    await c.server.close()


@pytest.fixture
async def far() -> AsyncIterator[Counting]:
    """A host that is on no allowlist (127.0.0.2 is loopback, but not ``127.0.0.1``)."""
    c = Counting("127.0.0.2")
    await c.server.start_server()
    yield c
    await c.server.close()


# --- the simulator's own listeners (a real server with its proxy, as `modsim serve` runs) ----------


@pytest.fixture(scope="module")
def _own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    settings = Settings(
        seed=0,
        validate_responses=True,
        proxy_port=0,
        ca_dir=tmp_path_factory.mktemp("ca"),
        fetch_allowlist=("127.0.0.1", "localhost", "0.0.0.0"),
    )
    with ThreadedServer(settings) as server:
        yield server


@pytest.fixture
def own(_own: ThreadedServer) -> Iterator[ThreadedServer]:
    _own.reset()
    yield _own
    assert _own.sim.schema_violations == []


async def signed(server: ThreadedServer, path: str, payload: Any, action: str) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    query = {"RegionId": "cn-shanghai"}
    headers = sign_headers(path, body, sim=server.sim, query=query, action=action)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.url}{path}?{urlencode(query)}", data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def first_callback(server: ThreadedServer) -> dict[str, Any]:
    def entries() -> list[dict[str, Any]]:
        return [e for e in server.sim.state.journal.query(vendor="aliyun") if e["operation"] == "callback"]

    for _ in range(500):  # the callback is sent in the background, on the server's own loop
        found = server.call(entries)
        if found:
            return found[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no callback was journalled")


async def add_marker_credential(server: ThreadedServer) -> None:
    async with aiohttp.ClientSession() as session:
        cred = {"vendor": "baidu", "id": "marker", "secret": "s"}
        async with session.post(f"{server.url}{A}/credentials", json=cred) as resp:
            assert resp.status == 201


async def baidu_ids(server: ThreadedServer) -> set[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}{A}/credentials?vendor=baidu") as r,
    ):
        return {c["id"] for c in (await r.json())["credentials"]}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0.0.0.0"])
async def test_callback_to_the_admin_api_on_the_simulators_own_port_is_not_sent(
    own: ThreadedServer, host: str
) -> None:
    await add_marker_credential(own)
    body = scan_body(MARKED, callback=f"http://{host}:{own.port}/__modsim/reset", seed="s1")
    status, answer = await signed(own, ASYNC, body, "ImageAsyncScan")
    assert (status, answer["code"]) == (200, 200)
    entry = await first_callback(own)
    task = answer["data"][0]["taskId"]
    assert entry["status"] is None and entry["error"] == "refused"
    [note] = entry["notes"]
    assert note.startswith(f"callback for task {task} not sent: ") and note.endswith(f"port {own.port} {OWN}")
    assert "marker" in await baidu_ids(own)  # no reset happened


async def test_callback_to_the_simulators_proxy_port_is_not_sent(own: ThreadedServer) -> None:
    assert own.proxy is not None
    body = scan_body(MARKED, callback=f"http://127.0.0.1:{own.proxy.port}/cb", seed="s1")
    _, answer = await signed(own, ASYNC, body, "ImageAsyncScan")
    entry = await first_callback(own)
    assert entry["status"] is None
    assert entry["notes"] == [
        f"callback for task {answer['data'][0]['taskId']} not sent: 127.0.0.1 port {own.proxy.port} {OWN}"
    ]


async def test_fetching_from_the_simulators_own_ports_is_not_allowed(own: ThreadedServer) -> None:
    assert own.proxy is not None
    urls = [
        f"http://localhost:{own.port}/__modsim/health",
        f"http://127.0.0.1:{own.proxy.port}/img.png",
        f"http://0.0.0.0:{own.port}/oauth/2.0/token",
    ]
    status, answer = await signed(own, SCAN, scan_body(*urls), "ImageSyncScan")
    assert status == 200
    assert [(t["code"], t["msg"]) for t in answer["data"]] == [(401, "NOT_ALLOWED")] * 3
    [entry] = own.call(lambda: own.sim.state.journal.query(vendor="aliyun", limit=1))
    refused = [n for n in entry["notes"] if n.startswith("download ")]
    assert len(refused) == 3 and all(OWN in n and "not_allowed" in n for n in refused), refused
    # Baidu: its download error
    async with aiohttp.ClientSession() as session:
        params = {
            "grant_type": "client_credentials",
            "client_id": "demo-baidu-api-key",
            "client_secret": "demo-baidu-secret-key",
        }
        async with session.get(f"{own.url}/oauth/2.0/token", params=params) as resp:
            token = (await resp.json())["access_token"]
        async with session.post(
            f"{own.url}{FACE_AUDIT}", params={"access_token": token}, data={"imgUrls": urls[0]}
        ) as resp:
            got = await resp.json()
    assert (resp.status, got["error_code"], got["error_msg"]) == (200, 282804, "download image error")


# --- the admin API refuses the simulator's own traffic, however it arrives ---------------------------


async def test_admin_refuses_requests_marked_as_the_simulators_own(client: TestClient) -> None:
    status, body = await admin_json(client, "POST", "/reset", headers={"X-Modsim-Outbound": "anything"})
    assert (status, body) == (
        403,
        {
            "error": "forbidden",
            "detail": "the admin API refuses the simulator's own outbound requests (callbacks, image fetches)",
        },
    )


async def test_callback_through_a_listener_the_simulator_does_not_know_is_refused_by_the_admin_api(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """A TestServer is not registered as the simulator's own (like a port forward to it): the socket
    check cannot see it, the admin API refuses the marked request."""
    sim = Sim(Settings(fixtures=no_retries(tmp_path), validate_responses=True))
    client: TestClient = await aiohttp_client(create_app(sim=sim))
    assert (await admin_json(client, "POST", "/credentials", json={"vendor": "baidu", "id": "marker"}))[
        0
    ] == 201
    body = scan_body(MARKED, callback=f"http://127.0.0.1:{client.port}/__modsim/reset", seed="s1")
    status, answer, _ = await green(client, ASYNC, body, action="ImageAsyncScan")
    assert (status, answer["code"]) == (200, 200)
    [entry] = await callbacks_done(sim)
    assert entry["status"] == 403 and "not HTTP 200: HTTP 403; giving up" in entry["notes"]
    assert "marker" in {c.id for c in sim.state.credentials.all("baidu")}


# --- redirects ---------------------------------------------------------------------------------------


async def test_fetch_follows_redirects_only_to_allowlisted_hosts(
    aiohttp_client: Any, near: Counting, far: Counting
) -> None:
    client = await app_client(
        aiohttp_client, Settings(fetch_allowlist=("127.0.0.1",), validate_responses=True)
    )
    within = near.url("/to?" + urlencode({"u": near.url("/img.png")}))
    away = near.url("/to?" + urlencode({"u": far.url("/img.png")}))
    status, answer, _ = await green(client, SCAN, scan_body(within, away), action="ImageSyncScan")
    assert status == 200
    assert [(t["code"], t["msg"]) for t in answer["data"]] == [(200, "OK"), (401, "NOT_ALLOWED")]
    assert far.hits == []
    notes = _sim(client).state.journal.query(vendor="aliyun", limit=1)[0]["notes"]
    refused = [n for n in notes if "not_allowed" in n]
    assert len(refused) == 1 and "host '127.0.0.2' is not on the allowlist" in refused[0], notes
    token = await baidu_token(client)
    status, got = await face_audit(client, token, {"imgUrls": away})
    assert (status, got["error_code"], got["error_msg"]) == (200, 282804, "download image error")
    assert far.hits == []


async def test_callback_does_not_follow_redirects(
    aiohttp_client: Any, tmp_path: Path, near: Counting, far: Counting
) -> None:
    sim = Sim(Settings(fixtures=no_retries(tmp_path), validate_responses=True))
    client: TestClient = await aiohttp_client(create_app(sim=sim))
    callback = near.url("/to?" + urlencode({"u": far.url("/cb")}))
    status, answer, _ = await green(
        client, ASYNC, scan_body(MARKED, callback=callback, seed="s1"), action="ImageAsyncScan"
    )
    assert (status, answer["code"]) == (200, 200)
    [entry] = await callbacks_done(sim)
    assert far.hits == [] and near.hits == ["/to"]
    assert entry["status"] == 307
    assert entry["notes"][-1] == "not HTTP 200: HTTP 307 (redirects are not followed); giving up"


# --- a remote client cannot reach the simulator host's loopback ---------------------------------------


async def test_remote_client_gets_no_callback_or_fetch_to_loopback(
    aiohttp_client: Any, tmp_path: Path, near: Counting
) -> None:
    settings = Settings(
        fixtures=no_retries(tmp_path), fetch_allowlist=("127.0.0.1",), validate_responses=True
    )
    client = await app_client(aiohttp_client, settings, remote="10.0.0.5")
    sim = _sim(client)
    body = scan_body(near.url("/img.png"), callback=near.url("/cb"), seed="s1")
    status, answer, _ = await green(client, ASYNC, body, action="ImageAsyncScan")
    assert (status, answer["code"]) == (200, 200)
    [entry] = await callbacks_done(sim)
    assert near.hits == []
    assert entry["notes"] == [
        f"callback for task {answer['data'][0]['taskId']} not sent: 127.0.0.1 is this host's loopback and "
        "the request came from 10.0.0.5, not a loopback client"
    ]
    # the scan itself: the image URL was refused too
    notes = sim.state.journal.query(vendor="aliyun", operation="image_asyncscan", limit=1)[0]["notes"]
    assert any("not_allowed" in n and "not a loopback client" in n for n in notes), notes


def _sim(client: TestClient) -> Sim:
    from simulator.keys import SIM

    return client.app[SIM]


# --- remote admin: a token, and no secrets -------------------------------------------------------------


async def test_remote_admin_needs_a_token(aiohttp_client: Any) -> None:
    client = await app_client(aiohttp_client, Settings(admin_allow_remote=True), remote="10.0.0.5")
    assert await admin_json(client, "GET", "/health") == (200, {"status": "ok"})  # and nothing more
    for method, path in (("GET", "/credentials"), ("POST", "/reset"), ("GET", "/faults")):
        assert await admin_json(client, method, path) == (
            403,
            {
                "error": "forbidden",
                "detail": "remote admin calls need a token: start with --admin-token (MODSIM_ADMIN_TOKEN)",
            },
        )
    # loopback clients keep working without a token
    local = await app_client(aiohttp_client, Settings(admin_allow_remote=True))
    assert (await admin_json(local, "GET", "/health"))[0] == 200


@pytest.mark.parametrize(
    ("argv", "env"),
    [(["--admin-allow-remote"], {}), ([], {"MODSIM_ADMIN_ALLOW_REMOTE": "1"})],
)
def test_serve_refuses_remote_admin_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], env: dict[str, str]
) -> None:
    async def fake_run(*args: object) -> int:  # never listen: the refusal comes before
        return 0

    monkeypatch.setattr(cli, "_run", fake_run)
    monkeypatch.delenv("MODSIM_ADMIN_TOKEN", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert cli.main(["serve", "--port", "0", *argv]) == 2
    assert capsys.readouterr().err == (
        "modsim: --admin-allow-remote (MODSIM_ADMIN_ALLOW_REMOTE) needs --admin-token T "
        "(MODSIM_ADMIN_TOKEN): remote admin calls must carry X-Modsim-Token\n"
    )


async def test_remote_admin_listings_mask_secrets(aiohttp_client: Any) -> None:
    settings = Settings(admin_allow_remote=True, admin_token="tok", validate_responses=True)
    remote = await app_client(aiohttp_client, settings, remote="10.0.0.5")
    local = await app_client(aiohttp_client, settings)
    tok = {"X-Modsim-Token": "tok"}
    remote_token = await baidu_token(remote)
    await baidu_token(local)

    status, body = await admin_json(remote, "GET", "/credentials", headers=tok)
    assert status == 200
    by_key = {(c["vendor"], c["id"]): c for c in body["credentials"]}
    assert by_key[("baidu", "demo-baidu-api-key")]["secret"] == "***"
    assert by_key[("aliyun", "demo-aliyun-ak")]["secret"] == "***"
    assert ("itapi", "demo***") in by_key and ("aioasis", "demo***") in by_key  # the id is the key
    secrets = ("demo-baidu-secret-key", "demo-aliyun-secret", "demo-itapi-key", "demo-showapi-secret")
    assert not any(s in json.dumps(body) for s in secrets)
    status, tokens = await admin_json(remote, "GET", "/vendors/baidu/tokens", headers=tok)
    assert (status, [t["token"] for t in tokens["tokens"]]) == (200, [remote_token[:4] + "***"])
    assert await admin_json(remote, "GET", "/credentials?reveal=1", headers=tok) == (
        403,
        {"error": "forbidden", "detail": "secrets are revealed to loopback clients only"},
    )

    # a loopback client sees them (the README tour, the pytest plugin and the admin client rely on it)
    status, body = await admin_json(local, "GET", "/credentials?vendor=baidu", headers=tok)
    assert {"vendor": "baidu", "id": "demo-baidu-api-key", "secret": "demo-baidu-secret-key",
            "attrs": {"app_id": "10000001"}} in body["credentials"]  # fmt: skip
    status, tokens = await admin_json(local, "GET", "/vendors/baidu/tokens", headers=tok)
    assert all(t["token"].startswith("24.") and "***" not in t["token"] for t in tokens["tokens"])


@pytest.mark.parametrize("fmt", ["json", "jsonl", "har"])
async def test_remote_journal_reads_mask_what_the_clients_sent(aiohttp_client: Any, fmt: str) -> None:
    settings = Settings(admin_allow_remote=True, admin_token="tok", validate_responses=True)
    sim = Sim(settings)  # one simulator, seen from a remote and a loopback peer
    remote = await app_client(aiohttp_client, settings, remote="10.0.0.5", sim=sim)
    local = await app_client(aiohttp_client, settings, sim=sim)
    tok = {"X-Modsim-Token": "tok"}
    await baidu_token(local)  # client_secret in the query
    await local.post(
        "/2054-3", data={"showapi_appid": "100001", "showapi_sign": "demo-showapi-secret", "content": "x"}
    )
    await local.get("/api/badword/pic", params={"key": "demo-itapi-key", "type": "porn"})
    [issued] = [t["token"] for t in await tokens(sim).values()]
    secrets = ("demo-baidu-secret-key", "demo-showapi-secret", "demo-itapi-key", issued)

    resp = await remote.get(f"/__modsim/journal?format={fmt}", headers=tok)
    text = await resp.text()
    assert resp.status == 200
    assert not [s for s in secrets if s in text], text[:2000]
    assert "client_secret=demo***" in text and "showapi_sign=demo***" in text and "key=demo***" in text
    # the loopback reader sees what was sent
    resp = await local.get(f"/__modsim/journal?format={fmt}", headers=tok)
    text = await resp.text()
    assert all(s in text for s in secrets)
