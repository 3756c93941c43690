"""Property tests: whatever arrives at /fantabulous/, the answer is the gateway's envelope.

Arbitrary raw query strings (percent-escapes of any byte, broken escapes, duplicate and empty keys,
every demo appkey, unknown and undecodable ones), any method, any path under /fantabulous/, bodies
of any bytes under any content type (urlencoded and multipart built right or wrong, JSON, binary),
some over the body cap. Properties: HTTP 200 and JSON (never 500, never aiohttp's own page), the
operation's schema, the code a string of the table with its exact text, never 11010 (an unexpected
exception in disguise), one journal entry without a traceback, the check order of docs/aioasis.md as an
oracle, and the bookkeeping: ``remain`` is what the state holds, a billed call costs exactly one, an
error costs nothing.

The app runs with ``vendors.aioasis.max_body_bytes: 2048`` so that random bodies cross the cap.
"""

from __future__ import annotations

import base64
import io
import json
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yarl import URL

from simulator import schemas
from simulator.app import create_app
from simulator.content import make_image
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.aioasis import models
from tests.vendors.aioasis.common import API, DAILY, DENIED, DISABLED, EXPECTED_MSG, PAID, PERSONAL, TRIAL

pytestmark = [
    pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam"),
    pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader"),
]

fuzz = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CAP = 2048
FLAGS = {DISABLED: "10050", DENIED: "10060", PERSONAL: "10070"}
KNOWN = [PAID, TRIAL, DAILY, *FLAGS]
METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]
IMG = base64.b64encode(make_image("explicit_with_phone", "jpeg", (32, 32))).decode()
CLEAN = base64.b64encode(make_image(None, "png", (24, 24))).decode()


@pytest.fixture
async def gw(aiohttp_client: Any, tmp_path: Path) -> AsyncIterator[tuple[TestClient, Sim]]:
    (tmp_path / "cap.yaml").write_text(f"vendors:\n  aioasis:\n    max_body_bytes: {CAP}\n", encoding="utf-8")
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    yield await aiohttp_client(create_app(sim=sim)), sim
    assert sim.schema_violations == []


# --- strategies: the query -------------------------------------------------------------------------

pct = st.builds(lambda b, up: f"%{b:02X}" if up else f"%{b:02x}", st.integers(0, 255), st.booleans())
broken_pct = st.sampled_from(["%", "%z", "%g0", "%%", "%0", "%e4%b8", "%c3%28", "%ed%a0%80"])
text = st.lists(
    st.one_of(
        st.text(string.ascii_letters + string.digits + "-._~!$'()*+,;:@/?", max_size=6), pct, broken_pct
    ),
    max_size=4,
).map("".join)
noise_key = st.one_of(
    st.sampled_from(["images", "imgUrls", "configId", "x", "", "AppKey", "appkey2"]), text
).filter(lambda k: dict(parse_qsl(k + "=", keep_blank_values=True, errors="replace")).keys() != {"appkey"})
noise = st.one_of(st.tuples(noise_key, text).map("=".join), noise_key, st.just(""))
appkey_value = st.one_of(
    st.sampled_from(
        [
            PAID,
            PAID,
            PAID,
            TRIAL,
            TRIAL,
            *KNOWN,
            "",
            "unknown-key",
            "%ff%fe",
            "demo-aioasis-appkey%00",
            "中文",
        ]
    ),
    st.sampled_from([PAID, TRIAL]),
    text,
)


@st.composite
def raw_query(draw: st.DrawFn) -> tuple[str, str | None]:
    """(raw query, the appkey the gateway should read: first value, lenient UTF-8)."""
    items = draw(st.lists(noise, max_size=4))
    n = draw(st.sampled_from([1, 1, 1, 1, 2, 0]))
    keys = [draw(appkey_value) for _ in range(n)]
    for v in keys:
        v = v if "%" in v else quote(v, safe="")
        items.insert(draw(st.integers(0, len(items))), "appkey=" + v)
    raw = "&".join(items)
    found = [v for k, v in parse_qsl(raw, keep_blank_values=True, errors="replace") if k == "appkey"]
    return raw, (found[0] if found else None)


# --- strategies: the body --------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    data: bytes | None
    content_type: str | None

    def __repr__(self) -> str:
        d = self.data if self.data is None or len(self.data) < 200 else self.data[:200] + b"..."
        return f"Body({d!r}, {self.content_type!r}, len={len(self.data or b'')})"


CONTENT_TYPES = [
    None,
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=gbk",
    "multipart/form-data; boundary=fz",
    "multipart/form-data",
    "application/json",
    "text/plain",
    "application/octet-stream",
    "image/jpeg",
]
value = st.one_of(
    st.sampled_from(
        [
            IMG,
            CLEAN,
            f"{IMG},{CLEAN}",
            "",
            ",",
            "!!!!",
            "aGVsbG8=",
            "https://img.example.com/a.jpg#modsim=porn",
            "https://nowhere.example/x.png",
            "中文",
        ]
    ),
    text,
    st.just("A" * 3000),
)
field_name = st.sampled_from(["images", "imgUrls", "configId", "appkey", "x", ""])
fields = st.lists(st.tuples(field_name, value), max_size=3)


def urlencoded(pairs: list[tuple[str, str]], raw: bool) -> bytes:
    if raw:
        return "&".join(f"{k}={v}" for k, v in pairs).encode()
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs).encode()


def multipart(pairs: list[tuple[str, str]], close: bool) -> bytes:
    out = b""
    for k, v in pairs:
        out += f'--fz\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    return out + (b"--fz--\r\n" if close else b"")


