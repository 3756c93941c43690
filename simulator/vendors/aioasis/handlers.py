"""AI绿洲 handlers: read the request the way the gateway does and call one model function.

- ``appkey`` is read from the query only. The gateway's own parameters are decoded leniently (bytes
  that are not UTF-8 become U+FFFD, so such an appkey is simply unknown: 10001); what is forwarded
  upstream is decoded strictly, and Baidu answers undecodable parameters with 282002.
- POST forwards the form body (urlencoded, or multipart text fields; file parts are ignored). GET (and
  HEAD, which a servlet gateway serves as GET) forwards the body and then the query (minus
  ``appkey``), first value of each name winning.
- Any method other than GET/HEAD/POST on the API path answers 10003, like an unknown path.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from simulator.forms import BodyTooLarge, EncodingError, Params, body_params, parse_qs_strict
from simulator.keys import CTX, sim_of
from simulator.vendors.aioasis import models
from simulator.vendors.aioasis.envelope import response, success_body
from simulator.vendors.aioasis.errors import AioasisError

READS_QUERY = ("GET", "HEAD")


def gateway_query(request: web.Request) -> dict[str, str]:
    """The query as the gateway reads its own ``appkey``: lenient UTF-8, first value wins."""
    raw = request.raw_path.partition("?")[2]
    try:
        data = raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = raw.encode("utf-8", "replace")
    out: dict[str, str] = {}
    for k, v in parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True, errors="replace"):
        out.setdefault(k, v)
    return out


def claimed_appkey(request: web.Request) -> str | None:
    """The appkey the query names (None when absent or empty)."""
    return gateway_query(request).get("appkey") or None


async def touxiangshenhe(request: web.Request) -> web.Response:
    sim, ctx = sim_of(request), request[CTX]
    if request.method not in (*READS_QUERY, "POST"):
        ctx.note(f"method {request.method} is not served by the API")
        raise AioasisError("10003")
    cred = models.authenticate(sim, ctx, claimed_appkey(request) or "")
    limit = models.settings_of(sim).max_body_bytes
    undecodable: str | None = None
    try:
        form = await body_params(request, max_bytes=limit)
    except BodyTooLarge as exc:
        ctx.note(f"body over {exc.limit} bytes (Content-Length {request.content_length}): not read")
        raise AioasisError("10090") from exc
    except EncodingError as exc:
        form, undecodable = Params(), str(exc)
    params = dict(form.values)
    if request.method in READS_QUERY:
        try:
            for k, v in parse_qs_strict(request.raw_path.partition("?")[2]).items():
                if k != "appkey":
                    params.setdefault(k, v)
        except EncodingError as exc:
            undecodable = undecodable or f"query: {exc}"
    out = await models.touxiangshenhe(sim, ctx, cred, params, undecodable=undecodable)
    return response(success_body(out.result, charge=out.charge, remain=out.remain))


async def unknown_api(request: web.Request) -> web.Response:
    """Any other path under /fantabulous/: 10003, whatever the appkey."""
    raise AioasisError("10003")
