"""The POP gateway in front of the 2022-03-02 RPC API: the version, then the signature, either
ACS3-HMAC-SHA256 (an ``Authorization`` header: ``gateway.authenticate``, the same checks as Green
2018's) or RPC v1, HMAC-SHA1 over the parameters. RPC v1, in order (the first failure answers; the
order is inferred, the codes and texts are the POP gateway's, docs/aliyun.md):

1. ``Version`` (query, form or ``x-acs-version``) present (``MissingVersion``) and ``2022-03-02``
   (``InvalidVersion``);
2. ``AccessKeyId``, ``Signature``, ``SignatureMethod``, ``SignatureVersion``, ``SignatureNonce``
   and ``Timestamp`` present (``Missing<Name>``);
3. the AccessKeyId known (``InvalidAccessKeyId.NotFound``) and active (``.Inactive``);
   ``SignatureMethod`` ``HMAC-SHA1`` (``InvalidSignatureMethod``);
4. the signature (``SignatureDoesNotMatch``, the Message ending with the server's string to sign:
   ``POST&%2F&<percent-encoded sorted parameters>``), over the query and an urlencoded form body;
5. ``Timestamp`` ISO 8601 UTC (``InvalidTimeStamp.Format``) within ``max_skew_s`` of the wall clock or
   the simulator clock (``InvalidTimeStamp.Expired``);
6. ``SignatureNonce`` unused within ``nonce_ttl_s`` (``SignatureNonceUsed``; the same claim space as
   ``x-acs-signature-nonce``);
7. the credential's ``attrs.quota`` (``Throttling.User``).

Every rejection is journalled with the string the simulator signed and the expected vs received
signature.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from simulator.context import RequestCtx
from simulator.state import Credential
from simulator.vendors.aliyun import gateway, signing
from simulator.vendors.aliyun.cip import VERSION
from simulator.vendors.aliyun.errors import RPC_COMMON, PopError
from simulator.vendors.aliyun.policy import GatewaySettings

if TYPE_CHECKING:
    from simulator.sim import Sim

V1_REQUIRED = RPC_COMMON[2:]
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def first(params: signing.Query, name: str) -> str | None:
    return next((v if v is not None else "" for k, v in params if k == name), None)


def _version(ctx: RequestCtx, params: signing.Query, wire: gateway.Wire) -> None:
    version = first(params, "Version") or wire.first().get("x-acs-version")
    if version is None:
        ctx.auth("rejected", "MissingVersion: no Version parameter nor x-acs-version header")
        raise PopError("MissingVersion")
    if version != VERSION:
        ctx.auth("rejected", f"InvalidVersion: Version {version[:40]!r} is not {VERSION}")
        raise PopError("InvalidVersion")


async def authenticate(
    sim: Sim, ctx: RequestCtx, wire: gateway.Wire, params: signing.Query, gs: GatewaySettings
) -> Credential:
    """``params``: the query's parameters, then the urlencoded form body's (what RPC v1 signs)."""
    _version(ctx, params, wire)
    auth = wire.first().get("authorization")
    if auth is not None:
        scheme = auth.strip().partition(" ")[0]
        if scheme != signing.ACS3:
            ctx.auth("rejected", f"IncompleteSignature: Authorization scheme {scheme[:40]!r} on an RPC API")
            raise PopError("IncompleteSignature")
        return await gateway.authenticate(sim, ctx, wire, gs, api_version=VERSION)
    return await _rpc_v1(sim, ctx, wire, params, gs)


def _reject(ctx: RequestCtx, code: str, why: str, sts: str, expected: str | None, received: str) -> PopError:
    ctx.auth(
        "rejected",
        f"{code}: {why}; string to sign {sts!r}; expected signature {expected or '(secret unknown)'}, "
        f"received {received}",
    )
    return PopError(code, sts=sts)


async def _rpc_v1(
    sim: Sim, ctx: RequestCtx, wire: gateway.Wire, params: signing.Query, gs: GatewaySettings
) -> Credential:
    values = [(k, v if v is not None else "") for k, v in params]
    sts = signing.rpc_string_to_sign(wire.method, values)
    for name in V1_REQUIRED:
        if first(params, name) is None:
            ctx.auth("rejected", f"Missing{name}: no {name} parameter; string to sign {sts!r}")
            raise PopError(f"Missing{name}")
    ak = first(params, "AccessKeyId") or ""
    sig = first(params, "Signature") or ""
    cred = sim.state.credentials.get("aliyun", ak)
    if cred is None:
        raise _reject(
            ctx, "InvalidAccessKeyId.NotFound", f"no Aliyun AccessKeyId {ak[:64]!r}", sts, None, sig
        )
    ctx.credential = cred.id
    expected = signing.rpc_signature(cred.secret or "", sts)
    if cred.attrs.get("inactive"):
        raise _reject(
            ctx, "InvalidAccessKeyId.Inactive", f"AccessKeyId {ak!r} is disabled", sts, expected, sig
        )
    method = first(params, "SignatureMethod")
    if method != gateway.V1_METHOD:
        raise _reject(
            ctx, "InvalidSignatureMethod", f"SignatureMethod {str(method)[:40]!r}", sts, expected, sig
        )
    if not hmac.compare_digest(expected.encode(), signing.wire_bytes(sig)):
        raise _reject(ctx, "SignatureDoesNotMatch", "signature differs", sts, expected, sig)

    raw = first(params, "Timestamp") or ""
    when = gateway.parse_date(raw) if raw.endswith("Z") and "T" in raw else None
    if when is None:
        raise _reject(
            ctx, "InvalidTimeStamp.Format", f"Timestamp {raw[:64]!r} is not {ISO_FORMAT}", sts, expected, sig
        )
    timing = "Timestamp not checked (gateway.max_skew_s is null)"
    if gs.max_skew_s is not None:
        seen = sim.clock.client_time(when, gs.max_skew_s)
        timing = f"Timestamp {raw!r} is {seen.describe(gs.max_skew_s)}"
        if not seen.ok:
            raise _reject(ctx, "InvalidTimeStamp.Expired", timing, sts, expected, sig)
    now = sim.clock.now()
    nonce = first(params, "SignatureNonce") or ""
    if await gateway.nonce_used(sim, gs, nonce, now):
        raise _reject(
            ctx, "SignatureNonceUsed", f"SignatureNonce {nonce[:64]!r} was used", sts, expected, sig
        )
    quota = sim.state.quotas.limits("aliyun", cred.attrs)
    broken = await sim.store.consume("aliyun", cred.id, quota, now)
    if broken:
        raise _reject(
            ctx, "Throttling.User", f"credential quota {broken} ({quota}) reached", sts, expected, sig
        )
    ctx.auth("ok", f"RPC HMAC-SHA1 signature of {ak!r} verified; {timing}; string to sign {sts!r}", cred.id)
    return cred
