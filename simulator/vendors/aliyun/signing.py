"""The two POP signatures, server side, as pure functions (no aiohttp).

ROA v1 (``Authorization: acs AK:SIG``, HMAC-SHA1) exactly as aliyunsdkcore 2.16.1 and the Tea
``signature_algorithm="v2"`` client build it (facts A.2): method, then Accept, Content-MD5,
Content-Type and Date each followed by ``\\n`` (empty when absent), then every ``x-acs-*`` header
lower-cased, sorted, ``name:value\\n``, then the path and the query sorted by key with raw (decoded)
values, ``k=v`` or a bare ``k`` for a parameter written without ``=``. No ``\\n`` between headers
and resource.

ACS3-HMAC-SHA256 (the Tea SDK's default, facts A.3): canonical request over the headers the client
lists in ``SignedHeaders`` (values trimmed, repeats comma-joined, sorted), the canonical query
(keys sorted, values ``quote(v, safe="~")``) and hex(sha256(body)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote_plus

V1_HEADERS = ("accept", "content-md5", "content-type", "date")
ACS3 = "ACS3-HMAC-SHA256"

Query = list[tuple[str, str | None]]


def parse_query(raw: str) -> Query:
    """The raw query string as (key, value) pairs, ``+`` and %-escapes decoded; ``None`` for a
    parameter without ``=``. Undecodable bytes become U+FFFD (the signature then just fails)."""
    out: Query = []
    for part in raw.split("&"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        out.append(
            (unquote_plus(key, errors="replace"), unquote_plus(value, errors="replace") if sep else None)
        )
    return out


def roa_string_to_sign(method: str, headers: Mapping[str, str], path: str, query: Query) -> str:
    """``headers``: lower-case names (first value of each). Query parameters keep their order among
    equal keys (the sort is by key only, as the SDK's is)."""
    get = headers.get
    parts = [method.upper(), *[get(name) or "" for name in V1_HEADERS]]
    parts += [f"{k}:{headers[k]}" for k in sorted([k for k in headers if k.startswith("x-acs-")])]
    s = "\n".join(parts) + "\n" + path
    if query:
        s += "?" + "&".join([k if v is None else f"{k}={v}" for k, v in sorted(query, key=_key)])
    return s


def _key(kv: tuple[str, str | None]) -> str:
    return kv[0]


def roa_bare_empty(query: Query) -> Query:
    """The Tea client's reading of empty values: ``k=`` signed as a bare ``k``."""
    return [(k, None if v == "" else v) for k, v in query]


def wire_bytes(text: str) -> bytes:
    """``text`` as the bytes received: aiohttp hands header bytes that are not UTF-8 (obs-text) over
    as surrogate escapes, and the gateway hashes what it was sent."""
    return text.encode("utf-8", "surrogateescape")


def roa_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.digest(secret.encode("utf-8"), wire_bytes(string_to_sign), "sha1")
    return base64.b64encode(digest).decode("ascii")


def content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode("ascii")


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def acs3_canonical_request(
    method: str,
    path: str,
    query: Query,
    headers: Iterable[tuple[str, str]],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    """``headers``: every (name, value) as received, any case; only ``signed_headers`` count."""
    wanted = {h.lower() for h in signed_headers}
    values: dict[str, list[str]] = {}
    for name, value in headers:
        low = name.lower()
        if low in wanted:
            values.setdefault(low, []).append(value.strip())
    names = sorted(values)
    canon_headers = "".join(f"{n}:{','.join(sorted(values[n]))}\n" for n in names)
    canon_query = "&".join(f"{k}={quote(v or '', safe='~')}" for k, v in sorted(query, key=lambda kv: kv[0]))
    return (
        f"{method.upper()}\n{path or '/'}\n{canon_query}\n{canon_headers}\n{';'.join(names)}\n{payload_hash}"
    )


def acs3_string_to_sign(canonical_request: str) -> str:
    return f"{ACS3}\n{hashlib.sha256(wire_bytes(canonical_request)).hexdigest()}"


def acs3_signature(secret: str, string_to_sign: str) -> str:
    return hmac.digest(secret.encode("utf-8"), wire_bytes(string_to_sign), "sha256").hex()


def parse_acs3(value: str) -> dict[str, str] | None:
    """``Credential=..,SignedHeaders=..,Signature=..`` after the scheme; None when malformed."""
    parts: dict[str, str] = {}
    for item in value.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            return None
        parts[key] = val
    if not all(parts.get(k) for k in ("Credential", "SignedHeaders", "Signature")):
        return None
    return parts


# ------------------------------------------------------------------------------------------------
# RPC v1 (HMAC-SHA1 over the parameters: ``Signature``, ``SignatureNonce``, ``Timestamp`` ...), what
# the Tea client sends with ``signature_algorithm="v2"`` for RPC-style APIs (Green 2022-03-02) and
# aliyunsdkcore for every RPC API.


def percent_encode(text: str) -> str:
    """RFC 3986: everything but ``A-Z a-z 0-9 - _ . ~`` as ``%XX`` of its UTF-8 bytes (a space is
    ``%20``, ``*`` is ``%2A``)."""
    return quote(text, safe="~")


def rpc_string_to_sign(method: str, params: Iterable[tuple[str, str]]) -> str:
    """``METHOD&%2F&`` + the percent-encoded canonical query: every parameter but ``Signature``
    (query and form body alike), sorted by key, ``pe(k)=pe(v)`` joined by ``&``."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}"
        for k, v in sorted(params, key=lambda kv: kv[0])
        if k != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(secret: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA1(key = secret + ``&``, string to sign))."""
    digest = hmac.digest((secret + "&").encode("utf-8"), wire_bytes(string_to_sign), "sha1")
    return base64.b64encode(digest).decode("ascii")
