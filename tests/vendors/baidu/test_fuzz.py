"""Property tests at every Baidu endpoint: whatever arrives on the wire, the answer is the vendor's JSON.

Arbitrary raw query strings (percent-escapes of any byte, broken escapes, duplicate and empty keys),
arbitrary bodies (binary, invalid UTF-8, huge/invalid base64, commas, many items, garbage multipart)
under wrong or missing content types, valid and invalid access tokens. Properties: never HTTP 500,
always JSON of the operation's schema, the status set of each endpoint, a vendor code whose message is
Baidu's own, never the internal-error answer (an unexpected exception in disguise), exactly one
journal entry without a traceback, and the auth outcome the query alone decides.

Hypothesis drives the ``async`` tests through pytest-asyncio (one ``client`` per test, shared by the
examples; sim state accumulates across examples, which none of these properties depends on).
"""

from __future__ import annotations

import base64
import io
import json
import os
import string
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlencode

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from yarl import URL

from simulator import schemas
from simulator.app import create_app
from simulator.content import make_image
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.baidu import auth
from simulator.vendors.baidu.errors import MESSAGES
from simulator.vendors.baidu.routes import ROUTES
from tests.helpers import BAIDU_API_KEY, BAIDU_SECRET, FACE_AUDIT, TOKEN

pytestmark = [
    # aiohttp *warns* (RuntimeWarning) about odd Content-Disposition params and carries on; the suite
    # turns warnings into errors, which would make a warning look like a server crash.
    pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam"),
    pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader"),
]

