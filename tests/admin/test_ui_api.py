"""The admin calls the dashboard added (no browser): the live journal stream, thumbnails of recent
requests' images, scenario marker images, quotas, vendors, the page's own files, and the schema check
result in the journal. JSON shapes, 404s, masking for a remote reader, the stream cap."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from aiohttp.typedefs import Handler
from PIL import Image

from simulator import cli
from simulator.admin import dashboard, live
from simulator.app import create_app
from simulator.content import make_image, read_marker
from simulator.content.recent import RecentImages, thumbnail
from simulator.schemas import errors as schema_errors
from simulator.settings import Settings
from simulator.sim import Sim
from tests.helpers import BAIDU_API_KEY, baidu_token, face_audit, image_b64
from tests.live import LiveServer

A = "/__modsim"
TOKEN = {"X-Modsim-Token": "t0k"}
AIOASIS = "/fantabulous/touxiangshenhe"


def peer(address: str) -> Any:
    @web.middleware
    async def fake_peer(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request.clone(remote=address))

    return fake_peer


async def make_client(aiohttp_client: Any, settings: Settings, remote: str | None = None) -> TestClient:
    app = create_app(sim=Sim(settings))
    if remote is not None:  # a test-only outermost middleware standing in for a remote peer
        app.middlewares.insert(0, peer(remote))
    client: TestClient = await aiohttp_client(app)
    return client


@pytest.fixture
async def remote_client(aiohttp_client: Any) -> AsyncIterator[TestClient]:
    settings = Settings(seed=0, admin_allow_remote=True, admin_token="t0k", validate_responses=True)
    yield await make_client(aiohttp_client, settings, "10.1.2.3")


async def get_json(
    client: TestClient, path: str, status: int = 200, schema: str | None = None, **kw: Any
) -> Any:
    resp = await client.get(A + path, **kw)
    assert resp.status == status, resp.status
    text = await asyncio.wait_for(resp.text(), 10)  # a stream answered by mistake fails, not hangs
    assert resp.content_type == "application/json"
    body = json.loads(text)
    name = schema or ("admin/error" if status >= 400 else None)
    if name:
        assert schema_errors(name, body) == [], body
    return body


async def aioasis_call(client: TestClient, appkey: str = "demo-aioasis-daily") -> dict[str, Any]:
    resp = await client.post(AIOASIS, params={"appkey": appkey}, data={"images": image_b64("clean_avatar")})
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json(content_type=None)
    return body


class Events:
    """A server-sent-events reader over an open response."""

    def __init__(self, resp: ClientResponse) -> None:
        self.resp = resp

    async def next(self, timeout: float = 5.0) -> tuple[str, str | None, Any]:
        """(event, id, data) of the next event, skipping comments and the retry line."""
        while True:
            raw = await asyncio.wait_for(self.resp.content.readuntil(b"\n\n"), timeout)
            fields: dict[str, str] = {}
            for line in raw.decode("utf-8").splitlines():
                if not line or line.startswith(":"):
                    continue
                key, _, value = line.partition(": ")
                fields[key] = value
            if "event" in fields:
                return fields["event"], fields.get("id"), json.loads(fields["data"])

    async def entries(self, n: int) -> list[dict[str, Any]]:
        out = []
        while len(out) < n:
            event, seq, data = await self.next()
            assert event == "entry", (event, data)
            assert seq == str(data["seq"])
            out.append(data)
        return out


async def open_stream(client: TestClient, query: str = "", headers: dict[str, str] | None = None) -> Events:
    resp = await client.get(f"{A}/journal/stream{query}", headers=headers)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    return Events(resp)


# --- the live stream -----------------------------------------------------------------------------------


async def test_stream_pushes_new_entries_as_they_are_journalled(client: TestClient) -> None:
    await baidu_token(client)  # before the stream: not sent (the stream starts from now by default)
    events = await open_stream(client)
    assert await events.next() == ("hello", None, {"seq": 1})
    token = await baidu_token(client)
    status, _ = await face_audit(client, token, {"images": image_b64("porn")})
    assert status == 200
    got = await events.entries(2)
    assert [(e["seq"], e["operation"]) for e in got] == [(2, "token"), (3, "face_audit")]
    assert got[1]["scenario"] == ["porn"] and got[1]["scenario_source"] == ["marker"]
    assert got[1]["auth"]["outcome"] == "ok" and BAIDU_API_KEY in got[1]["auth"]["reason"]
    # exactly what the journal says about it
    journal = await get_json(client, "/journal?request_id=" + got[1]["request_id"])
    assert journal["entries"] == [got[1]]
    events.resp.close()


async def test_stream_since_replays_and_filters(client: TestClient) -> None:
    token = await baidu_token(client)
    await face_audit(client, token, {"images": image_b64()})
    await client.post("/2054-3", data={"showapi_appid": "100001", "showapi_sign": "demo-showapi-secret"})
    events = await open_stream(client, "?since=1&vendor=baidu")
    assert (await events.next())[0] == "hello"
    (entry,) = await events.entries(1)
    assert (entry["seq"], entry["operation"]) == (2, "face_audit")
    # a showapi call is not for this stream; the next Baidu one is
    await client.post("/2054-3", data={"showapi_appid": "100001", "showapi_sign": "demo-showapi-secret"})
    await baidu_token(client)
    (entry,) = await events.entries(1)
    assert (entry["vendor"], entry["operation"]) == ("baidu", "token")
    events.resp.close()


async def test_stream_resumes_from_last_event_id(client: TestClient) -> None:
    for _ in range(3):
        await baidu_token(client)
    events = await open_stream(client, headers={"Last-Event-ID": "2"})
    await events.next()
    assert [e["seq"] for e in await events.entries(1)] == [3]
    events.resp.close()


async def test_stream_says_when_the_journal_is_cleared(client: TestClient) -> None:
    events = await open_stream(client)
    await events.next()
    await baidu_token(client)
    await events.entries(1)
    resp = await client.post(A + "/reset")
    assert resp.status == 200
    event, _, data = await events.next()
    assert event == "cleared" and data == {"seq": 1}
    await baidu_token(client)  # seq goes on after a reset
    assert [e["seq"] for e in await events.entries(1)] == [2]
    events.resp.close()


async def test_stream_masks_secrets_for_a_remote_reader(remote_client: TestClient) -> None:
    events = await open_stream(remote_client, headers=TOKEN)
    await events.next()
    await aioasis_call(remote_client)
    token = await baidu_token(remote_client)
    (aioasis, baidu) = await events.entries(2)
    # the appkey is the credential itself: masked wherever it appears
    assert aioasis["credential"] == "demo***"
    assert "demo-aioasis-daily" not in json.dumps(aioasis)
    assert parse_qs(aioasis["query"])["appkey"] == ["demo***"]
    # Baidu's secret key and the issued token are masked, the API key (not a secret) is not
    assert parse_qs(baidu["query"])["client_secret"] == ["demo***"]
    assert baidu["credential"] == BAIDU_API_KEY
    assert token not in json.dumps(baidu)
    # the same masking as the journal's
    journal = await get_json(remote_client, "/journal", headers=TOKEN)
    assert journal["entries"] == [aioasis, baidu]
    events.resp.close()


async def test_stream_needs_the_token_and_refuses_reveal_remotely(remote_client: TestClient) -> None:
    err = await get_json(remote_client, "/journal/stream", status=401)
    assert err["error"] == "unauthorized"
    err = await get_json(remote_client, "/journal/stream?reveal=1", status=403, headers=TOKEN)
    assert err["error"] == "forbidden"
    err = await get_json(remote_client, "/journal/stream?since=x", status=400, headers=TOKEN)
    assert err["error"] == "invalid_request"


def test_stream_cap() -> None:
    """On a server as ``modsim serve`` runs it (no handler cancellation: the stream itself notices that
    its client went away), of its own (no other test's streams)."""
    server = LiveServer(Settings(seed=0)).start()
    url = f"{server.url}{A}/journal/stream"
    streams = [requests.get(url, stream=True, timeout=10) for _ in range(live.MAX_STREAMS)]
    try:
        assert [s.status_code for s in streams] == [200] * live.MAX_STREAMS
        refused = requests.get(url, timeout=10)
        assert refused.status_code == 429
        assert refused.json() == {
            "error": "too_many_streams",
            "detail": f"at most {live.MAX_STREAMS} live journal streams at once: close one first",
        }
        streams.pop(0).close()  # the server notices the client went away, and the slot is free again
        deadline = time.monotonic() + 10
        while True:
            again = requests.get(url, stream=True, timeout=10)
            if again.status_code == 200:
                streams.append(again)
                break
            assert again.status_code == 429
            assert time.monotonic() < deadline, "the closed stream's slot never came back"
            time.sleep(0.1)
    finally:
        for s in streams:
            s.close()
        server.stop()


def test_open_streams_end_when_the_server_stops() -> None:
    server = LiveServer(Settings(seed=0)).start()
    stream = requests.get(f"{server.url}{A}/journal/stream", stream=True, timeout=10)
    assert stream.status_code == 200
    server.stop()  # would wait for the open stream (and fail after 30 s) if it did not end
    assert b"event: hello" in stream.raw.read()  # the stream ended cleanly after what it had sent
    stream.close()


async def test_streams_end_when_the_server_shuts_down(aiohttp_client: Any) -> None:
    sim = Sim(Settings(seed=0))
    client: TestClient = await aiohttp_client(create_app(sim=sim))
    events = await open_stream(client)
    await events.next()
    await client.server.runner.shutdown()  # on_shutdown: what the server does before waiting for handlers
    assert await asyncio.wait_for(events.resp.content.read(), 5) == b""  # the stream ended cleanly


# --- images of recent requests ----------------------------------------------------------------------


async def test_thumbnail_of_a_request_image(client: TestClient) -> None:
    token = await baidu_token(client)
    status, _ = await face_audit(client, token, {"images": image_b64("porn", "jpeg", (640, 320))})
    assert status == 200
    (entry,) = (await get_json(client, "/journal?operation=face_audit"))["entries"]
    assert entry["images"] == 1
    resp = await client.get(f"{A}/journal/{entry['request_id']}/images/0")
    assert resp.status == 200 and resp.content_type == "image/png"
    assert resp.headers["Cache-Control"] == "no-store"
    with Image.open(io.BytesIO(await resp.read())) as im:
        assert im.format == "PNG" and im.size == (160, 80)
    # the token call carried no image; a request id that never was; a number past the images
    (tok,) = (await get_json(client, "/journal?operation=token"))["entries"]
    assert "images" not in tok
    for path in (
        f"/journal/{tok['request_id']}/images/0",
        "/journal/0123456789abcdef0123456789abcdef/images/0",
        f"/journal/{entry['request_id']}/images/1",
    ):
        err = await get_json(client, path, status=404)
        assert err["error"] == "not_found" and "last 64 requests" in err["detail"]
    err = await get_json(client, f"/journal/{entry['request_id']}/images/first", status=400)
    assert err["error"] == "invalid_request"
    # a reset forgets them with the journal
    await client.post(A + "/reset")
    await get_json(client, f"/journal/{entry['request_id']}/images/0", status=404)


async def test_thumbnails_of_several_images(client: TestClient) -> None:
    token = await baidu_token(client)
    images = [image_b64(None, "jpeg", (300, 300)), image_b64(None, "png", (100, 200))]
    status, _ = await face_audit(client, token, {"images": ",".join(images)})
    assert status == 200
    (entry,) = (await get_json(client, "/journal?operation=face_audit"))["entries"]
    assert entry["images"] == 2
    sizes = []
    for n in range(2):
        resp = await client.get(f"{A}/journal/{entry['request_id']}/images/{n}")
        assert resp.status == 200
        with Image.open(io.BytesIO(await resp.read())) as im:
            sizes.append(im.size)
    assert sizes == [(160, 160), (80, 160)]


async def test_thumbnail_of_bytes_that_are_no_image(client: TestClient, sim: Sim) -> None:
    sim.state.images.put("f" * 32, [b"\x89PNG\r\n\x1a\nnot really"])
    err = await get_json(client, f"/journal/{'f' * 32}/images/0", status=422)
    assert err["error"] == "no_preview"


def test_recent_images_are_bounded() -> None:
    store = RecentImages(max_requests=3, max_bytes=100, per_request=2)
    store.put("a", [b"1" * 10, b"2" * 10, b"3" * 10])  # the first two kept
    assert store.count("a") == 2 and store.get("a", 1) == b"2" * 10 and store.get("a", 2) is None
    store.put("b", [b"x" * 30])
    store.put("c", [b"y" * 30])
    store.put("d", [b"z" * 30])  # a fourth request: the oldest goes
    assert store.get("a", 0) is None and len(store) == 3 and store.size_bytes == 90
    store.put("e", [b"w" * 50])  # 140 bytes > 100: oldest dropped until it fits
    assert [store.count(k) for k in "bcde"] == [0, 0, 1, 1] and store.size_bytes == 80
    store.put("f", [b"v" * 101])  # larger than the whole store: not kept, nothing dropped
    assert store.count("f") == 0 and len(store) == 2
    store.clear()
    assert len(store) == 0 and store.size_bytes == 0


def test_the_image_store_keeps_the_last_64_requests(sim: Sim) -> None:
    assert (sim.state.images.max_requests, sim.state.images.per_request) == (64, 4)
    assert sim.state.images.max_bytes == 16 * 1024 * 1024


def test_thumbnail_keeps_the_aspect_ratio_and_refuses_huge_images() -> None:
    with Image.open(io.BytesIO(thumbnail(make_image(None, "png", (1000, 250))))) as im:
        assert im.size == (160, 40)
    with Image.open(io.BytesIO(thumbnail(make_image(None, "png", (40, 30))))) as im:
        assert im.size == (40, 30)  # never enlarged
    with Image.open(io.BytesIO(thumbnail(make_image(None, "gif", (320, 320), frames=3)))) as im:
        assert (im.format, im.size, getattr(im, "n_frames", 1)) == ("PNG", (160, 160), 1)  # the first frame
    with Image.open(io.BytesIO(thumbnail(make_image(None, "jpeg", (4000, 2000))))) as im:
        assert im.size == (160, 80)


# --- scenario images --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "ctype", "magic"),
    [("png", "image/png", b"\x89PNG"), ("jpeg", "image/jpeg", b"\xff\xd8"), ("gif", "image/gif", b"GIF8")],
)
async def test_scenario_image(client: TestClient, fmt: str, ctype: str, magic: bytes) -> None:
    resp = await client.get(f"{A}/scenarios/explicit_with_phone/image", params={"format": fmt})
    assert resp.status == 200 and resp.content_type == ctype
    data = await resp.read()
    assert data.startswith(magic)
    assert read_marker(data) == "explicit_with_phone"  # the image carries its verdict
    assert data == make_image("explicit_with_phone", fmt)  # what `modsim image` writes
    ext = "jpg" if fmt == "jpeg" else fmt
    assert resp.headers["Content-Disposition"] == f'inline; filename="explicit_with_phone.{ext}"'
    resp = await client.get(
        f"{A}/scenarios/explicit_with_phone/image", params={"format": fmt, "download": "1"}
    )
    assert resp.headers["Content-Disposition"].startswith("attachment;")


