"""Property tests at the Green endpoints: whatever arrives, the answer is the vendor's own shape.

Arbitrary JSON (and non-JSON) bodies, wrong types in every field, huge task lists, correctly signed;
tampered, missing or garbage headers; random paths and methods under /green/. Properties: never
HTTP 500 and never the InternalError answer (an unexpected exception in disguise), a body of the
operation's schema (POP error, Green error or success), a code from the vendor's tables, and
exactly one journal entry per request, without a traceback.
"""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from yarl import URL

from simulator import schemas
from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.aliyun.errors import GREEN_MESSAGES, POP_ERRORS
from simulator.vendors.aliyun.routes import ROUTES
from tests.vendors.aliyun.helpers import sign_headers

fuzz = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: the ROA paths (the 2022-03-02 RPC actions on ``/`` take another signature: test_moderation_2022.py)
OPS = {r.path: r.operation for r in ROUTES if r.method == "POST" and r.select is None}
PATHS = sorted(OPS)
SCENES = ["porn", "terrorism", "ad", "qrcode", "live", "logo", "sface", "sface-n"]
URLS = st.one_of(
    st.sampled_from(
        [
            "https://img.example.invalid/a.png#modsim=porn",
            "https://img.example.invalid/b.png#modsim=politician_face",
            "http://127.0.0.1/x.png",
            "oss://bucket/x.jpg",
            "https://nowhere.invalid/c.jpg",
            "ftp://x",
            "",
        ]
    ),
    st.text(max_size=40),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
ANY = st.one_of(JSON, URLS)
TASK = st.one_of(
    st.fixed_dictionaries(
        {"url": URLS},
        optional={
            "dataId": st.one_of(st.text(max_size=300), st.integers()),
            "extras": st.one_of(JSON, st.just({"groupId": "g"})),
        },
    ),
    JSON,
)
SCAN_BODY = st.fixed_dictionaries(
    {},
    optional={
        "scenes": st.one_of(st.lists(st.sampled_from(SCENES), max_size=4), JSON),
        "tasks": st.one_of(st.lists(TASK, max_size=4), st.lists(TASK, min_size=101, max_size=130), JSON),
        "bizType": st.one_of(st.sampled_from(["default", "strict", "nope"]), JSON),
        "callback": st.one_of(st.just("http://127.0.0.1:1/cb"), URLS, JSON),
        "seed": st.one_of(st.just("abc_1"), st.text(max_size=70), JSON),
        "cryptType": st.one_of(st.just("SHA256"), JSON),
        "personId": st.one_of(st.just("p1"), JSON),
        "groupIds": st.one_of(st.just(["g"]), JSON),
        "groupId": st.one_of(st.just("g"), JSON),
        "urls": st.one_of(st.lists(URLS, max_size=3), JSON),
        "faceIds": JSON,
        "url": URLS,
    },
)
BODY = st.one_of(
    SCAN_BODY.map(lambda b: json.dumps(b).encode()),
    JSON.map(lambda b: json.dumps(b).encode()),
    st.lists(st.text(max_size=40), max_size=5).map(lambda b: json.dumps(b).encode()),
    st.binary(max_size=200),
)
HEADER_TEXT = st.text(alphabet=string.printable.strip("\t\n\r\x0b\x0c"), max_size=60)


@pytest.fixture
async def fclient(aiohttp_client: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TestClient]:
    """Without the 50 images/s limit, so examples reach past 588."""
    d: Path = tmp_path_factory.mktemp("aliyun-fuzz")
    (d / "f.yaml").write_text(
        json.dumps({"vendors": {"aliyun": {"limits": {"qps": None}, "callback": {"retries": 0}}}})
    )
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(d,)))
    client = await aiohttp_client(create_app(sim=sim))
    yield client
    pending = sim.state.vendor_state("aliyun").get("callbacks", set())
    await asyncio.gather(*pending, return_exceptions=True)  # callbacks finish before the loop closes
    assert sim.schema_violations == [], sim.schema_violations[:3]


def _sim(client: TestClient) -> Sim:
    from simulator.keys import SIM

    return client.app[SIM]


