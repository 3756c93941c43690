from __future__ import annotations

from simulator.vendors.aioasis import handlers
from simulator.vendors.base import NO_CONTENT, ROUTING, Route

ROUTES = [
    Route("*", "/fantabulous/touxiangshenhe", handlers.touxiangshenhe, "touxiangshenhe"),
    # any tail, a decoded newline (%0A) too: ``.*`` would stop at it and the path would 404
    Route("*", "/fantabulous/{tail:[\\s\\S]*}", handlers.unknown_api, "unknown_api", ROUTING, NO_CONTENT),
]
