"""itapi handlers: parse the request the way the vendor's (PHP-style) gateway does, call one model.

Parameters come from the query string and, for POST, from an urlencoded or multipart form body; a
name in both takes the body's value (PHP ``$_REQUEST`` order "GP"). Within one source the first value
of a repeated name wins. Any method is served; only a POST body is read (PHP fills ``$_POST`` for
POST only). Multipart file parts are not form values (they would be ``$_FILES``).
"""

from __future__ import annotations

from aiohttp import web

from simulator.forms import BodyTooLarge, EncodingError, body_params, query_params
from simulator.keys import CTX, sim_of
from simulator.vendors.itapi import envelope, models
from simulator.vendors.itapi.errors import ItapiError


async def _params(request: web.Request) -> dict[str, str]:
    sim, ctx = sim_of(request), request[CTX]
    try:
        params = query_params(request)
        if request.method == "POST":
            params.update((await body_params(request, sim.settings.max_body_bytes)).values)
    except EncodingError as exc:
        ctx.note(f"parameters are not UTF-8 form data: {exc}")
        raise ItapiError("encoding") from exc
    except BodyTooLarge as exc:
        ctx.note(str(exc))
        raise ItapiError("too_large") from exc
    return params


async def pic(request: web.Request) -> web.Response:
    params = await _params(request)
    body = await models.submit(sim_of(request), request[CTX], params, user_ip=request.remote)
    return envelope.response(body)


async def result(request: web.Request) -> web.Response:
    params = await _params(request)
    return envelope.response(await models.result(sim_of(request), request[CTX], params))
