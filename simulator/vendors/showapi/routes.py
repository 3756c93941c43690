from __future__ import annotations

from simulator.vendors.base import IMAGE, NO_CONTENT, ROUTING, TEXT, Route
from simulator.vendors.showapi import handlers

#: the three Baidu connectors; any other ``/<digits>-<digits>`` is an API this gateway does not have
APIS = ("2054-1", "2054-2", "2054-3")

ROUTES = [
    *(Route("*", f"/{api}", handlers.api, api, content=TEXT if api == "2054-3" else IMAGE) for api in APIS),
    Route("*", r"/{api:\d+-\d+}", handlers.unknown_api, "unknown_api", ROUTING, NO_CONTENT),
]
