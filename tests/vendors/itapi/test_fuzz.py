"""Property tests at both itapi endpoints: whatever arrives, the answer is itapi's envelope.

Arbitrary raw query strings (percent-escapes of any byte, broken escapes, duplicate and empty names),
arbitrary bodies (binary, invalid UTF-8, garbage multipart, wrong or missing content types) and
well-formed requests with good and bad keys, images, URLs, types and task ids, by any method.
Properties: never HTTP 500 nor the internal error, always JSON of the operation's schema with the
envelope's keys in order, a documented code with its documented ``msg``, one journal entry without a
traceback; the key decides 403; a success carries exactly the requested models.
"""

from __future__ import annotations

import base64
import json
import re
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlencode

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yarl import URL

from simulator import schemas
from simulator.content import make_image
from simulator.sim import Sim
from tests.vendors.itapi.common import (
    ENVELOPE_ERROR,
    ENVELOPE_TASK,
    ENVELOPE_VERDICT,
    KEY,
    LOG_ID,
    PIC,
    RESULT,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam"),
    pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader"),
]

fuzz = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

MSG = {200: "请求成功", 400: "限制或者错误", 403: "权限问题"}
MODELS = ["porn", "ads", "politics", "terror", "sensitive", "ocrtext"]
METHODS = ["GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH"]

# --- raw query strings ------------------------------------------------------------------------------

SAFE = string.ascii_letters + string.digits + "-._~!$'()*+,;:@/?"
NAMES = ["key", "data", "type", "sync", "taskid", ""]
pct = st.builds(lambda b, up: f"%{b:02X}" if up else f"%{b:02x}", st.integers(0, 255), st.booleans())
broken_pct = st.sampled_from(["%", "%z", "%g0", "%%", "%0", "%e4%b8", "%c3%28", "%ed%a0%80"])
component = st.lists(st.one_of(st.text(SAFE, max_size=8), pct, broken_pct), max_size=4).map("".join)
noise_pair = st.one_of(
    st.tuples(st.one_of(st.sampled_from(NAMES), component), component).map("=".join),
    component,
    st.just(""),
)

# --- values ---------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PNG = make_image("porn", "png", (24, 24))
IMAGES = [
    _b64(PNG),
    _b64(make_image("bloody", "jpeg", (24, 24))),
    _b64(make_image("smoking", "gif", (16, 16))),
    _b64(make_image("qrcode_ad", "bmp", (16, 16))),
    _b64(make_image(None, "png", (8, 8))),
    base64.urlsafe_b64encode(PNG).decode().rstrip("="),
    "data:image/png;base64," + _b64(PNG),
    _b64(b"\x89PNG\r\n\x1a\n" + b"\0" * 16),
]
URLS = [
    "https://img.example/a.jpg#modsim=politician_face",
    "http://img.example/b.png#modsim=phone_number",
    "https://img.example/c.jpg#x=1&modsim=sexy",
    "https://img.example/d.jpg#modsim=no_such_scenario",
    "https://img.example/nomarker.jpg",
    "http://[::1",
    "ftp://img.example/f.jpg",
]
MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF", b"II*\0"]
data_value = st.one_of(
    st.sampled_from(IMAGES),
    st.sampled_from(URLS),
    st.binary(max_size=48).map(_b64),
    st.tuples(st.sampled_from(MAGIC), st.binary(max_size=64)).map(lambda t: _b64(t[0] + t[1])),
    st.text(string.ascii_letters + string.digits + "+/=-_ \n", max_size=30),
    st.text(max_size=8),
)
type_value = st.one_of(
    st.lists(st.sampled_from(MODELS), min_size=1, max_size=4).map(",".join),
    st.lists(st.sampled_from([*MODELS, "PORN", "nude", "", " ads "]), max_size=3).map(",".join),
    st.text(max_size=6),
)
KEYS = [KEY, KEY, KEY, "wrong", "", "DEMO-ITAPI-KEY", "钥匙", KEY + " "]
key_value = st.sampled_from(KEYS)
sync_value = st.sampled_from(["yes", "yes", "no", "", "YES", "1"])
TASKIDS = ["<real>", "<real>", "85104237-0e62-4104-8e94-05f9474a38e5", "", "x", "<real> "]


GOOD_DATA = [*IMAGES[:6], *URLS[:4]]
good_values: dict[str, st.SearchStrategy[str]] = {
    "key": st.just(KEY),
    "data": st.sampled_from(GOOD_DATA),
    "type": st.lists(st.sampled_from(MODELS), min_size=1, max_size=6).map(",".join),
    "sync": st.sampled_from(["yes", "no"]),
    "taskid": st.just("<real>"),
}
any_values: dict[str, st.SearchStrategy[str]] = {
    "key": key_value,
    "data": data_value,
    "type": type_value,
    "sync": sync_value,
    "taskid": st.sampled_from(TASKIDS),
}


