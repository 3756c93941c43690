from __future__ import annotations

from simulator.vendors.baidu import handlers
from simulator.vendors.base import CREDENTIAL, NO_CONTENT, ROUTING, TEXT, Route

ROUTES = [
    Route("*", "/oauth/2.0/token", handlers.token, "token", CREDENTIAL, NO_CONTENT),
    Route("POST", "/rest/2.0/solution/v1/face_audit", handlers.face_audit, "face_audit"),
    Route("POST", "/rest/2.0/antiporn/v1/detect_gif", handlers.detect_gif, "detect_gif"),
    Route("POST", "/rest/2.0/antispam/v2/spam", handlers.spam, "spam", content=TEXT),
    # any tail, a decoded newline (%0A) too: ``.*`` would stop at it and the path would 404
    Route("*", "/rest/2.0/{tail:[\\s\\S]*}", handlers.unknown_method, "unknown_method", ROUTING, NO_CONTENT),
]
