"""The POP gateway in front of Green: version, signature (ROA v1 or ACS3), timestamp, nonce, quota.

Checks, in order (the first failure answers; the order past the facts file's numbered steps is
inferred and documented in docs/aliyun.md):

1. ``x-acs-version`` present (``MissingHeader``) and ``2018-05-09`` (``InvalidAction.NotFound``);
2. ``Authorization`` present (``MissingHeader``) and well formed: ``acs AK:SIG`` or
   ``ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`` (``IncompleteSignature``);
3. the scheme's date header (``Date`` / ``x-acs-date``) and, for ACS3, ``x-acs-signature-nonce``
   present (``MissingHeader``);
4. the AccessKeyId known (``InvalidAccessKeyId.NotFound``) and active (``attrs.inactive``:
   ``InvalidAccessKeyId.Inactive``); v1 ``x-acs-signature-method`` HMAC-SHA1 when given;
5. the signature (``SignatureDoesNotMatch``, whose Message carries the server's string to sign);
6. ``Content-MD5`` against the body when given (``ContentMD5NotMatched``);
7. the date well formed (``InvalidTimeStamp.Format``) and within ``max_skew_s`` of the wall clock
   or the simulator clock (``InvalidTimeStamp.Expired``; ``Clock.client_time``: advancing the
   simulator clock to age tasks never expires a real-time client);
8. a nonce, when sent, unused within its TTL (``SignatureNonceUsed``); aliyunsdkcore sends none;
9. the credential's ``attrs.quota`` (qps/daily/total, core quotas) (``Throttling.User``).

Every rejection is journalled with the string the simulator signed and the expected vs received
signature (when the secret is known).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

from simulator.context import RequestCtx
from simulator.state import Credential
from simulator.vendors.aliyun import signing
from simulator.vendors.aliyun.errors import PopError
from simulator.vendors.aliyun.policy import GatewaySettings

if TYPE_CHECKING:
    from simulator.sim import Sim

VERSION = "2018-05-09"
V1_METHOD = "HMAC-SHA1"
DATE_FORMATS = ("%a, %d %b %Y %H:%M:%S GMT", "%Y-%m-%dT%H:%M:%SZ")


class Wire(NamedTuple):
    """What the gateway looks at: the request as received, without aiohttp (a named tuple: built for
    every request)."""

    method: str
    path: str  # decoded
    raw_path: str  # as sent, no query
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def first(self) -> dict[str, str]:
        """Lower-case header name -> its first value (built from the last header back, so the first
        value of a repeated name is the one left)."""
        return {name.lower(): value for name, value in reversed(self.headers)}


@dataclass
class Signed:
    """What the journal shows of a rejected request's signature."""

    received: str
    string_to_sign: str
    canonical_request: str | None = None