async def test_scenario_image_errors(client: TestClient) -> None:
    err = await get_json(client, "/scenarios/pron/image", status=404)
    assert err == {"error": "not_found", "detail": "no scenario 'pron'"}
    err = await get_json(client, "/scenarios/porn/image?format=bmp", status=400)
    assert "png, jpeg, gif" in err["detail"]


async def test_scenario_image_of_an_added_scenario(client: TestClient) -> None:
    resp = await client.post(
        A + "/scenarios", json={"name": "vip_avatar", "description": "某明星", "text": ["QQ 123456789"]}
    )
    assert resp.status == 201, await resp.text()
    resp = await client.get(f"{A}/scenarios/vip_avatar/image")
    assert resp.status == 200 and read_marker(await resp.read()) == "vip_avatar"


def test_scenario_image_cache_is_bounded() -> None:
    cache = dashboard.ImageCache(size=2)
    cache.put(("a", "png"), b"1")
    cache.put(("b", "png"), b"2")
    assert cache.get(("a", "png")) == b"1"  # now the most recently used
    cache.put(("c", "png"), b"3")
    assert cache.get(("b", "png")) is None and cache.get(("a", "png")) == b"1" and len(cache) == 2


# --- quotas and vendors -----------------------------------------------------------------------------


async def test_quotas(client: TestClient) -> None:
    await client.post(A + "/clock", json={"freeze": True})  # "the last second" stays put
    body = await get_json(client, "/quotas", schema="admin/quotas")
    daily = next(q for q in body["quotas"] if q["credential"] == "demo-aioasis-daily")
    assert daily == {
        "vendor": "aioasis",
        "credential": "demo-aioasis-daily",
        "limits": {"daily": 2},
        "used": {"qps": 0, "daily": 0, "total": 0},
        "remaining": {"daily": 2},
        "balance": {"free": 0, "paid": 100},
    }
    baidu = next(q for q in body["quotas"] if q["credential"] == BAIDU_API_KEY)
    assert (baidu["limits"], baidu["remaining"], baidu["balance"]) == ({}, {}, None)
    assert (await aioasis_call(client))["remain"] == 99
    body = await get_json(client, "/quotas?vendor=aioasis", schema="admin/quotas")
    assert {q["vendor"] for q in body["quotas"]} == {"aioasis"}
    daily = next(q for q in body["quotas"] if q["credential"] == "demo-aioasis-daily")
    assert daily["used"] == {"qps": 1, "daily": 1, "total": 1}
    assert daily["remaining"] == {"daily": 1} and daily["balance"] == {"free": 0, "paid": 99}
    # a new simulator day: the daily window is empty again
    await client.post(A + "/clock", json={"advance_s": 86400})
    body = await get_json(client, "/quotas?vendor=aioasis", schema="admin/quotas")
    daily = next(q for q in body["quotas"] if q["credential"] == "demo-aioasis-daily")
    assert daily["used"]["daily"] == 0 and daily["remaining"] == {"daily": 2}