#: examples per property (about 1-3 s each at 200); raise it for a deeper one-off run
EXAMPLES = int(os.environ.get("MODSIM_FUZZ_EXAMPLES", "200"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CLOUD_KEY, CLOUD_SECRET = "demo-baidu-cloud-key", "demo-baidu-cloud-secret"
NOPERM_KEY, NOPERM_SECRET = "demo-baidu-noperm-key", "demo-baidu-noperm-secret"
SECRETS = {BAIDU_API_KEY: BAIDU_SECRET, CLOUD_KEY: CLOUD_SECRET, NOPERM_KEY: NOPERM_SECRET}
INTERNAL = 282000
AUTH_CODES = {100, 110, 111, 14, 6}
BODY_CODES = {
    0,  # success
    216103,
    216200,
    216201,
    216202,
    282002,
    282800,
    282801,
    282802,
    282804,
    282806,
    282872,
    282873,
}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
#: the real REST methods (POST only) by path; every other /rest/2.0/ path or method is code 3
REST_OPS = {r.path: r.operation for r in ROUTES if r.method == "POST" and r.path.startswith("/rest/")}

# --------------------------------------------------------------------------------------------------
# strategies: raw query strings


def _escape(b: int, upper: bool) -> str:
    return f"%{b:02X}" if upper else f"%{b:02x}"


SAFE = string.ascii_letters + string.digits + "-._~!$'()*+,;:@/?"
KNOWN_KEYS = [
    "access_token",
    "grant_type",
    "client_id",
    "client_secret",
    "configId",
    "images",
    "imgUrls",
    "",
]
pct = st.builds(_escape, st.integers(0, 255), st.booleans())
broken_pct = st.sampled_from(["%", "%z", "%g0", "%%", "%0", "%ZZ", "%e4%b8", "%c3%28", "%ed%a0%80"])
fragment = st.one_of(st.text(SAFE, max_size=8), pct, broken_pct)
component = st.lists(fragment, max_size=4).map("".join)
key = st.one_of(st.sampled_from(KNOWN_KEYS), component)
pair = st.one_of(
    st.tuples(key, component).map("=".join),
    key,  # no "="
    st.just(""),  # empty item: "a&&b"
    st.tuples(key, component, component).map("=".join),  # "a=b=c"
)
raw_query = st.lists(pair, max_size=8).map("&".join)


def utf8_query(qs: str) -> bool:
    """Whether the percent-decoded query is UTF-8 (what Baidu's strict parser accepts)."""
    try:
        unquote_to_bytes(qs.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def first(qs: str, name: str) -> str | None:
    return next((v for k, v in parse_qsl(qs, keep_blank_values=True) if k == name), None)


# --------------------------------------------------------------------------------------------------
# strategies: bodies


@dataclass(frozen=True)
class Body:
    data: bytes | None
    content_type: str | None
    #: the structured fields this body carries (None: chaos, no field-level oracle)
    fields: tuple[tuple[str, str], ...] | None = None
    #: whether the server reads ``fields`` as form fields (urlencoded/multipart, UTF-8 throughout)
    readable: bool = False

    def __repr__(self) -> str:  # falsifying examples carry 4 MB strings: keep reports readable
        def cut(x: Any) -> str:
            r = repr(x)
            return r if len(r) <= 300 else f"{r[:300]}...<{len(r)} chars>"

        fields = None if self.fields is None else tuple((k, cut(v)) for k, v in self.fields)
        return f"Body(data={cut(self.data)}, content_type={self.content_type!r}, fields={fields}, readable={self.readable})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis' printer
        printer.text(repr(self))


NO_BODY = Body(None, None, (), True)
CONTENT_TYPES = [
    None,
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=gbk",
    "multipart/form-data; boundary=modsim-fuzz",
    "multipart/form-data",
    "multipart/mixed; boundary=x",
    "application/json",
    "text/plain",
    "application/octet-stream",
]
content_type = st.one_of(
    st.sampled_from(CONTENT_TYPES), st.text(string.printable.strip("\r\n\x0b\x0c"), max_size=40)
)


def multipart(
    parts: list[tuple[list[str], bytes]], boundary: str = "modsim-fuzz", close: bool = True
) -> bytes:
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode() + "".join(h + "\r\n" for h in headers).encode() + b"\r\n"
        out += content + b"\r\n"
    return out + (f"--{boundary}--\r\n".encode() if close else b"")


PART_HEADERS = [
    'Content-Disposition: form-data; name="images"',
    'Content-Disposition: form-data; name="configId"',
    'Content-Disposition: form-data; name="client_id"',
    'Content-Disposition: form-data; name="f"; filename="a.png"',
    "Content-Disposition: form-data",
    "Content-Disposition: attachment; name=\"x\"; filename*=zz''%ff",
    "Content-Disposition: ;;;",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: quoted-printable",
    "Content-Transfer-Encoding: binary",
    "Content-Transfer-Encoding: x-unknown",
    "Content-Encoding: gzip",
    "Content-Encoding: deflate",
    "Content-Encoding: identity",
    "Content-Encoding: x-unknown",
    "Content-Type: text/plain; charset=x-unknown",
    "Content-Type: multipart/mixed; boundary=inner",
    "Content-Length: 99",
    "broken header line",
    "X: " + "y" * 300,
]


@st.composite
def garbage_multipart(draw: st.DrawFn) -> Body:
    parts = draw(
        st.lists(
            st.tuples(st.lists(st.sampled_from(PART_HEADERS), max_size=4), st.binary(max_size=64)),
            max_size=4,
        )
    )
    data = multipart(parts, close=draw(st.booleans()))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    ctype = draw(
        st.sampled_from(
            [
                "multipart/form-data; boundary=modsim-fuzz",
                "multipart/form-data; boundary=other",
                "multipart/form-data",
                'multipart/form-data; boundary=""',
                "multipart/form-data; boundary=" + "b" * 80,
                "multipart/form-data; boundary=中",
            ]
        )
    )
    return Body(data, ctype)


chaos_body = st.one_of(
    st.builds(Body, st.binary(max_size=300), content_type),
    st.builds(Body, raw_query.map(str.encode), content_type),
    st.builds(
        Body, st.binary(max_size=64).map(lambda b: b"images=\xff" + b + b"&configId=\xc3\x28"), content_type
    ),
    st.builds(Body, st.text(max_size=60).map(lambda t: json.dumps({"images": t}).encode()), content_type),
    garbage_multipart(),
)


def encode_fields(pairs: list[tuple[str, str]], style: str) -> Body:
    fields = tuple(pairs)
    if style == "multipart":
        parts = [([f'Content-Disposition: form-data; name="{k}"'], v.encode()) for k, v in pairs]
        return Body(multipart(parts), "multipart/form-data; boundary=modsim-fuzz", fields, True)
    if style == "multipart-file":  # a file part is not a form value
        parts = [
            ([f'Content-Disposition: form-data; name="{k}"; filename="x"'], v.encode()) for k, v in pairs
        ]
        return Body(multipart(parts), "multipart/form-data; boundary=modsim-fuzz", (), True)
    if style == "json":
        return Body(json.dumps(dict(pairs)).encode(), "application/json")
    if style == "gbk":
        data = urlencode([(k, v + "中文") for k, v in pairs], encoding="gbk", errors="replace").encode()
        return Body(data, "application/x-www-form-urlencoded; charset=gbk")
    safe = "," if style == "raw-commas" else ""
    data = urlencode(pairs, safe=safe).encode()
    ctype = {"urlencoded": "application/x-www-form-urlencoded", "text": "text/plain", "none": None}.get(
        style, "application/x-www-form-urlencoded"
    )
    return Body(data, ctype, fields, True)


body_style = st.sampled_from(
    ["urlencoded", "raw-commas", "text", "none", "multipart", "multipart-file", "json", "gbk"]
)


# --------------------------------------------------------------------------------------------------
# strategies: face_audit content


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PNG = make_image("clean_avatar")
IMAGES = [
    _b64(PNG),
    _b64(make_image("explicit_with_phone", "jpeg")),
    _b64(make_image("no_face", "bmp", (32, 32))),
    _b64(make_image("porn", "gif", (32, 32), frames=2)),  # format not allowed: 216201
    _b64(make_image(None, "png", (10, 10))),  # below min_side: 282806
    _b64(make_image(None, "png", (4100, 16))),  # over max_side: 216202
    _b64(make_image("no_such_scenario")),  # unknown marker: falls through to the default
    _b64(make_image(None, "jpeg", (64, 64))),
    base64.urlsafe_b64encode(PNG).decode().rstrip("="),  # URL-safe alphabet, no padding
    "\n".join(_b64(PNG)[i : i + 76] for i in range(0, len(_b64(PNG)), 76)),  # MIME line breaks
    "data:image/png;base64," + _b64(PNG),
    "A" * (4 * 1024 * 1024 + 4),  # over the 4 MB base64 limit
]
MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\xff\xd8", b"GIF89a", b"GIF87a", b"BM", b"RIFF", b"II*\0"]
image_item = st.one_of(
    st.sampled_from(IMAGES),
    st.binary(max_size=64).map(_b64),
    st.tuples(st.sampled_from(MAGIC), st.binary(max_size=120)).map(lambda t: _b64(t[0] + t[1])),
    st.text(string.ascii_letters + string.digits + "+/=-_ \n", max_size=40),
    st.text(max_size=10),
    st.just(""),
)
url_item = st.one_of(
    st.sampled_from(
        [
            "http://img.example/a.jpg#modsim=porn",
            "https://img.example/b.png#modsim=clean_avatar",
            "http://img.example/c.jpg#x=1&modsim=two_faces",
            "http://img.example/d.jpg#modsim=no_such_scenario",
            "http://img.example/nomarker.jpg",
            "http%3A%2F%2Fimg.example%2Fe.jpg%23modsim%3Dsexy",
            "ftp://img.example/f.jpg",
            "http://[::1",
            "http:///nohost",
            "not a url",
            "",
        ]
    ),
    st.text(max_size=20),
)
GOOD_IMAGES = [IMAGES[i] for i in (0, 1, 2, 6, 7, 8, 9)]
GOOD_URLS = [
    "http://img.example/a.jpg#modsim=porn",
    "https://img.example/b.png#modsim=clean_avatar",
    "http://img.example/c.jpg#x=1&modsim=two_faces",
]
images_value = st.one_of(
    st.lists(st.sampled_from(GOOD_IMAGES), min_size=1, max_size=3),  # all acceptable
    st.lists(image_item, max_size=6),  # anything goes
    st.lists(st.sampled_from(GOOD_IMAGES[:3]), min_size=20, max_size=40),  # many items
).map(",".join)
urls_value = st.one_of(
    st.lists(st.sampled_from(GOOD_URLS), min_size=1, max_size=3),
    st.lists(url_item, max_size=5),
    st.lists(st.sampled_from(GOOD_URLS), min_size=28, max_size=34),  # around the 30-URL cap
).map(",".join)
config_value = st.sampled_from(["", "1", "2", "3", " 1 ", "999", "abc", "1,2"])


@st.composite
def face_audit_fields(draw: st.DrawFn) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if draw(st.integers(0, 3)) > 0:
        pairs.append(("images", draw(images_value)))
    if draw(st.integers(0, 3)) == 0:
        pairs.append(("imgUrls", draw(urls_value)))
    if draw(st.booleans()):
        pairs.append(("configId", draw(config_value)))
    extra = draw(st.lists(st.tuples(st.sampled_from([*KNOWN_KEYS, "x"]), st.text(max_size=8)), max_size=3))
    return draw(st.permutations(pairs + extra))


@st.composite
def face_audit_body(draw: st.DrawFn) -> Body:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return NO_BODY
    if choice == 1:
        return draw(chaos_body)
    return encode_fields(draw(face_audit_fields()), draw(body_style))


# --------------------------------------------------------------------------------------------------
# access tokens: labels drawn by hypothesis, values resolved against the running simulator

TOKEN_LABELS = ["valid", "cloud", "noperm", "revoked", "garbage", "shaped", "empty"]
AUTHORIZATION = [None, None, "bce-auth-v1/AKID/2024-01-01T00:00:00Z/1800/host/abc", "Bearer x", "garbage"]


async def _issue(client: TestClient, api_key: str, secret: str) -> str:
    resp = await client.post(
        TOKEN, params={"grant_type": "client_credentials", "client_id": api_key, "client_secret": secret}
    )
    assert resp.status == 200, await resp.text()
    token: str = (await resp.json())["access_token"]
    return token


async def token_value(client: TestClient, sim: Sim, label: str) -> str:
    issued = [auth.Token.from_dict(r) for r in await auth.tokens(sim).values()]
    keys = {"valid": BAIDU_API_KEY, "cloud": CLOUD_KEY, "noperm": NOPERM_KEY, "revoked": BAIDU_API_KEY}
    if label in keys:
        want_revoked = label == "revoked"
        for rec in issued:
            if rec.api_key == keys[label] and rec.revoked == want_revoked and rec.expires > sim.clock.now():
                return rec.token
        secrets = {BAIDU_API_KEY: BAIDU_SECRET, CLOUD_KEY: CLOUD_SECRET, NOPERM_KEY: NOPERM_SECRET}
        token = await _issue(client, keys[label], secrets[keys[label]])
        if want_revoked:
            await auth.revoke(sim, token=token)
        return token
    return {
        "garbage": "not-a-token",
        "shaped": "24." + "0" * 32 + ".2592000.1900000000.282335-10000001",
        "empty": "",
    }[label]


@st.composite
def query_with_tokens(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Query items: ("raw", text) noise and ("token", label) access_token pairs (0-2: duplicates).

    Half the queries carry no noise and a valid token first, so bodies get past authentication."""
    noisy = draw(st.booleans())
    items: list[tuple[str, str]] = [("raw", p) for p in draw(st.lists(pair, max_size=5))] if noisy else []
    labels = draw(st.lists(st.sampled_from(TOKEN_LABELS), max_size=2))
    if not noisy:
        labels = ["valid", *labels]
    for label in labels:
        items.insert(draw(st.integers(0, len(items))), ("token", label))
    return items


async def build_query(client: TestClient, sim: Sim, items: list[tuple[str, str]]) -> str:
    out = []
    for kind, text in items:
        out.append(text if kind == "raw" else "access_token=" + await token_value(client, sim, text))
    return "&".join(out)


# --------------------------------------------------------------------------------------------------
# the exchange and the properties every answer has


@dataclass
class Answer:
    status: int
    body: Any
    entry: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


async def exchange(
    client: TestClient,
    sim: Sim,
    method: str,
    path: str,
    query: str,
    body: Body = NO_BODY,
    headers: dict[str, str] | None = None,
) -> Answer:
    hdrs = dict(headers or {})
    skip: list[str] = []
    if body.content_type is None:
        skip.append("Content-Type")
    else:
        hdrs["Content-Type"] = body.content_type
    url = URL(path + ("?" + query if query else ""), encoded=True)
    data: Any = body.data
    if data is not None and len(data) > 1 << 20:  # aiohttp warns about large raw bytes bodies
        data = io.BytesIO(data)
    resp = await client.request(method, url, data=data, headers=hdrs, skip_auto_headers=skip)
    raw = await resp.read()
    assert resp.status != 500, raw[:300]
    assert resp.content_type == "application/json", (resp.status, resp.content_type, raw[:200])
    request_id = resp.headers.get("X-Modsim-Request-Id")
    assert request_id, dict(resp.headers)
    [entry] = sim.state.journal.query(request_id=request_id)
    assert "traceback" not in entry, entry["traceback"]
    assert entry["status"] == resp.status
    assert entry["vendor"] == "baidu"
    parsed: Any = None
    if method != "HEAD":
        parsed = json.loads(raw)
        name = sim.vendors["baidu"].schema_for(entry["operation"], parsed)
        assert name is not None
        assert schemas.errors(name, parsed) == [], (name, parsed)
    assert sim.schema_violations == []
    return Answer(resp.status, parsed, entry, dict(resp.headers))


def note(label: str) -> None:
    """A hypothesis event (outcome statistics: ``--hypothesis-show-statistics``), when under @given."""
    if currently_in_test_context():
        event(label)


def check_rest_error(body: dict[str, Any]) -> None:
    """A Baidu REST error: Baidu's own message; gateway codes (< 1000) without log_id, business with."""
    code = body["error_code"]
    assert code != INTERNAL, body
    assert body["error_msg"] == MESSAGES[code], body
    assert ("log_id" in body) == (code >= 1000), body


# --------------------------------------------------------------------------------------------------
# /oauth/2.0/token

GRANTS = ["client_credentials", "password", "", "CLIENT_CREDENTIALS", "client_credentials "]
CLIENT_IDS = [BAIDU_API_KEY, CLOUD_KEY, NOPERM_KEY, "unknown-key", "", "中文"]
CLIENT_SECRETS = [BAIDU_SECRET, CLOUD_SECRET, NOPERM_SECRET, "wrong", "", "中文"]
token_pair = st.one_of(
    st.tuples(st.just("grant_type"), st.sampled_from(GRANTS)),
    st.tuples(st.just("client_id"), st.sampled_from(CLIENT_IDS)),
    st.tuples(st.just("client_secret"), st.sampled_from(CLIENT_SECRETS)),
)
valid_triple = st.sampled_from(sorted(SECRETS.items())).map(
    lambda kv: [("grant_type", "client_credentials"), ("client_id", kv[0]), ("client_secret", kv[1])]
)
#: token parameters: arbitrary pairs, often with a valid triple somewhere among them
token_pairs = st.builds(
    lambda extra, triple, at: extra[:at] + triple + extra[at:],
    st.lists(token_pair, max_size=4),
    st.one_of(st.just([]), valid_triple),
    st.integers(0, 4),
)


def qs(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def check_token_answer(a: Answer) -> None:
    assert a.status in {200, 400, 401}
    assert a.entry["operation"] == "token"
    assert a.headers.get("Cache-Control") == "no-store"
    if a.body is None:  # HEAD
        return
    note(f"token {a.status} {a.body.get('error', '')}")
    if a.status == 200:
        assert a.entry["auth"]["outcome"] == "ok"
        assert a.body["expires_in"] == 2592000
    else:
        assert a.entry["auth"]["outcome"] == "rejected"
        assert a.body["error"] != "server_error"
        assert (a.status == 401) == (a.body["error"] == "invalid_client"), a.body


@fuzz
@given(
    method=st.sampled_from(["GET", "POST"]) | st.sampled_from(METHODS),
    query_pairs=token_pairs,
    noise=st.lists(pair, max_size=4),
    noise_first=st.booleans(),
    body=st.one_of(
        st.just(NO_BODY),
        chaos_body,
        st.builds(encode_fields, token_pairs, body_style),
    ),
)
async def test_token_endpoint_answers_oauth_json_whatever_arrives(
    client: TestClient,
    sim: Sim,
    method: str,
    query_pairs: list[tuple[str, str]],
    noise: list[str],
    noise_first: bool,
    body: Body,
) -> None:
    parts = [qs(query_pairs), *noise] if not noise_first else [*noise, qs(query_pairs)]
    query = "&".join(p for p in parts if p)
    a = await exchange(client, sim, method, TOKEN, query, body if method == "POST" else NO_BODY)
    check_token_answer(a)
    if a.status == 200 and method != "HEAD":
        # a token goes only to a caller that presented the key's secret
        rec = await auth.token_record(sim, a.body["access_token"])
        assert rec is not None
        assert SECRETS[rec.api_key].encode() in query.encode() + (body.data or b"")
        assert a.entry["credential"] == rec.api_key


@fuzz
@given(
    method=st.sampled_from(["GET", "POST"]),
    query_pairs=token_pairs,
    body_pairs=token_pairs,
    style=st.sampled_from(["urlencoded", "raw-commas", "text", "none", "multipart"]),
)
async def test_token_outcome_follows_first_query_value_then_body(
    client: TestClient,
    sim: Sim,
    method: str,
    query_pairs: list[tuple[str, str]],
    body_pairs: list[tuple[str, str]],
    style: str,
) -> None:
    body = encode_fields(body_pairs, style) if method == "POST" else NO_BODY
    a = await exchange(client, sim, method, TOKEN, qs(query_pairs), body)
    check_token_answer(a)
    # the oracle: first value of each name; the query wins over the body, even when empty
    params: dict[str, str] = {}
    for k, v in query_pairs:
        params.setdefault(k, v)
    for k, v in body.fields or ():
        params.setdefault(k, v)
    if not all(params.get(k) for k in ("grant_type", "client_id", "client_secret")):
        want = (400, "invalid_request")
    elif params["grant_type"] != "client_credentials":
        want = (400, "unsupported_grant_type")
    elif params["client_id"] not in SECRETS or SECRETS[params["client_id"]] != params["client_secret"]:
        want = (401, "invalid_client")
    else:
        want = (200, "")
    assert (a.status, a.body.get("error", "")) == want, (params, a.body)
    if want[0] == 401:
        unknown = params["client_id"] not in SECRETS
        assert a.body["error_description"] == (
            "unknown client id" if unknown else "Client authentication failed"
        )


# --------------------------------------------------------------------------------------------------
# /rest/2.0/solution/v1/face_audit


@fuzz
@given(
    query_items=query_with_tokens(),
    body=face_audit_body(),
    authorization=st.sampled_from(AUTHORIZATION),
)
async def test_face_audit_is_always_200_with_a_baidu_body(
    client: TestClient,
    sim: Sim,
    query_items: list[tuple[str, str]],
    body: Body,
    authorization: str | None,
) -> None:
    query = await build_query(client, sim, query_items)
    headers = {"Authorization": authorization} if authorization else {}
    a = await exchange(client, sim, "POST", FACE_AUDIT, query, body, headers)
    assert a.status == 200
    assert a.entry["operation"] == "face_audit"
    code = a.body.get("error_code", 0)
    note(f"face_audit code {code}")
    if code:
        check_rest_error(a.body)
    assert a.entry["vendor_code"] == code
    # a body over the operation's cap is refused before anything else (Vendor.max_body_bytes)
    if body.data is not None and len(body.data) > sim.vendors["baidu"].max_body_bytes("face_audit", sim):
        assert (code, a.entry["auth"]["outcome"]) == (216202, None), a.body
        return
    # then the query alone decides authentication
    if not utf8_query(query):
        assert code == 282002, a.body
        return
    token = first(query, "access_token")
    rec = await auth.token_record(sim, token) if token else None
    if not token:
        assert code == (14 if authorization and authorization.startswith("bce-auth-v1/") else 100)
    elif rec is None or rec.revoked:
        assert code == 110
    elif rec.api_key == NOPERM_KEY:
        assert code == 6
    else:
        assert a.entry["auth"]["outcome"] == "ok"
        assert a.entry["credential"] == rec.api_key
        assert code in BODY_CODES, a.body
        if code == 0:
            assert len(a.entry["scenario"]) == len(a.body["result"]) >= 1
            for item in a.body["result"]:
                assert item["res_code"] == (1 if item["res_msg"] else 0)
            if body.readable and body.fields is not None:
                form: dict[str, str] = {}
                for k, v in body.fields:
                    form.setdefault(k, v)
                source = form.get("images") or form.get("imgUrls") or ""
                assert len(a.body["result"]) == len(source.split(","))
        elif body.readable and body.fields is not None:
            form = {}
            for k, v in body.fields:
                form.setdefault(k, v)
            images, urls = form.get("images", ""), form.get("imgUrls", "")
            if images and urls:
                assert code == 282802
            elif not images and not urls:
                assert code == 282801
    if code in AUTH_CODES:
        assert a.entry["auth"]["outcome"] == "rejected"


# --------------------------------------------------------------------------------------------------
# /rest/2.0/antiporn/v1/detect_gif and /rest/2.0/antispam/v2/spam

GIFS = [
    _b64(make_image("gif_mixed", "gif", (32, 32), frames=4)),
    _b64(make_image(None, "gif", (16, 16))),
    _b64(PNG),  # not a GIF: 282205
    _b64(b"GIF89a" + b"\x00" * 20),  # cut short
]
gif_value = st.one_of(st.sampled_from(GIFS), image_item)
spam_value = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["加微信 abcdef1 有惊喜", "约炮 13812345678", "[[modsim=porn]] hi", "x" * 20001, ""]),
)
CENSOR = {
    "/rest/2.0/antiporn/v1/detect_gif": (
        "image",
        gif_value,
        {0, 216200, 216201, 216202, 282002, 282203, 282204, 282205},
    ),
    "/rest/2.0/antispam/v2/spam": ("content", spam_value, {0, 216101, 216103, 282002}),
}


@st.composite
def censor_body(draw: st.DrawFn, name: str, value: st.SearchStrategy[str]) -> Body:
    if draw(st.integers(0, 9)) == 0:
        return draw(chaos_body)
    pairs = [(name, draw(value))] if draw(st.integers(0, 5)) else []
    extra = draw(st.lists(st.tuples(st.sampled_from([name, "x", ""]), st.text(max_size=8)), max_size=2))
    return encode_fields(draw(st.permutations(pairs + extra)), draw(body_style))


@pytest.mark.parametrize("path", sorted(CENSOR))
@fuzz
@given(data=st.data(), query_items=query_with_tokens())
async def test_censor_endpoints_are_always_200_with_a_baidu_body(
    client: TestClient, sim: Sim, path: str, data: st.DataObject, query_items: list[tuple[str, str]]
) -> None:
    name, value, codes = CENSOR[path]
    body = data.draw(censor_body(name, value), label="body")
    query = await build_query(client, sim, query_items)
    a = await exchange(client, sim, "POST", path, query, body)
    assert a.status == 200
    assert a.entry["operation"] == REST_OPS[path]
    code = a.body.get("error_code", 0)
    note(f"{a.entry['operation']} code {code}")
    if code:
        check_rest_error(a.body)
    assert a.entry["vendor_code"] == code
    token = first(query, "access_token") if utf8_query(query) else None
    rec = await auth.token_record(sim, token) if token else None
    if rec is not None and not rec.revoked and rec.api_key != NOPERM_KEY:
        assert a.entry["auth"]["outcome"] == "ok"
        assert code in codes, a.body
        if code == 0:
            assert len(a.entry["scenario"]) == 1


# --------------------------------------------------------------------------------------------------
# /rest/2.0/<anything>, any method

segment = st.one_of(
    st.text(string.ascii_letters + string.digits + "-_~!$&'()*+,;=:@", min_size=1, max_size=10),
    st.lists(
        st.one_of(pct, st.text(string.ascii_letters, min_size=1, max_size=3)), min_size=1, max_size=3
    ).map("".join),
).filter(lambda s: s not in (".", ".."))
rest_tail = st.lists(segment, max_size=4).map("/".join) | st.sampled_from(
    [
        "",
        *(path.removeprefix("/rest/2.0/") for path in REST_OPS),
        "solution/v1/face_audit/",
        "solution/v1/img_censor/v2/user_defined",
    ]
)


@fuzz
@given(
    method=st.sampled_from(METHODS),
    tail=rest_tail,
    query_items=query_with_tokens(),
    body=st.one_of(st.just(NO_BODY), chaos_body),
)
async def test_any_rest_path_is_200_with_a_baidu_body(
    client: TestClient,
    sim: Sim,
    method: str,
    tail: str,
    query_items: list[tuple[str, str]],
    body: Body,
) -> None:
    query = await build_query(client, sim, query_items)
    send = body if method not in ("GET", "HEAD") else NO_BODY
    a = await exchange(client, sim, method, "/rest/2.0/" + tail, query, send)
    assert a.status == 200
    note(f"rest {a.entry['operation']}")
    if a.entry["operation"] != "unknown_method":  # a real method, POSTed to its own path
        assert method == "POST"
        assert REST_OPS.get("/rest/2.0/" + tail) == a.entry["operation"]
        if "error_code" in a.body:
            check_rest_error(a.body)
        return
    assert a.entry["operation"] == "unknown_method"
    assert a.entry["vendor_code"] == 3
    if method != "HEAD":
        assert a.body == {"error_code": 3, "error_msg": "Unsupported openapi method"}


# --------------------------------------------------------------------------------------------------
# inputs a property cannot share a connection with: a body the transport cannot decode (aiohttp closes
# the connection after it), and bodies over the size cap


@pytest.mark.parametrize("path", [TOKEN, FACE_AUDIT])
async def test_undecodable_content_encoding_is_a_client_error(
    client: TestClient, sim: Sim, path: str
) -> None:
    query = "" if path == TOKEN else "access_token=" + await token_value(client, sim, "valid")
    body = Body(b"\x00\x01 not gzip", "application/x-www-form-urlencoded")
    a = await exchange(client, sim, "POST", path, query, body, {"Content-Encoding": "gzip"})
    if path == TOKEN:
        check_token_answer(a)
        assert (a.status, a.body["error"]) == (400, "invalid_request")
    else:
        assert (a.status, a.body["error_code"]) == (200, 282002)
        check_rest_error(a.body)


@pytest.fixture
async def small_client(aiohttp_client) -> tuple[TestClient, Sim]:  # type: ignore[no-untyped-def]
    sim = Sim(Settings(seed=0, validate_responses=True, max_body_bytes=1024))
    c = await aiohttp_client(create_app(sim=sim))
    yield c, sim
    assert sim.schema_violations == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_the_size_cap_keeps_each_endpoints_shape(
    small_client: tuple[TestClient, Sim], chunked: bool
) -> None:
    client, sim = small_client
    token = await token_value(client, sim, "valid")
    payload = b"images=" + b"A" * 4000

    def data() -> Any:
        if not chunked:
            return payload

        async def gen() -> Any:
            for i in range(0, len(payload), 500):
                yield payload[i : i + 500]

        return gen()

    form = "application/x-www-form-urlencoded"
    resp = await client.post(TOKEN, data=data(), headers={"Content-Type": form})
    body = await resp.json()
    assert resp.status == 400, body
    assert schemas.errors("baidu/token.error", body) == []
    assert body["error"] == "invalid_request"

    resp = await client.post(
        FACE_AUDIT, params={"access_token": token}, data=data(), headers={"Content-Type": form}
    )
    body = await resp.json()
    assert resp.status == 200
    assert schemas.errors("baidu/error", body) == []
    assert (body["error_code"], body["error_msg"]) == (216202, "image size error")
    assert "log_id" in body


@pytest.mark.parametrize("style", ["urlencoded", "multipart"])
async def test_an_image_over_4mb_of_base64_is_216202(client: TestClient, sim: Sim, style: str) -> None:
    """The fuzz draws this rarely (it is 4 MB); pin it: alone and after a good image."""
    query = "access_token=" + await token_value(client, sim, "valid")
    for images in (IMAGES[11], IMAGES[0] + "," + IMAGES[11]):
        a = await exchange(client, sim, "POST", FACE_AUDIT, query, encode_fields([("images", images)], style))
        assert (a.status, a.body["error_code"], a.body["error_msg"]) == (200, 216202, "image size error")
        check_rest_error(a.body)
