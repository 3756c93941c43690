"""Per-request facts gathered along the request flow and written to the journal at the end.

Handlers and models fill it in (models receive it as a plain object; they never see aiohttp).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

#: images kept per request for the dashboard's thumbnails (``content.recent``)
IMAGES_PER_REQUEST = 4


@dataclass(slots=True)
class RequestCtx:
    request_id: str
    started: float  # simulator clock
    method: str
    path: str
    query: str
    remote: str | None
    #: the request's headers (read-only; for error envelopes that echo the Host, the Accept)
    headers: Mapping[str, str] | None = None
    vendor: str | None = None
    operation: str | None = None
    #: the operation's kind (``vendors.base``: business, credential, routing)
    op_kind: str = "business"
    credential: str | None = None
    #: the credential id the request names (query/headers, before any check): for error envelopes
    claimed_credential: str | None = None
    auth_outcome: str | None = None  # ok | rejected | not_checked
    auth_reason: str | None = None
    vendor_code: int | str | None = None
    scenario: list[str] = field(default_factory=list)
    scenario_source: list[str] = field(default_factory=list)
    fault: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    #: what the caller should know (an unknown marker, a rule reaching an operation it cannot render):
    #: journalled and sent as ``X-Modsim-Warning`` response headers
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    traceback: str | None = None
    #: the client got no answer at all (a hang or reset fault closed the connection): why
    no_answer: str | None = None
    #: the response's schema check (``Settings.validate_responses`` only): ``{"name", "problems"}``,
    #: or ``{"skipped": why}``
    schema: dict[str, Any] | None = None
    #: the decoded images the request carried (the first few), for the dashboard's thumbnails
    images: list[bytes] | None = None

    def auth(self, outcome: str, reason: str, credential: str | None = None) -> None:
        self.auth_outcome = outcome
        self.auth_reason = reason
        if credential is not None:
            self.credential = credential

    def note(self, text: str) -> None:
        self.notes.append(text)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def keep_image(self, data: bytes) -> None:
        images = self.images
        if images is None:
            self.images = [data]
        elif len(images) < IMAGES_PER_REQUEST and not any(d is data for d in images):
            images.append(data)


#: the RequestCtx of the vendor request being served (set by the journal middleware), for code far
#: from the handler that has something to add to its journal entry (``content.inspect_image``)
CURRENT: ContextVar[RequestCtx | None] = ContextVar("modsim_request_ctx", default=None)