body = st.one_of(
    st.just(Body(None, None)),
    st.builds(
        lambda p, raw, ct: Body(urlencoded(p, raw), ct),
        fields,
        st.booleans(),
        st.sampled_from(CONTENT_TYPES[:3]),
    ),
    st.builds(
        lambda p, close: Body(multipart(p, close), "multipart/form-data; boundary=fz"), fields, st.booleans()
    ),
    st.builds(Body, st.binary(max_size=300), st.sampled_from(CONTENT_TYPES)),
    st.builds(Body, st.binary(min_size=CAP - 8, max_size=CAP + 8), st.sampled_from(CONTENT_TYPES)),
    st.builds(lambda p: Body(json.dumps(dict(p)).encode(), "application/json"), fields),
)
other_path = st.lists(text.filter(lambda s: s not in (".", "..")), max_size=3).map(
    lambda p: "/fantabulous/" + "/".join(p)
)


# --- the exchange and its properties ----------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any
    entry: dict[str, Any]


async def exchange(client: TestClient, sim: Sim, method: str, where: str, query: str, b: Body) -> Answer:
    headers, skip = {}, []
    if b.content_type is None:
        skip.append("Content-Type")
    else:
        headers["Content-Type"] = b.content_type
    url = URL(where + ("?" + query if query else ""), encoded=True)
    data: Any = io.BytesIO(b.data) if b.data is not None else None
    resp = await client.request(method, url, data=data, headers=headers, skip_auto_headers=skip)
    raw = await resp.read()
    assert resp.status == 200, (resp.status, raw[:300])
    assert resp.content_type == "application/json", (resp.content_type, raw[:200])
    [entry] = sim.state.journal.query(request_id=resp.headers["X-Modsim-Request-Id"])
    assert "traceback" not in entry, entry["traceback"]
    assert entry["vendor"] == "aioasis" and entry["status"] == 200
    parsed: Any = None
    if method != "HEAD":
        parsed = json.loads(raw.decode("utf-8"))
        name = sim.vendors["aioasis"].schema_for(entry["operation"], parsed)
        assert name is not None and schemas.errors(name, parsed) == [], (name, parsed)
        assert parsed["code"] == entry["vendor_code"]
        if "result" not in parsed:
            assert parsed["msg"] == EXPECTED_MSG[parsed["code"]], parsed
    assert sim.schema_violations == []
    return Answer(resp.status, parsed, entry)


def expected_gate(method: str, where: str, appkey: str | None, b: Body) -> str | None:
    """The code the checks before the balance decide (docs/aioasis.md), or None: past them."""
    if where != API or method not in ("GET", "HEAD", "POST"):
        return "10003"
    if not appkey:
        return "10004"
    if appkey not in KNOWN:
        return "10001"
    if appkey in FLAGS:
        return FLAGS[appkey]
    if len(b.data or b"") > CAP:
        return "10090"
    return None


@fuzz
@given(method=st.sampled_from(METHODS), where=st.one_of(st.just(API), other_path), q=raw_query(), b=body)
async def test_any_method_any_path(
    gw: tuple[TestClient, Sim], method: str, where: str, q: tuple[str, str | None], b: Body
) -> None:
    await check_exchange(gw, method, where, q, b)


@fuzz
@given(method=st.sampled_from(["GET", "POST", "HEAD"]), q=raw_query(), b=body)
async def test_every_answer_is_the_gateway_envelope(
    gw: tuple[TestClient, Sim], method: str, q: tuple[str, str | None], b: Body
) -> None:
    await check_exchange(gw, method, API, q, b)


async def check_exchange(
    gw: tuple[TestClient, Sim], method: str, where: str, q: tuple[str, str | None], b: Body
) -> None:
    client, sim = gw
    query, appkey = q
    cred = sim.state.credentials.get("aioasis", appkey) if appkey else None
    before = await models.remain_of(sim, cred) if cred else 0
    a = await exchange(client, sim, method, where, query, b)
    code = a.entry["vendor_code"]
    event(f"code {code}")
    assert code != "11010"
    gate = expected_gate(method, where, appkey, b)
    if gate is not None:
        assert code == gate, (code, gate)
    else:
        assert code in ("10000", "10010", "10040"), code
    after = await models.remain_of(sim, cred) if cred else 0
    if a.body is None:  # HEAD: no body to read, the bookkeeping still holds
        assert after in (before, before - 1)
        return
    if code != "10000":
        assert a.body["remain"] == (before if (cred and code != "10003") else 0)
        assert after == before
    elif a.body["charge"]:
        assert after == before - 1 == a.body["remain"] == a.body["remainTimes"]
    elif "error_code" in a.body["result"]:
        assert after == before == a.body["remain"]  # upstream error: not billed
    else:
        assert after == before - 1 == a.body["remain"]  # a free trial call
        assert appkey == TRIAL


@fuzz
@given(
    method=st.sampled_from(["GET", "POST"]),
    images=st.lists(st.sampled_from([IMG, CLEAN, "", "!!", "aGVsbG8="]), min_size=1, max_size=3),
)
async def test_success_result_is_one_baidu_element_per_image(
    client: TestClient, sim: Sim, method: str, images: list[str]
) -> None:
    """With the default 1 MB cap."""
    joined = ",".join(images)
    q = f"appkey={PAID}"
    if method == "GET":
        q += "&images=" + quote(joined, safe="")
        b = Body(None, None)
    else:
        b = Body(urlencoded([("images", joined)], raw=False), "application/x-www-form-urlencoded")
    a = await exchange(client, sim, method, API, q, b)
    assert a.body["code"] == "10000"
    result = a.body["result"]
    if a.body["charge"]:
        assert len(result["result"]) == len(images)
        assert all(i in (IMG, CLEAN) for i in images)
        want = [[101, 301] if i == IMG else [] for i in images]
        assert [r["res_msg"] for r in result["result"]] == want
    else:
        assert result["error_code"] in (216200, 216201, 282801), result
