"""The vendor extension point. A vendor package provides one ``Vendor`` subclass; nothing outside
its package knows vendor specifics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.context import RequestCtx
from simulator.errors import VendorError
from simulator.scenarios.model import IMAGE, NO_CONTENT, TEXT

__all__ = ["BUSINESS", "CREDENTIAL", "IMAGE", "NO_CONTENT", "ROUTING", "TEXT", "OpRef", "Route", "Vendor"]

if TYPE_CHECKING:
    from simulator.sim import Sim
    from simulator.state import Credential

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


#: what an operation is, for rules that do not name one (faults, queued outcomes, scenario rules):
#: ``business`` operations do the vendor's work and are what a rule without ``operation`` reaches;
#: ``credential`` operations hand out credentials (Baidu's OAuth token, Alibaba Cloud's upload
#: credentials) and ``routing`` ones answer "no such API": a rule reaches them only by naming them.
BUSINESS, CREDENTIAL, ROUTING = "business", "credential", "routing"

#: body room for an operation's parameters other than its content (and the whole body of one that
#: carries no content: a token request, a result query)
PARAMS_BYTES = 64 * 1024


def b64_chars(raw_bytes: int) -> int:
    """Base64 characters of ``raw_bytes`` bytes."""
    return (raw_bytes + 2) // 3 * 4


def form_bytes(b64: int) -> int:
    """A urlencoded form body carrying ``b64`` base64 characters: ``+`` and ``/`` (1 in 32 characters
    of an image's base64) become three bytes each, so an eighth more covers them, plus ``PARAMS_BYTES``."""
    return b64 + b64 // 8 + PARAMS_BYTES


@dataclass(frozen=True)
class Route:
    method: str  # "*" for any
    path: str
    handler: Handler
    operation: str
    kind: str = BUSINESS
    #: what the operation analyses (``scenarios.model``: IMAGE, TEXT, NO_CONTENT)
    content: str = IMAGE
    #: several operations on one method and path (an RPC ``Action``): this route takes only the
    #: requests ``select`` accepts (``simulator.routing``); a later route on the path takes the rest
    select: Callable[[web.BaseRequest], bool] | None = None


@dataclass(frozen=True)
class OpRef:
    vendor: str
    operation: str
    kind: str = BUSINESS
    content: str = IMAGE


class Vendor(ABC):
    #: registry key, journal ``vendor`` value
    name: str = ""
    title: str = ""
    #: the real hostnames the vendor answers on (the proxy mode serves exactly these;
    #: ``*`` stands for one DNS label)
    hosts: tuple[str, ...] = ()
    #: the front proxy whose error pages ``{"type": "http", "body": "gateway"}`` faults imitate
    gateway_server: str = "nginx"
    #: request parameters (query or form) and headers that carry a secret: masked in journal
    #: answers to remote admin clients (``admin.masking``)
    secret_params: tuple[str, ...] = ()
    secret_headers: tuple[str, ...] = ()
    #: JSON fields of its bodies that carry a secret (an issued token), masked the same way
    secret_fields: tuple[str, ...] = ()

    @abstractmethod
    def routes(self) -> list[Route]: ...

    def operations(self) -> dict[str, Route]:
        """Operation name -> its (first) route."""
        out: dict[str, Route] = {}
        for r in self.routes():
            out.setdefault(r.operation, r)
        return out

    def business_operations(self) -> list[str]:
        return [op for op, r in self.operations().items() if r.kind == BUSINESS]

    @abstractmethod
    async def render_error(self, err: VendorError, operation: str, sim: Sim, ctx: RequestCtx) -> web.Response:
        """The vendor's own envelope for ``err``; the one place its error bodies are built. ``ctx`` has
        the peer (``remote``) and the credential the request names (``claimed_credential``)."""

    @abstractmethod
    def internal_error(self, operation: str) -> VendorError:
        """What the vendor answers when something breaks inside it."""

    @abstractmethod
    def error_from_code(self, code: int | str, operation: str) -> VendorError:
        """A vendor error by code, for fault rules (``{"type": "error", "code": ...}``)."""

    def oversize_error(self, operation: str) -> VendorError:
        """The vendor's answer to a body over the size cap."""
        return self.internal_error(operation)

    def max_body_bytes(self, operation: str, sim: Sim) -> int:
        """The most body bytes ``operation`` accepts once any Content-Encoding is undone: checked from
        Content-Length before the handler, while the body streams in and while it inflates (over it:
        ``oversize_error``). ``Settings.max_body_bytes`` caps it whatever this says. Default: that cap."""
        return sim.settings.max_body_bytes

    def deadline(self, operation: str, sim: Sim) -> tuple[float, VendorError] | None:
        """How long the vendor lets ``operation`` run before answering a timeout of its own, and that
        answer (Alibaba Cloud's synchronous image scan: 6 s, then 581). A latency fault longer than
        the deadline gets this error at the deadline, as a slow service would."""
        return None

    def configure(self, sim: Sim) -> None:
        """Read and validate this vendor's fixture section (``vendors.<name>``); called at start and reset."""
        return None

    async def shutdown(self, sim: Sim) -> None:
        """The server is stopping (after in-flight requests finished): settle background work."""
        return None

    async def peek_credential(self, request: web.Request, sim: Sim) -> str | None:
        """The credential id a request claims, from the query and headers only (never the body);
        used by fault matching before the handler runs."""
        return None

    def schema_for(self, operation: str, body: Any) -> str | None:
        """The schema (path below schemas/) a response body of ``operation`` must satisfy."""
        return None

    def openapi_paths(self) -> dict[str, Any]:
        """OpenAPI 3.1 Path Items of this vendor's endpoints, by path template (builders and the
        conventions in ``simulator.admin.openapi``). The default derives minimal items from ``routes()``."""
        from simulator.admin.openapi import paths_from_routes

        return paths_from_routes(self, self.routes())

    def admin_routes(self) -> list[web.RouteDef]:
        """Vendor-specific admin calls, mounted under ``/__modsim/vendors/<name>/``."""
        return []

    async def balance(self, sim: Sim, cred: Credential) -> dict[str, int] | None:
        """What ``cred`` has left in this vendor's own billing, beyond the quotas every vendor shares
        (``simulator.quotas``): AI绿洲's free and paid calls. None: no billing of its own."""
        return None

    def demo_credentials(self, sim: Sim) -> list[dict[str, Any]]:
        """What ``modsim serve`` prints; defaults to this vendor's fixture credentials."""
        return [c.to_dict() for c in sim.state.credentials.all(self.name)]
