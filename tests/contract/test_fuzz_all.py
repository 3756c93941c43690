"""One hypothesis property per vendor route (every route of every vendor in the registry, catch-alls
included), over raw HTTP/1.1 on a live loopback server: absurd headers (huge, non-ASCII, obs-text
bytes that are not UTF-8, duplicated), wrong or missing Content-Types, duplicate parameters in the
query and the body, bad UTF-8 and broken percent-escapes, invalid and huge base64 (past aioasis' 1
MB, Baidu's 4 MB, itapi's 10 MB and the core's 32 MiB caps), broken multipart, JSON of any shape,
any method; half of the requests with the vendor's demo credentials (Aliyun: correctly signed), so
the rest of the request reaches the models.

Property (``check_answer``): never a 5xx, never an unexpected exception behind the answer (journal
traceback), always the vendor's body valid for its schema.

The HTTP layer is outside the property: aiohttp's parser answers a plain 400 to what is not HTTP
(a header line over 8190 bytes, control characters, a duplicated Content-Type), before any vendor
code, as the vendors' front proxies do; ``test_protocol_errors_are_answered_by_the_http_layer``
pins that boundary. Generated requests stay inside it.
"""

from __future__ import annotations

import base64
import json
import os
import string
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from simulator.admin.openapi import METHODS as OPENAPI_METHODS
from simulator.content import make_image
from simulator.registry import vendors
from simulator.testing import ThreadedServer
from simulator.vendors.base import Route
from tests.contract.fuzzers import SHOWAPI, baidu_token
from tests.contract.harness import SINGLETON_HEADERS, check_answer, raw_request
from tests.live import LiveServer
from tests.vendors.aliyun.helpers import sign_headers

pytestmark = [
    # aiohttp warns about odd Content-Disposition params and carries on; the suite turns warnings into
    # errors, which would make a warning look like a server crash
    pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam"),
    pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader"),
]

EXAMPLES = int(os.environ.get("MODSIM_FUZZ_ALL_EXAMPLES", "22"))
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
ROUTES: list[tuple[str, Route]] = [(v.name, r) for v in vendors().values() for r in v.routes()]
#: over aioasis' body cap, Baidu's per-image base64 cap, itapi's decoded 10 MB, the core's 32 MiB
HUGE = [1_048_577, 4_194_305, 13_981_016, 32 * 1024 * 1024 + 1]


@cache
def names_of(vendor: str) -> tuple[str, ...]:
    """Every parameter name the vendor's OpenAPI paths mention (query, form and JSON properties)."""
    out: set[str] = set()
    for item in vendors()[vendor].openapi_paths().values():
        for method, op in item.items():
            if method not in OPENAPI_METHODS:
                continue
            out.update(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            for media in op.get("requestBody", {}).get("content", {}).values():
                out.update(media["schema"].get("properties", {}))
    return tuple(sorted(out))


@cache
def images() -> tuple[str, ...]:
    return tuple(
        base64.b64encode(make_image(s, fmt, size)).decode()
        for s, fmt, size in [(None, "png", (64, 64)), ("porn", "jpeg", (40, 40)), (None, "gif", (20, 20))]
    )


# --------------------------------------------------------------------------------------------------
# strategies

BAD_B64 = st.sampled_from(
    [
        "!!!!",
        "data:image/png;base64,iVBORw0KGgo=",
        "iVBORw0KGgo=====",
        "iVBO-_+/",
        "中文",
        " ",
        "A",
        "AAA\nAAA",
        "%FF",
        "https://img.example.invalid/a.png#modsim=porn",
        "http://127.0.0.1:1/x.png",
        "ftp://x",
    ]
)
WEIRD = st.sampled_from(
    ["", " ", "中文", "\x00", "%", "null", "0", "-1", "yes", "1" * 300, "\ud7ff", "a,b,,"]
)
SMALL = st.one_of(st.text(max_size=20), WEIRD)
VALUE = st.one_of(SMALL, BAD_B64, st.builds(lambda i: images()[i], st.integers(0, 2)))
NOISE_NAMES = ["", "x", "中文", "a[]", "key ", "IMAGES"]


def pct_bytes(data: bytes) -> str:
    return "".join(f"%{b:02X}" for b in data)


def part(name: str, value: str) -> str:
    return quote(name, safe="") + "=" + quote(value, safe="")


BROKEN_QUERY_ITEMS = st.sampled_from(
    ["%FF%FE", "%", "%zz", "=x", "k", "", "images=%ff", "a=%c3%28", "%ed%a0%80=1"]
)


def name_strategy(vendor: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(names_of(vendor)), st.sampled_from(NOISE_NAMES), st.text(max_size=6))


def pairs(vendor: str) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Parameters with repeated names (the same name twice is common: names are drawn from a few)."""
    return st.lists(st.tuples(name_strategy(vendor), VALUE), max_size=6)


def query_string(vendor: str) -> st.SearchStrategy[str]:
    """At most 6000 characters: a request line over 8190 bytes is the HTTP layer's 400 (see the top)."""
    item = st.one_of(pairs(vendor).map(lambda ps: "&".join(part(k, v) for k, v in ps)), BROKEN_QUERY_ITEMS)
    return st.lists(item, max_size=3).map(lambda xs: "&".join(x for x in xs if x)[:6000])


@dataclass
class Body:
    kind: str
    data: bytes = b""
    content_type: bytes | None = None


def multipart(fields: list[tuple[str, bytes, bool]], boundary: str = "modsimfuzzboundary") -> Body:
    out = b""
    for name, data, is_file in fields:
        disp = f'form-data; name="{name}"' + ('; filename="f.bin"' if is_file else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return Body("multipart", out, f"multipart/form-data; boundary={boundary}".encode())


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | VALUE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SMALL, inner, max_size=4),
    max_leaves=12,
)