async def test_quotas_mask_bare_keys_for_a_remote_reader(remote_client: TestClient) -> None:
    body = await get_json(remote_client, "/quotas", schema="admin/quotas", headers=TOKEN)
    creds = {(q["vendor"], q["credential"]) for q in body["quotas"]}
    assert ("baidu", BAIDU_API_KEY) in creds  # its secret is the secret key
    assert not any("demo-aioasis" in c or "demo-itapi" in c for _, c in creds)
    assert ("aioasis", "demo***") in creds
    await get_json(remote_client, "/quotas", status=401)


async def test_vendors(client: TestClient) -> None:
    body = await get_json(client, "/vendors", schema="admin/vendors")
    vendors = {v["name"]: v for v in body["vendors"]}
    assert set(vendors) == {"baidu", "showapi", "aioasis", "itapi", "aliyun"}
    ops = {o["name"]: o for o in vendors["baidu"]["operations"]}
    assert ops["face_audit"] == {
        "name": "face_audit",
        "kind": "business",
        "content": "image",
        "method": "POST",
        "path": "/rest/2.0/solution/v1/face_audit",
    }
    assert ops["token"]["kind"] == "credential"


# --- the page ---------------------------------------------------------------------------------------


async def test_the_page_and_its_files(client: TestClient) -> None:
    for path, ctype in (
        ("/ui/", "text/html"),
        ("/ui/app.js", "text/javascript"),
        ("/ui/app.css", "text/css"),
    ):
        resp = await client.get(A + path)
        assert resp.status == 200 and resp.content_type == ctype, path
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    page = await (await client.get(A + "/ui/")).text()
    assert 'src="app.js"' in page and 'href="app.css"' in page
    assert re.search(r'(src|href)="(https?:)?//', page) is None  # nothing from elsewhere
    for path in ("/ui", "/"):
        resp = await client.get(A + path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/__modsim/ui/"
    for name in ("nope.js", "dashboard.py", "index.htm"):
        err = await get_json(client, f"/ui/{name}", status=404)
        assert err["error"] == "not_found"


async def test_the_page_needs_no_token_but_its_calls_do(remote_client: TestClient) -> None:
    resp = await remote_client.get(A + "/ui/")
    assert resp.status == 200  # the page holds nothing: it asks for the token
    await get_json(remote_client, "/journal", status=401)
    await get_json(remote_client, "/vendors", status=401)
    await get_json(remote_client, "/vendors", schema="admin/vendors", headers=TOKEN)


async def test_the_page_stays_behind_the_loopback_boundary(aiohttp_client: Any) -> None:
    client = await make_client(aiohttp_client, Settings(seed=0), "10.1.2.3")
    for path in ("/ui/", "/ui/app.js", "/"):
        err = await get_json(client, path, status=403)
        assert err["error"] == "forbidden"


# --- the schema check in the journal ----------------------------------------------------------------


async def test_journal_entry_carries_the_schema_check(client: TestClient) -> None:
    token = await baidu_token(client)
    await face_audit(client, token, {"images": image_b64()})
    resp = await client.post(
        A + "/faults", json={"rules": [{"vendor": "baidu", "action": {"type": "http", "status": 502}}]}
    )
    assert resp.status == 200
    await face_audit(client, token, {"images": image_b64()})
    entries = (await get_json(client, "/journal?vendor=baidu", schema="admin/journal"))["entries"]
    assert [e["schema"] for e in entries] == [
        {"name": "baidu/token.success", "problems": []},
        {"name": "baidu/face_audit.success", "problems": []},
        {"skipped": "a http fault replaced the vendor's answer"},
    ]


async def test_no_schema_check_without_validate(aiohttp_client: Any) -> None:
    client = await make_client(aiohttp_client, Settings(seed=0, validate_responses=False))
    await baidu_token(client)
    (entry,) = (await get_json(client, "/journal"))["entries"]
    assert "schema" not in entry


def test_serve_validate_flag_and_environment() -> None:
    args = cli.build_parser().parse_args(["serve", "--validate"])
    settings = cli._settings(args)
    assert isinstance(settings, Settings) and settings.validate_responses
    plain = cli._settings(cli.build_parser().parse_args(["serve"]))
    assert isinstance(plain, Settings) and not plain.validate_responses
    assert Settings.load({"MODSIM_VALIDATE_RESPONSES": "1"}).validate_responses
