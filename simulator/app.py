"""App factory: one aiohttp application serving every vendor on its real paths, admin API under /__modsim/."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from simulator import middlewares
from simulator.admin import create_admin_app
from simulator.keys import ROUTE_OPS, SIM
from simulator.routing import add_selected
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.base import OpRef


async def _store(app: web.Application) -> AsyncIterator[None]:
    """The store connects (a shared one: loads the shared configuration, follows its changes)
    before the first request, and closes after the last."""
    sim = app[SIM]
    await sim.store.start(sim)
    yield
    await sim.store.close()


async def _shutdown_vendors(app: web.Application) -> None:
    sim = app[SIM]
    sim.stopping.set()  # fault waits (hang, latency, slow_body) end now: they would outlast the timeout
    for vendor in sim.vendors.values():
        await vendor.shutdown(sim)


def create_app(settings: Settings | None = None, sim: Sim | None = None) -> web.Application:
    settings = settings or (sim.settings if sim else Settings.load())
    sim = sim or Sim(settings)
    app = web.Application(
        middlewares=[middlewares.journal],  # which runs errors, then faults (simulator/middlewares.py)
        client_max_size=settings.max_body_bytes,
        # bodies are decoded by simulator.forms.read_capped, where a bad one gets the vendor's answer;
        # requests aiohttp cannot parse are journalled and logged in one line (ProtocolLog)
        handler_args={"auto_decompress": False, "logger": middlewares.ProtocolLog(sim)},
    )
    app[SIM] = sim
    ops: dict[object, OpRef] = {}
    for vendor in sim.vendors.values():
        for r in vendor.routes():
            if r.select is not None:
                route = add_selected(app, r.method, r.path, r.handler, r.select)
            else:
                route = app.router.add_route(r.method, r.path, r.handler)
            ref = OpRef(vendor.name, r.operation, r.kind, r.content)
            ops[route] = ref
            if r.method == "GET":
                # aiohttp adds a HEAD twin for GET routes; it belongs to the same operation
                for other in route.resource or ():
                    ops.setdefault(other, ref)
    app[ROUTE_OPS] = ops
    app.cleanup_ctx.append(_store)
    app.on_shutdown.append(_shutdown_vendors)
    app.add_subapp("/__modsim/", create_admin_app(list(sim.vendors.values())))
    return app