def bodies(vendor: str) -> st.SearchStrategy[Body]:
    names = names_of(vendor)
    image_fields = [n for n in ("images", "image", "data", "content") if n in names] or list(names)
    form = pairs(vendor).map(
        lambda ps: Body(
            "form", "&".join(part(k, v) for k, v in ps).encode(), b"application/x-www-form-urlencoded"
        )
    )
    bad_utf8 = st.builds(
        lambda name, raw, style: Body(
            "bad-utf8",
            name.encode() + b"=" + (pct_bytes(b"\xff" + raw).encode() if style else b"\xff\xfe" + raw),
            b"application/x-www-form-urlencoded",
        ),
        st.sampled_from(names),
        st.binary(max_size=8),
        st.booleans(),
    )
    multi = st.lists(
        st.tuples(
            name_strategy(vendor).filter(lambda n: '"' not in n and "\r" not in n and "\n" not in n),
            st.one_of(VALUE.map(lambda v: v.encode("utf-8", "surrogatepass")), st.binary(max_size=40)),
            st.booleans(),
        ),
        max_size=4,
    ).map(multipart)
    obj = st.dictionaries(st.sampled_from(names), JSON_VALUE, max_size=5)
    tasks = st.lists(st.fixed_dictionaries({"url": VALUE}, optional={"dataId": VALUE}), max_size=3)
    scan = st.fixed_dictionaries(
        {},
        optional={"scenes": st.lists(st.sampled_from(["porn", "sface-n", "x"]), max_size=3), "tasks": tasks},
    )
    as_json = st.one_of(obj, scan, JSON_VALUE).map(
        lambda o: Body(
            "json", json.dumps(o, ensure_ascii=False).encode("utf-8", "surrogatepass"), b"application/json"
        )
    )
    too_many = st.integers(101, 140).map(
        lambda n: Body(
            "json",
            json.dumps({"scenes": ["porn"], "tasks": [{"url": "x"}] * n}).encode(),
            b"application/json",
        )
    )
    huge = st.tuples(
        st.sampled_from(image_fields), st.sampled_from(HUGE), st.sampled_from([b"A", b"!", b"/"])
    ).map(lambda t: Body("huge", t[0].encode() + b"=" + t[2] * t[1], b"application/x-www-form-urlencoded"))
    return st.one_of(
        st.just(Body("none")),
        form,
        bad_utf8,
        multi,
        as_json,
        st.binary(max_size=200).map(lambda b: Body("binary", b, b"application/octet-stream")),
        st.one_of(huge, too_many, st.binary(max_size=64).map(lambda b: Body("broken-multipart", b, None))),
    )


