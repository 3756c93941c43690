"""The web dashboard at ``/__modsim/ui/`` and the admin calls only it needed so far.

The page (``ui/index.html``, ``app.js``, ``app.css``: no build step, no CDN) is a thin client of the
admin API: everything it shows or changes goes through the JSON calls and the live journal stream
(``admin.live``). Its files are served behind the admin boundary (``routes.guard``) but without the
token, which they do not contain: the page asks for the token when an admin call answers 401 and
sends it as ``X-Modsim-Token``.

Calls added here: ``GET /vendors`` (vendors and their operations), ``GET /quotas`` (per credential:
limits, use and what is left), ``GET /scenarios/{name}/image`` (a scenario's marker image) and
``GET /journal/{request_id}/images/{n}`` (a thumbnail of an image a recent request carried,
``content.recent``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from simulator.admin import live
from simulator.admin.masking import mask, reveals
from simulator.admin.routes import UI_PATH
from simulator.content import make_image
from simulator.content.recent import MAX_REQUESTS, NoThumbnail, thumbnail
from simulator.errors import AdminError
from simulator.keys import sim_of

routes = web.RouteTableDef()

UI_DIR = Path(__file__).resolve().parent / "ui"
#: the page's files: name -> content type (nothing else below ui/ is served)
UI_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}
#: the page runs only its own script and style, and talks only to this server
UI_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
IMAGE_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif"}
#: scenario images kept once made (name, format): a few KB each
SCENARIO_IMAGE_CACHE = 128
#: thumbnails decoded at once (each in a thread)
THUMBNAIL_THREADS = 2


class ImageCache:
    """Scenario marker images by (name, format), least recently used dropped first."""

    def __init__(self, size: int = SCENARIO_IMAGE_CACHE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def get(self, key: tuple[str, str]) -> bytes | None:
        data = self._items.get(key)
        if data is not None:
            self._items.move_to_end(key)
        return data

    def put(self, key: tuple[str, str], data: bytes) -> None:
        self._items[key] = data
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


SCENARIO_IMAGES = web.AppKey("modsim_scenario_images", ImageCache)
THUMBNAILS = web.AppKey("modsim_thumbnail_slots", asyncio.Semaphore)


@cache
def _ui_file(name: str) -> bytes:
    return (UI_DIR / name).read_bytes()


def _page(name: str) -> web.Response:
    return web.Response(body=_ui_file(name), content_type=UI_FILES[name], charset="utf-8", headers=UI_HEADERS)


def _to_page() -> web.Response:
    return web.Response(status=302, headers={"Location": UI_PATH + "/"})


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    return _to_page()


@routes.get("/ui")
async def ui_bare(request: web.Request) -> web.Response:
    return _to_page()


@routes.get("/ui/")
async def ui_index(request: web.Request) -> web.Response:
    return _page("index.html")


@routes.get("/ui/{name}")
async def ui_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in UI_FILES:
        raise AdminError(404, "not_found", f"the dashboard has no file {name!r}")
    return _page(name)


@routes.get("/vendors")
async def vendors(request: web.Request) -> web.Response:
    """Every vendor with its operations (name, kind, what it reads, method and path)."""
    sim = sim_of(request)
    return web.json_response(
        {
            "vendors": [
                {
                    "name": v.name,
                    "title": v.title,
                    "operations": [
                        {
                            "name": r.operation,
                            "kind": r.kind,
                            "content": r.content,
                            "method": r.method,
                            "path": r.path,
                        }
                        for r in v.routes()
                    ],
                }
                for v in sim.vendors.values()
            ]
        }
    )


@routes.get("/quotas")
async def quotas(request: web.Request) -> web.Response:
    """Per credential (``?vendor=``): its limits (``qps``, ``daily``, ``total``; absent: unlimited),
    the calls counted now in each window, what is left of each limit, and the vendor's own billing
    (``balance``: AI绿洲's free and paid calls; null for the others). On the simulator clock."""
    sim = sim_of(request)
    reveal = reveals(request)
    policy, now = sim.state.quotas, sim.clock.now()
    out: list[dict[str, Any]] = []
    for cred in sim.state.credentials.all(request.query.get("vendor") or None):
        used = await sim.store.usage(cred.vendor, cred.id, now)
        limits = {k: int(v) for k, v in policy.limits(cred.vendor, cred.attrs).items() if k in used}
        vendor = sim.vendors.get(cred.vendor)
        out.append(
            {
                "vendor": cred.vendor,
                "credential": cred.id if reveal or cred.secret is not None else mask(cred.id),
                "limits": limits,
                "used": used,
                "remaining": {k: max(0, v - used[k]) for k, v in limits.items()},
                "balance": await vendor.balance(sim, cred) if vendor is not None else None,
            }
        )
    return web.json_response({"now": now, "quotas": out})


@routes.get("/scenarios/{name}/image")
async def scenario_image(request: web.Request) -> web.Response:
    """The scenario's marker image (``modsim image --scenario NAME``, 256x256): ``format`` png (default),
    jpeg or gif; ``download=1`` answers it as an attachment."""
    sim = sim_of(request)
    name = request.match_info["name"]
    fmt = request.query.get("format", "png")
    if fmt not in IMAGE_FORMATS:
        raise AdminError(400, "invalid_request", f"format is one of {', '.join(IMAGE_FORMATS)}")
    if name not in sim.state.scenarios:
        raise AdminError(404, "not_found", f"no scenario {name!r}")
    cache_ = request.app[SCENARIO_IMAGES]
    data = cache_.get((name, fmt))
    if data is None:
        try:
            data = await asyncio.to_thread(make_image, name, fmt)
        except ValueError as exc:
            raise AdminError(400, "invalid_request", str(exc)) from exc
        cache_.put((name, fmt), data)
    disposition = "attachment" if request.query.get("download") in ("1", "true", "yes") else "inline"
    ext = "jpg" if fmt == "jpeg" else fmt
    return web.Response(
        body=data,
        content_type=IMAGE_FORMATS[fmt],
        headers={
            "Content-Disposition": f'{disposition}; filename="{name}.{ext}"',
            "Cache-Control": "no-cache",
        },
    )


@routes.get("/journal/{request_id}/images/{n}")
async def journal_image(request: web.Request) -> web.Response:
    """A PNG thumbnail (at most 160 px) of image ``n`` (from 0) of a recent request: the images of the
    last ``content.recent.MAX_REQUESTS`` requests are kept (the journal entry's ``images`` says how
    many a request carried). 404 once gone, 422 when the bytes cannot be previewed."""
    sim = sim_of(request)
    rid, n = request.match_info["request_id"], request.match_info["n"]
    if not n.isdigit():
        raise AdminError(400, "invalid_request", "the image number is a non-negative integer")
    data = sim.state.images.get(rid, int(n))
    if data is None:
        raise AdminError(
            404,
            "not_found",
            f"no image {n} of request {rid!r}: only the images of the last {MAX_REQUESTS} requests are kept",
        )
    async with request.app[THUMBNAILS]:
        try:
            png = await asyncio.to_thread(thumbnail, data)
        except NoThumbnail as exc:
            raise AdminError(422, "no_preview", str(exc)) from exc
    # request ids repeat after a reset (seeded): never cache by URL
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


def install(admin: web.Application) -> None:
    """Add the dashboard, its calls and the live stream to the admin app."""
    admin.add_routes(routes)
    admin.add_routes(live.routes)
    streams = live.Streams()
    admin[live.STREAMS] = streams
    admin[SCENARIO_IMAGES] = ImageCache()
    admin[THUMBNAILS] = asyncio.Semaphore(THUMBNAIL_THREADS)
    admin.on_shutdown.append(streams.close_all)
