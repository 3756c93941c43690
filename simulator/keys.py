"""Every web.AppKey and request key, defined once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from simulator.sim import Sim
    from simulator.vendors.base import OpRef

from simulator.context import RequestCtx

SIM: web.AppKey[Sim] = web.AppKey("modsim_sim")
ROUTE_OPS: web.AppKey[dict[object, OpRef]] = web.AppKey("modsim_route_ops")
CTX: web.RequestKey[RequestCtx] = web.RequestKey("modsim_ctx", RequestCtx)
#: the body, when a fault rule matching on request fields had to read it before the handler
RAW_BODY: web.RequestKey[bytes] = web.RequestKey("modsim_raw_body", bytes)
#: the request's body cap (``forms.body_cap``), computed once
BODY_CAP: web.RequestKey[int] = web.RequestKey("modsim_body_cap", int)


def root_app(request: web.Request) -> web.Application:
    """The application ``create_app`` built, for vendor and admin routes alike.

    aiohttp puts the root application first in the matched apps of every request, admin sub-app
    included. ``request.config_dict[KEY]`` finds the same values, but builds a ChainMapProxy on every
    access: about 1 us, several times per vendor request (3 % of a face_audit request).
    """
    return request.match_info.apps[0]


def sim_of(request: web.Request) -> Sim:
    """The Sim serving ``request``."""
    return root_app(request)[SIM]