CONTENT_TYPES = st.sampled_from(
    [
        None,
        b"",
        b"text/plain",
        b"application/json",
        b"application/x-www-form-urlencoded",
        b"application/x-www-form-urlencoded; charset=gbk",
        b"multipart/form-data",
        b"multipart/form-data; boundary=",
        b"multipart/form-data; boundary=nope",
        b"application/octet-stream",
        b"text/xml",
        b"application/json; charset=utf-16",
        b";;;",
        "中文/类型".encode(),
        b"\xff\xfe/x",
    ]
)
HEADER_NAMES = [
    "X-Absurd",
    "Authorization",
    "Date",
    "Accept",
    "Content-MD5",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-signature-method",
    "Cookie",
    "X-Forwarded-For",
    "Accept-Encoding",
    "Content-Encoding",
    "Accept-Language",
]


def field_value(raw: bytes) -> bytes:
    """Any bytes as an HTTP field value: control bytes moved to obs-text (``0x80 | c``), which RFC
    9110 allows and which is not UTF-8."""
    return bytes(c if c >= 0x20 and c != 0x7F else 0x80 | c for c in raw)


HEADER_VALUE = st.one_of(
    st.text(string.printable.strip("\t\n\r\x0b\x0c"), max_size=40).map(str.encode),
    st.sampled_from([b"", b"gzip", b"deflate", b"br", b"x-nope", b"application/xml", b"acs :", b"acs a:b"]),
    st.text(max_size=20).map(lambda t: field_value(t.encode("utf-8", "surrogatepass"))),
    st.binary(max_size=20).map(field_value),
    st.sampled_from([100, 4000, 8000]).map(lambda n: b"v" * n),
)
HEADERS = st.lists(st.tuples(st.sampled_from(HEADER_NAMES), HEADER_VALUE), max_size=8)


@dataclass
class Req:
    method: str
    path: str
    query: str
    body: Body
    content_type: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    authed: bool = False


def paths(route: Route) -> st.SearchStrategy[str]:
    if "{" not in route.path:
        return st.just(route.path)
    prefix = route.path.split("{")[0]
    if prefix == "/":  # showapi's /<digits>-<digits>
        return st.from_regex(r"\A[0-9]{1,5}-[0-9]{1,5}\Z").map(lambda s: "/" + s)
    seg = st.binary(max_size=6).filter(lambda b: b"." not in b).map(pct_bytes)
    return st.lists(st.one_of(st.text(string.ascii_letters + "-_~", max_size=8), seg), max_size=4).map(
        lambda parts: prefix + "/".join(parts)
    )


def requests_for(vendor: str, route: Route) -> st.SearchStrategy[Req]:
    method = (
        st.sampled_from(METHODS) if route.method == "*" else st.sampled_from([route.method] * 5 + METHODS)
    )
    return st.builds(
        lambda m, p, q, b, ct, h, a, swap: Req(
            m, p, q, b, b.content_type if not swap else ct, [(k, v) for k, v in h], a
        ),
        method,
        paths(route),
        query_string(vendor),
        bodies(vendor),
        CONTENT_TYPES,
        HEADERS,
        st.booleans(),
        st.booleans(),
    )


# --------------------------------------------------------------------------------------------------
# sending


