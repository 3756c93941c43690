from __future__ import annotations

from simulator.vendors.baidu import censor_handlers, handlers
from simulator.vendors.base import CREDENTIAL, NO_CONTENT, ROUTING, TEXT, Route

ROUTES = [
    Route("*", "/oauth/2.0/token", handlers.token, "token", CREDENTIAL, NO_CONTENT),
    Route("POST", "/rest/2.0/solution/v1/face_audit", handlers.face_audit, "face_audit"),
    Route("POST", "/rest/2.0/antiporn/v1/detect_gif", handlers.detect_gif, "detect_gif"),
    Route("POST", "/rest/2.0/antispam/v2/spam", handlers.spam, "spam", content=TEXT),
    Route("POST", "/rest/2.0/antiporn/v1/detect", censor_handlers.antiporn, "antiporn"),
    Route("POST", "/rest/2.0/antiterror/v1/detect", censor_handlers.antiterror, "antiterror"),
    Route(
        "POST",
        "/rest/2.0/solution/v1/img_censor/v2/user_defined",
        censor_handlers.img_censor_user_defined,
        "img_censor_user_defined",
    ),
    Route(
        "POST",
        "/rest/2.0/solution/v1/text_censor/v2/user_defined",
        censor_handlers.text_censor_user_defined,
        "text_censor_user_defined",
        content=TEXT,
    ),
    Route("POST", "/api/v1/solution/direct/img_censor", censor_handlers.img_censor_comb, "img_censor_comb"),
    Route("POST", "/rpc/2.0/feedback/v1/report", censor_handlers.report, "report", content=NO_CONTENT),
    # any tail, a decoded newline (%0A) too: ``.*`` would stop at it and the path would 404
    Route("*", "/rest/2.0/{tail:[\\s\\S]*}", handlers.unknown_method, "unknown_method", ROUTING, NO_CONTENT),
    Route("*", "/rpc/2.0/{tail:[\\s\\S]*}", handlers.unknown_method, "unknown_method", ROUTING, NO_CONTENT),
    Route("*", "/api/v1/{tail:[\\s\\S]*}", handlers.unknown_method, "unknown_method", ROUTING, NO_CONTENT),
]
