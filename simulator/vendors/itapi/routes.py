from __future__ import annotations

from simulator.vendors.base import NO_CONTENT, Route
from simulator.vendors.itapi import handlers


def routes(result_path: str) -> list[Route]:
    """The submit path is the vendor's; the result-query path is configurable (``result_path``)."""
    return [
        Route("*", "/api/badword/pic", handlers.pic, "pic"),
        Route("*", result_path, handlers.result, "picresult", content=NO_CONTENT),
    ]