_WEEKDAYS = frozenset(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


#: the last ``Date`` read and its time: a client under load signs many requests within one second,
#: and they all carry the same ``Date`` (one entry, replaced by each new value)
_LAST_DATE: tuple[str, float | None] = ("", None)


def _rfc1123(value: str) -> float | None:
    """``_rfc1123_read``, remembered for the last value."""
    global _LAST_DATE
    last, when = _LAST_DATE
    if value == last:
        return when
    when = _rfc1123_read(value)
    _LAST_DATE = (value, when)
    return when


def _rfc1123_read(value: str) -> float | None:
    """The SDKs' own form of ``Date`` (``Mon, 30 Nov 2026 21:28:31 GMT``, fixed width) without
    ``strptime`` (about 30x faster); None for anything else, which ``parse_date`` then reads the slow
    way (the same answers: this accepts a subset of what the first format accepts)."""
    if len(value) != 29 or value[3:5] != ", " or not value.endswith(" GMT") or value[:3] not in _WEEKDAYS:
        return None
    if value[7] != " " or value[11] != " " or value[16] != " " or value[19] != ":" or value[22] != ":":
        return None
    month = _MONTHS.get(value[8:11])
    digits = value[5:7] + value[12:16] + value[17:19] + value[20:22] + value[23:25]
    if month is None or not (digits.isascii() and digits.isdigit()):
        return None
    try:
        when = datetime(
            int(value[12:16]),
            month,
            int(value[5:7]),
            int(value[17:19]),
            int(value[20:22]),
            int(value[23:25]),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return when.timestamp()


def parse_date(value: str) -> float | None:
    fast = _rfc1123(value)
    if fast is not None:
        return fast
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return None


#: the claim space of signature nonces (``Store.claim``: the first use within ``nonce_ttl_s`` wins, on
#: every instance sharing the store)
NONCES = "aliyun:nonces"


async def nonce_used(sim: Sim, gs: GatewaySettings, nonce: str, now: float) -> bool:
    """True when ``nonce`` was used within the last ``nonce_ttl_s`` simulator-seconds (by any instance
    sharing the store); else it is remembered from now. The store keeps at most 100,000 nonces
    (the oldest forgotten first) and forgets at most 2 expired ones per call, so a clock jump never
    empties the whole cache in one request."""
    return not await sim.store.claim(NONCES, nonce, gs.nonce_ttl_s, now)


class _Rejector:
    def __init__(self, ctx: RequestCtx, signed: Signed) -> None:
        self.ctx = ctx
        self.signed = signed
        self.expected: str | None = None

    def __call__(self, code: str, why: str, *, header: str = "") -> PopError:
        parts = [f"{code}: {why}"]
        s = self.signed
        if s.canonical_request is not None:
            parts.append(f"canonical request {s.canonical_request!r}")
        parts.append(f"string to sign {s.string_to_sign!r}")
        parts.append(f"expected signature {self.expected or '(secret unknown)'}, received {s.received}")
        self.ctx.auth("rejected", "; ".join(parts))
        return PopError(code, sts=s.string_to_sign, header=header)


async def authenticate(
    sim: Sim, ctx: RequestCtx, wire: Wire, gs: GatewaySettings, api_version: str = VERSION
) -> Credential:
    """``api_version``: the ``x-acs-version`` the API takes (Green 2018-05-09; the 2022-03-02 RPC API
    passes its own after checking it, ``cip.gateway``)."""
    h = wire.first()
    query = signing.parse_query(wire.raw_query)
    sts = signing.roa_string_to_sign(wire.method, h, wire.path, query)
    reject = _Rejector(ctx, Signed("(no Authorization)", sts))
    version = h.get("x-acs-version")
    if version is None:
        raise reject("MissingHeader", "no x-acs-version header", header="x-acs-version")
    if version != api_version:
        raise reject("InvalidAction.NotFound", f"x-acs-version {version!r} is not {api_version}")
    auth = h.get("authorization")
    if not auth:
        raise reject("MissingHeader", "no Authorization header", header="Authorization")
    scheme, _, rest = auth.strip().partition(" ")
    reject.signed.received = f"(Authorization {auth[:160]!r})"
    if scheme == "acs":
        ak, sep, sig = rest.strip().rpartition(":")
        if not sep or not ak or not sig:
            raise reject("IncompleteSignature", f"Authorization {auth[:120]!r} is not 'acs AK:SIGNATURE'")
        date_header = "Date"
        reject.signed = Signed(sig, sts)
    elif scheme == signing.ACS3:
        parts = signing.parse_acs3(rest)
        if parts is None:
            raise reject(
                "IncompleteSignature",
                f"Authorization {auth[:160]!r} lacks Credential=, SignedHeaders= or Signature=",
            )
        ak, sig = parts["Credential"], parts["Signature"]
        date_header = "x-acs-date"
        payload = signing.sha256_hex(wire.body)
        canonical = signing.acs3_canonical_request(
            wire.method, wire.raw_path, query, wire.headers, parts["SignedHeaders"].split(";"), payload
        )
        sts = signing.acs3_string_to_sign(canonical)
        reject.signed = Signed(sig, sts, canonical)
        claimed = h.get("x-acs-content-sha256")
        if claimed is not None and claimed != payload:
            ctx.note(f"x-acs-content-sha256 {claimed} is not the body's sha256 {payload}")
        if "x-acs-signature-nonce" not in h:
            raise reject(
                "MissingHeader", "ACS3 request without x-acs-signature-nonce", header="x-acs-signature-nonce"
            )
    else:
        raise reject("IncompleteSignature", f"unknown Authorization scheme {scheme[:40]!r}")
    if date_header.lower() not in h:
        raise reject("MissingHeader", f"no {date_header} header", header=date_header)

    cred = sim.state.credentials.get("aliyun", ak)
    if cred is None:
        raise reject("InvalidAccessKeyId.NotFound", f"no Aliyun AccessKeyId {ak[:64]!r}")
    ctx.credential = cred.id
    secret = cred.secret or ""
    if scheme == "acs":
        reject.expected = signing.roa_signature(secret, sts)
    else:
        reject.expected = signing.acs3_signature(secret, sts)
    if cred.attrs.get("inactive"):
        raise reject("InvalidAccessKeyId.Inactive", f"AccessKeyId {ak!r} is disabled (attrs.inactive)")
    method = h.get("x-acs-signature-method")
    if scheme == "acs" and method is not None and method != V1_METHOD:
        raise reject("InvalidSignatureMethod", f"x-acs-signature-method {method!r} is not {V1_METHOD}")

    verified = hmac.compare_digest(reject.expected.encode(), signing.wire_bytes(sig))
    alternative = query if verified else signing.roa_bare_empty(query)
    if not verified and scheme == "acs" and alternative != query:
        sts2 = signing.roa_string_to_sign(wire.method, h, wire.path, alternative)
        if hmac.compare_digest(signing.roa_signature(secret, sts2).encode(), signing.wire_bytes(sig)):
            ctx.note("signature matched with empty query values signed as bare keys (the Tea client's way)")
            verified, sts = True, sts2
    if not verified:
        raise reject("SignatureDoesNotMatch", "signature differs (wrong secret or string to sign)")

    md5 = h.get("content-md5")
    if md5 is not None and md5 != signing.content_md5(wire.body):
        raise reject(
            "ContentMD5NotMatched", f"Content-MD5 {md5[:40]!r}, body's is {signing.content_md5(wire.body)}"
        )

    now = sim.clock.now()
    raw_date = h[date_header.lower()]
    when = parse_date(raw_date)
    if when is None:
        raise reject(
            "InvalidTimeStamp.Format", f"{date_header} {raw_date[:64]!r} is neither RFC 2616 nor ISO 8601"
        )
    timing = f"{date_header} not checked (gateway.max_skew_s is null)"
    if gs.max_skew_s is not None:
        seen = sim.clock.client_time(when, gs.max_skew_s)
        timing = f"{date_header} {raw_date!r} is {seen.describe(gs.max_skew_s)}"
        if not seen.ok:
            raise reject("InvalidTimeStamp.Expired", timing)

    nonce = h.get("x-acs-signature-nonce")
    if nonce is not None and await nonce_used(sim, gs, nonce, now):
        raise reject(
            "SignatureNonceUsed", f"nonce {nonce[:64]!r} was used within the last {gs.nonce_ttl_s:g} s"
        )

    quota = sim.state.quotas.limits("aliyun", cred.attrs)
    broken = await sim.store.consume("aliyun", cred.id, quota, now)  # counted without limits too
    if broken:
        raise reject("Throttling.User", f"credential quota {broken} ({quota}) reached")

    ctx.auth("ok", f"{scheme} signature of {ak!r} verified; {timing}; string to sign {sts!r}", cred.id)
    return cred