async def check(
    client: TestClient, method: str, path: str, body: bytes, headers: dict[str, str]
) -> dict[str, Any] | str:
    sim = _sim(client)
    before = len(sim.state.journal)
    resp = await client.request(method, path, data=body, headers=headers)
    raw = await resp.read()
    assert resp.status in (200, 400, 404), (resp.status, raw[:300])
    entries = sim.state.journal.query(vendor="aliyun")
    mine = [e for e in entries if e.get("operation") != "callback"]
    assert len(sim.state.journal) >= before + 1
    assert "traceback" not in mine[-1], mine[-1].get("traceback")
    op = OPS.get(path.partition("?")[0], "unknown_api")
    vendor = sim.vendors["aliyun"]
    if resp.headers["Content-Type"].startswith("text/xml"):
        text = raw.decode()
        assert "<Code>InternalError</Code>" not in text
        assert not schemas.errors("aliyun/pop_error.xml", text[:200])
        return text
    body_obj: dict[str, Any] = json.loads(raw)
    problems = schemas.errors(vendor.schema_for(op, body_obj) or "", body_obj)
    assert problems == [], (problems, body_obj)
    if "Code" in body_obj:
        assert body_obj["Code"] in POP_ERRORS and body_obj["Code"] != "InternalError", body_obj
    else:
        assert body_obj["code"] in GREEN_MESSAGES and body_obj["code"] not in (500, 581, 588), body_obj
    return body_obj


@fuzz
@given(
    path=st.sampled_from(PATHS),
    body=BODY,
    content_type=st.sampled_from(["application/json", "application/octet-stream", "text/plain", ""]),
)
async def test_signed_requests_with_any_body_get_greens_shape(
    fclient: TestClient, path: str, body: bytes, content_type: str
) -> None:
    headers = sign_headers(path, body, sim=_sim(fclient), content_type=content_type)
    out = await check(fclient, "POST", path + "?RegionId=cn-shanghai", body, headers)
    assert isinstance(out, dict) and "code" in out, out  # signed right: past the gateway


@fuzz
@given(
    drop=st.sets(
        st.sampled_from(["Date", "Authorization", "x-acs-version", "Content-MD5", "x-acs-signature-method"])
    ),
    override=st.dictionaries(
        st.sampled_from(
            [
                "Date",
                "Authorization",
                "x-acs-version",
                "Content-MD5",
                "Accept",
                "x-acs-signature-nonce",
                "x-acs-date",
                "x-acs-extra",
            ]
        ),
        st.one_of(
            HEADER_TEXT,
            st.sampled_from(["acs :", "acs a:b", "ACS3-HMAC-SHA256 Credential=x", "application/xml"]),
        ),
        max_size=3,
    ),
    query=st.text(max_size=30),
)
async def test_bad_headers_get_the_gateways_shape(
    fclient: TestClient, drop: set[str], override: dict[str, str], query: str
) -> None:
    body = json.dumps(
        {"scenes": ["porn"], "tasks": [{"url": "https://a.invalid/p.png#modsim=porn"}]}
    ).encode()
    q = "RegionId=cn-shanghai" + ("&x=" + quote(query) if query else "")
    headers = sign_headers(
        "/green/image/scan",
        body,
        sim=_sim(fclient),
        query={"RegionId": "cn-shanghai", **({"x": query} if query else {})},
    )
    for name in drop:
        headers.pop(name, None)
    headers.update(override)
    await check(fclient, "POST", "/green/image/scan?" + q, body, headers)


@fuzz
@given(
    tail=st.text(alphabet=string.ascii_letters + string.digits + "/-_.%", max_size=30),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
)
async def test_any_path_under_green(fclient: TestClient, tail: str, method: str) -> None:
    path = "/green/" + tail
    if "%" in tail:
        path = "/green/" + quote(tail, safe="/")
    # dot segments leave /green/ as a client resolves them ("/green/.." is "/": the 2022-03-02 RPC
    # entry, which answers MissingAction): this test is about paths under /green/
    assume(URL("http://h" + path).path.startswith("/green/"))
    out = await check(fclient, method, path, b"", {"Accept": "application/json"})
    if OPS.get(path) is None or method != "POST":
        assert isinstance(out, dict) and out["Code"] == "InvalidApi.NotFound"