@st.composite
def fields(draw: st.DrawFn, path: str) -> list[tuple[str, str]]:
    """Half the time a well-formed request (so answers get past the checks), else anything."""
    good = draw(st.booleans())
    names = ["key", "data", "type", "sync"] if path == PIC else ["key", "taskid"]
    pairs = []
    for name in names:
        if good or draw(st.integers(0, 5)):
            strategy = good_values[name] if good and draw(st.integers(0, 9)) else any_values[name]
            pairs.append((name, draw(strategy)))
    extra = draw(st.lists(st.tuples(st.sampled_from([*NAMES, "x"]), st.text(max_size=6)), max_size=2))
    out: list[tuple[str, str]] = draw(st.permutations(pairs + extra))
    return out


# --- bodies -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    data: bytes | None
    content_type: str | None
    #: the form fields the server reads from this body; None: unpredictable (chaos)
    fields: tuple[tuple[str, str], ...] | None = None

    def __repr__(self) -> str:
        return f"Body({self.data[:200] if self.data else None!r}, {self.content_type!r}, {self.fields!r})"


NO_BODY = Body(None, None, ())


def multipart(parts: list[tuple[list[str], bytes]], boundary: str = "fz", close: bool = True) -> bytes:
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode() + "".join(h + "\r\n" for h in headers).encode() + b"\r\n"
        out += content + b"\r\n"
    return out + (f"--{boundary}--\r\n".encode() if close else b"")


def encode(pairs: list[tuple[str, str]], style: str) -> Body:
    if style == "multipart":
        parts = [([f'Content-Disposition: form-data; name="{quote(k)}"'], v.encode()) for k, v in pairs]
        readable = all(quote(k) == k for k, _ in pairs)
        return Body(multipart(parts), "multipart/form-data; boundary=fz", tuple(pairs) if readable else None)
    if style == "multipart-file":
        parts = [
            ([f'Content-Disposition: form-data; name="{quote(k)}"; filename="f"'], v.encode())
            for k, v in pairs
        ]
        return Body(multipart(parts), "multipart/form-data; boundary=fz", ())
    if style == "json":
        return Body(json.dumps(dict(pairs)).encode(), "application/json")
    ctype = {"urlencoded": "application/x-www-form-urlencoded", "text": "text/plain"}.get(style)
    return Body(urlencode(pairs).encode(), ctype, tuple(pairs))


PART_HEADERS = [
    'Content-Disposition: form-data; name="data"',
    'Content-Disposition: form-data; name="key"',
    'Content-Disposition: form-data; name="f"; filename="a.png"',
    "Content-Disposition: form-data",
    "Content-Disposition: ;;;",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: x-unknown",
    "Content-Encoding: gzip",
    "Content-Type: text/plain; charset=x-unknown",
    "broken header line",
]
garbage_multipart = st.builds(
    lambda parts, close, cut, ctype: Body(multipart(parts, close=close)[: cut or None], ctype),
    st.lists(
        st.tuples(st.lists(st.sampled_from(PART_HEADERS), max_size=3), st.binary(max_size=48)), max_size=3
    ),
    st.booleans(),
    st.integers(0, 400),
    st.sampled_from(
        ["multipart/form-data; boundary=fz", "multipart/form-data", "multipart/mixed; boundary=x"]
    ),
)
chaos_body = st.one_of(
    st.builds(
        Body, st.binary(max_size=200), st.sampled_from([None, "application/octet-stream", "text/plain"])
    ),
    st.builds(
        Body,
        st.binary(max_size=48).map(lambda b: b"key=demo-itapi-key&data=\xff" + b),
        st.just("application/x-www-form-urlencoded"),
    ),
    garbage_multipart,
)
body_style = st.sampled_from(
    ["urlencoded", "urlencoded", "multipart", "multipart-file", "text", "none", "json"]
)


