"""``Service`` and ``ServiceParameters`` as an RPC action receives them (query or form body), checked
in the documented code order: absent or empty 400, not what the API takes 401, too long 402."""

from __future__ import annotations

from typing import Any

from simulator import jsonin
from simulator.context import RequestCtx
from simulator.vendors.aliyun import signing
from simulator.vendors.aliyun.cip.errors import CipError
from simulator.vendors.aliyun.cip.gateway import first


def fail(ctx: RequestCtx, operation: str, code: int, param: str, why: str) -> CipError:
    ctx.note(f"{code}: {why}")
    return CipError(code, param, operation=operation)


def service(
    ctx: RequestCtx, operation: str, params: signing.Query, known: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    """The service code and the parsed ServiceParameters object."""
    svc = first(params, "Service")
    if not svc:
        raise fail(ctx, operation, 400, "Service", "no Service parameter")
    if svc not in known:
        raise fail(ctx, operation, 401, "Service", f"Service {svc[:40]!r} is not one of {', '.join(known)}")
    raw = first(params, "ServiceParameters")
    if not raw:
        raise fail(ctx, operation, 400, "ServiceParameters", "no ServiceParameters parameter")
    try:
        parsed = jsonin.loads(raw)
    except ValueError as exc:
        raise fail(ctx, operation, 401, "ServiceParameters", f"not JSON: {str(exc)[:120]}") from exc
    if not isinstance(parsed, dict):
        raise fail(ctx, operation, 401, "ServiceParameters", f"a JSON {type(parsed).__name__}, not an object")
    return svc, parsed


def text_field(
    ctx: RequestCtx, operation: str, sp: dict[str, Any], name: str, *, required: bool = False, limit: int = 0
) -> str | None:
    """``sp[name]`` as a string: absent or empty 400 when required, not a string 401, over ``limit``
    characters 402."""
    value = sp.get(name)
    if value is None or value == "":
        if required:
            raise fail(ctx, operation, 400, name, f"ServiceParameters.{name} is absent or empty")
        return None
    if not isinstance(value, str):
        raise fail(ctx, operation, 401, name, f"ServiceParameters.{name} is a {type(value).__name__}")
    if limit and len(value) > limit:
        raise fail(
            ctx, operation, 402, name, f"ServiceParameters.{name} has {len(value)} characters > {limit}"
        )
    return value
