"""Routes that share a method and path, told apart by the request (``vendors.base.Route.select``).

An RPC-style API (Alibaba Cloud's ``POST /?Action=ImageModeration``) serves many operations on one
path; each operation still needs a route of its own, so that the journal, fault rules, the queue and
schema checks see the operation before the handler runs. A ``SelectResource`` is a plain resource
whose one route answers only requests its predicate accepts; the router then tries the next
resource registered for the path (registration order), ending with a catch-all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Select = Callable[[web.BaseRequest], bool]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SelectResource(web.PlainResource):
    def __init__(self, path: str, select: Select) -> None:
        super().__init__(path)
        self._select = select

    async def resolve(self, request: web.Request) -> tuple[web.UrlMappingMatchInfo | None, set[str]]:
        if not self._select(request):
            return None, set()
        return await super().resolve(request)

    def raw_match(self, path: str) -> bool:
        """Never reused by ``UrlDispatcher.add_resource`` for a later route on the same path."""
        return False


def add_selected(
    app: web.Application, method: str, path: str, handler: Handler, select: Select
) -> web.AbstractRoute:
    """``handler`` on ``method`` ``path`` for the requests ``select`` accepts."""
    resource = SelectResource(path, select)
    app.router.register_resource(resource)
    return resource.add_route(method, handler)