class Sender:
    def __init__(self, server: ThreadedServer) -> None:
        self.server = server
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            with requests.Session() as s:
                self._token = baidu_token(self.server, s)
        return self._token

    def credentials(self, vendor: str) -> str:
        creds = {
            "baidu": {"access_token": self.token()},
            "showapi": SHOWAPI,
            "aioasis": {"appkey": "demo-aioasis-appkey"},
            "itapi": {"key": "demo-itapi-key"},
        }.get(vendor, {})
        return "&".join(part(k, v) for k, v in creds.items())

    def send(self, vendor: str, req: Req) -> None:
        query = req.query
        headers: list[tuple[bytes, bytes]] = []
        if req.content_type is not None:
            headers.append((b"Content-Type", req.content_type))
        if req.authed and vendor == "aliyun":
            query = "RegionId=cn-shanghai"
            ct = (req.content_type or b"").decode("latin-1")
            signed = sign_headers(
                req.path, req.body.data, sim=self.server.sim, content_type=ct, method=req.method
            )
            headers = [(k.encode(), v.encode("latin-1")) for k, v in signed.items()]
            if req.content_type is None:
                headers = [(k, v) for k, v in headers if k != b"Content-Type"]
        elif req.authed:
            query = "&".join(x for x in (self.credentials(vendor), query) if x)
        seen = {k.lower() for k, _ in headers}
        for name, value in req.headers:
            if name.lower() in SINGLETON_HEADERS or (
                name.lower() == "content-type" and b"content-type" in seen
            ):
                continue
            headers.append((name.encode(), value))
        target = (quote(req.path, safe="/%") + ("?" + query if query else "")).encode()
        a = raw_request(self.server, req.method, target, headers, req.body.data)
        check_answer(self.server, req.method, a.status, a, a.body)


@pytest.fixture
def sender(live: LiveServer) -> Iterator[Sender]:
    yield Sender(live)


fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def run_route(
    sender: Sender, vendor: str, route: Route, max_examples: int = EXAMPLES, shrink: bool = True
) -> None:
    """The property for one route; also what the harness test runs against a broken server."""
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])

    @settings(fuzz, max_examples=max_examples, phases=phases)
    @given(req=requests_for(vendor, route))
    def prop(req: Req) -> None:
        note(
            f"{req.method} {req.path}?{req.query[:300]} authed={req.authed} content-type={req.content_type!r}"
        )
        note(f"headers {[(k, v[:60]) for k, v in req.headers]}; body {req.body.kind} {req.body.data[:300]!r}")
        sender.send(vendor, req)

    prop()


@pytest.mark.parametrize(("vendor", "route"), ROUTES, ids=[f"{v}.{r.operation}" for v, r in ROUTES])
def test_route_answers_in_the_vendors_shape_whatever_arrives(
    sender: Sender, vendor: str, route: Route
) -> None:
    run_route(sender, vendor, route)


def test_every_route_has_a_property() -> None:
    found = {(v.name, r.path, r.method) for v in vendors().values() for r in v.routes()}
    assert found == {(v, r.path, r.method) for v, r in ROUTES}
    assert len(found) >= 30


@pytest.mark.filterwarnings("ignore")
def test_protocol_errors_are_answered_by_the_http_layer(live: LiveServer) -> None:
    """What is not HTTP never reaches a vendor: aiohttp answers 400 itself (no request id), the
    journal records it (vendor ``unmatched``), and the server carries on serving."""
    before = live.call(lambda: len(live.sim.state.journal))
    for headers in (
        [(b"X-Huge", b"v" * 9000)],
        [(b"X-Ctl", b"a\x01b")],
        [(b"Content-Type", b"text/plain"), (b"Content-Type", b"application/json")],
        [("名".encode(), b"v")],
    ):
        a = raw_request(live, "POST", b"/2054-3", headers, b"content=x")
        assert a.status == 400, a
        assert a.header("X-Modsim-Request-Id") is None
    assert live.call(lambda: len(live.sim.state.journal)) == before + 4
    refused = live.call(lambda: live.sim.state.journal.query(vendor="unmatched"))
    assert [(e["status"], e["error"].split(":")[0]) for e in refused] == [(400, "refused before routing")] * 4
    a = raw_request(live, "POST", b"/2054-3", [], b"content=x")
    check_answer(live, "POST", a.status, a, a.body)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", "gzip, br", "x-unknown"])