@st.composite
def body_plan(draw: st.DrawFn, path: str) -> Body | tuple[list[tuple[str, str]], str]:
    """No body, a chaos body, or form fields and how to encode them (encoded once task ids are known)."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return NO_BODY
    if choice == 1:
        return draw(chaos_body)
    return draw(fields(path)), draw(body_style)


# --- the exchange -----------------------------------------------------------------------------------------


def utf8(qs: str) -> bool:
    try:
        unquote_to_bytes(qs.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def real_taskid(client: TestClient) -> str:
    resp = await client.get(PIC, params={"key": KEY, "data": IMAGES[0], "type": "porn"})
    taskid: str = (await resp.json())["data"]["taskid"]
    return taskid


async def exchange(
    client: TestClient, sim: Sim, method: str, path: str, query: str, body: Body
) -> tuple[dict[str, Any], dict[str, Any]]:
    headers = {"Content-Type": body.content_type} if body.content_type else {}
    skip = ["Content-Type"] if body.content_type is None else []
    url = URL(path + ("?" + query if query else ""), encoded=True)
    resp = await client.request(method, url, data=body.data, headers=headers, skip_auto_headers=skip)
    raw = await resp.read()
    assert resp.status == 200, raw[:300]
    assert resp.content_type == "application/json" and resp.charset == "utf-8"
    [entry] = sim.state.journal.query(request_id=resp.headers["X-Modsim-Request-Id"])
    assert "traceback" not in entry, entry["traceback"]
    answer = json.loads(raw)
    operation = "pic" if path == PIC else "picresult"
    assert entry["operation"] == operation
    name = sim.vendors["itapi"].schema_for(operation, answer)
    assert name is not None and schemas.errors(name, answer) == [], (name, answer)
    code = answer["code"]
    assert code in MSG, answer  # never 500: no unexpected exception
    assert answer["msg"] == MSG[code]
    assert entry["vendor_code"] == code
    assert re.fullmatch(LOG_ID, answer["log_id"]) and isinstance(answer["exec_time"], float)
    if code != 200:
        assert list(answer) == ENVELOPE_ERROR and answer["user_ip"] == "127.0.0.1"
    elif "conclusion" in answer["data"]:
        assert list(answer) == ENVELOPE_VERDICT
    else:
        assert list(answer) == ENVELOPE_TASK and path == PIC
    assert sim.schema_violations == []
    return answer, entry


def expected_params(query: str, body: Body, method: str) -> dict[str, str] | None:
    """What the server reads (the form over the query; first value within each), or None if unknowable."""
    if not utf8(query):
        return None
    params: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        params.setdefault(k, v)
    if method == "POST" and body.data:
        if body.fields is None:
            return None
        form: dict[str, str] = {}
        for k, v in body.fields:
            form.setdefault(k, v)
        params.update(form)
    return params


def check_oracle(answer: dict[str, Any], params: dict[str, str] | None, path: str) -> None:
    code = answer["code"]
    if code == 200:
        assert params is None or params.get("key") == KEY
    if params is None:
        return
    if params.get("key") != KEY:
        assert code == 403, (params, answer)
        return
    assert code != 403
    if path == PIC and not params.get("data", "").strip():
        assert answer["debug"] == "缺少参数data", answer
    if code == 200 and "conclusion" in answer["data"]:
        if path == PIC:
            assert params.get("sync") == "yes"
            wanted = {t.strip() for t in params.get("type", "").split(",")} - {""}
            assert list(answer["data"])[5:] == [m for m in MODELS if m in wanted]
        else:
            assert answer["data"]["taskid"] == params["taskid"].strip()


@fuzz
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from([PIC, PIC, RESULT]),
    data=st.data(),
)
async def test_every_answer_is_itapis_envelope(
    client: TestClient, sim: Sim, method: str, path: str, data: st.DataObject
) -> None:
    query_fields = data.draw(fields(path), label="query fields")
    noise = data.draw(st.lists(noise_pair, max_size=3) | st.just([]), label="query noise")
    plan = data.draw(body_plan(path), label="body") if method == "POST" else NO_BODY
    taskid = await real_taskid(client) if path == RESULT else ""

    def fill(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, v.replace("<real>", taskid)) for k, v in pairs]

    query = "&".join(p for p in [urlencode(fill(query_fields)), *noise] if p)
    body = plan if isinstance(plan, Body) else encode(fill(plan[0]), plan[1])
    answer, _ = await exchange(client, sim, method, path, query, body)
    params = expected_params(query, body, method)
    check_oracle(answer, params, path)
    if answer["code"] != 200:
        outcome = answer["debug"].split(":")[0]
    else:
        outcome = "verdict" if "conclusion" in answer["data"] else "task"
    event(f"{path.rsplit('/', 1)[1]} {answer['code']} {outcome}")
    event("oracle " + ("on" if params is not None else "off"))


@fuzz
@given(
    path=st.sampled_from([PIC, RESULT]),
    query=st.lists(noise_pair, max_size=6).map("&".join),
    body=chaos_body,
)
async def test_chaos_never_breaks_the_envelope(
    client: TestClient, sim: Sim, path: str, query: str, body: Body
) -> None:
    answer, entry = await exchange(client, sim, "POST", path, query, body)
    assert answer["code"] in (400, 403)
    if "demo-itapi-key" not in query and b"demo-itapi-key" not in (body.data or b""):
        assert entry["auth"]["outcome"] in (None, "rejected")