@pytest.mark.parametrize(
    ("vendor", "path"),
    [
        ("baidu", "/rest/2.0/solution/v1/face_audit"),
        ("showapi", "/2054-3"),
        ("aioasis", "/fantabulous/touxiangshenhe"),
        ("itapi", "/api/badword/pic"),
        ("aliyun", "/green/image/scan"),
    ],
)
def test_an_undecodable_content_encoding_gets_the_vendors_answer(
    sender: Sender, vendor: str, path: str, encoding: str
) -> None:
    """Found by the property above: without a brotli / zstd decoder, aiohttp refused such a body at
    the protocol level (a bare text 400). With the decoders installed, the body fails to decode when
    the vendor reads it, and the vendor answers in its own shape."""
    body = Body("form", b"\x00\x01 not compressed", b"application/x-www-form-urlencoded")
    req = Req(
        "POST", path, "", body, body.content_type, [("Content-Encoding", encoding.encode())], authed=True
    )
    sender.send(vendor, req)


def test_the_journal_stays_readable_after_bytes_that_are_not_utf8(live: LiveServer) -> None:
    """Found by the property above: journalled header values that were not UTF-8 made every
    ``GET /__modsim/journal`` fail (HTTP 500) for the rest of the run."""
    headers = [(b"X-Obs", b"\xff\xfe"), (b"Content-Type", b"application/x-www-form-urlencoded")]
    a = raw_request(live, "POST", b"/2054-3", headers, b"content=%ff\xff")
    check_answer(live, "POST", a.status, a, a.body)
    for fmt in ("json", "jsonl", "har"):
        resp = requests.get(live.url + "/__modsim/journal", params={"format": fmt}, timeout=10)
        assert resp.status_code == 200, (fmt, resp.text[:300])
        assert "\ufffd" in resp.text


@pytest.mark.parametrize("header", ["Content-Type", "Content-MD5", "Accept", "x-acs-extra", "Authorization"])
@pytest.mark.parametrize("xml", [False, True])
def test_aliyun_signed_headers_that_are_not_utf8_get_a_pop_error(
    live: LiveServer, header: str, xml: bool
) -> None:
    """Found by the property above: a signed header with bytes that are not UTF-8 raised in the
    signature check (InternalError, HTTP 500); the string to sign echoed in SignatureDoesNotMatch
    then broke the error body itself (aiohttp's bare 500)."""
    body = json.dumps({"scenes": ["porn"], "tasks": [{"url": "x"}]}).encode()
    signed = sign_headers("/green/image/scan", body, sim=live.sim)
    signed[header] = signed.get(header, "")[:-2] + "\xff\xfe"
    target = b"/green/image/scan?RegionId=cn-shanghai" + (b"&format=xml" if xml else b"")
    a = raw_request(
        live, "POST", target, [(k.encode(), v.encode("latin-1")) for k, v in signed.items()], body
    )
    _, parsed = check_answer(live, "POST", a.status, a, a.body)
    assert "SignatureDoesNotMatch" in (parsed if xml else parsed["Code"])


def _deflate(data: bytes, wbits: int) -> bytes:
    c = zlib.compressobj(wbits=wbits)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(
    ("encoding", "wbits"),
    [("gzip", 16 + zlib.MAX_WBITS), ("deflate", zlib.MAX_WBITS), ("DEFLATE", -zlib.MAX_WBITS)],
)
def test_a_compressed_body_is_read_decoded(live: LiveServer, encoding: str, wbits: int) -> None:
    """The simulator decodes request bodies itself now (gzip; deflate zlib-wrapped or raw), as aiohttp
    did; a decoded body over the cap is the vendor's oversize answer."""
    form = part("content", "你好") + "&" + "&".join(part(k, v) for k, v in SHOWAPI.items())
    headers = [
        (b"Content-Type", b"application/x-www-form-urlencoded"),
        (b"Content-Encoding", encoding.encode()),
    ]
    a = raw_request(live, "POST", b"/2054-3", headers, _deflate(form.encode(), wbits))
    _, body = check_answer(live, "POST", a.status, a, a.body)
    assert body["showapi_res_code"] == 0 and "spam" in body["showapi_res_body"]["result"], body
    bomb = _deflate(b"content=" + b"a" * (live.sim.settings.max_body_bytes + 1), wbits)
    a = raw_request(live, "POST", b"/2054-3?" + form.encode(), headers, bomb)
    _, body = check_answer(live, "POST", a.status, a, a.body)
    assert body["showapi_res_code"] == -1, body
