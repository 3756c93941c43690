"""Secrets in admin answers: shown to loopback clients, masked for remote ones (``admin_allow_remote``).

Masked: credential secrets, the ids of credentials that have no secret (an itapi key, an AI绿洲
appkey: the id is what authenticates), Baidu access tokens, credentials in task listings, and in
the journal (JSON, JSON lines, HAR) the secret parameters and headers each vendor declares
(``Vendor.secret_params`` / ``secret_headers``) and such credentials. A remote ``?reveal=1`` is
refused (403) rather than silently masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiohttp import web

from simulator.errors import AdminError
from simulator.outbound import is_loopback

MASK = "***"


def reveals(request: web.Request) -> bool:
    """Whether this admin answer may carry secrets: a loopback peer's request."""
    if is_loopback(request.remote):
        return True
    if request.query.get("reveal", "").lower() in ("1", "true", "yes"):
        raise AdminError(403, "forbidden", "secrets are revealed to loopback clients only")
    return False


def mask(value: str) -> str:
    """``value`` with only its first 4 characters shown (all masked when shorter than 12)."""
    return value[:4] + MASK if len(value) >= 12 else MASK


@lru_cache(maxsize=64)
def _param_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(^|[&?\s])(" + "|".join(map(re.escape, names)) + r")=([^&\s]*)")


@lru_cache(maxsize=64)
def _field_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r'("(?:' + "|".join(map(re.escape, names)) + r')"\s*:\s*")([^"]*)(")')


def _everywhere(node: Any, old: str, new: str) -> Any:
    if isinstance(node, str):
        return node.replace(old, new)
    if isinstance(node, list):
        return [_everywhere(v, old, new) for v in node]
    if isinstance(node, dict):
        return {k: _everywhere(v, old, new) for k, v in node.items()}
    return node


@dataclass(frozen=True)
class Secrets:
    """What one vendor's requests and answers carry that is secret (``Vendor.secret_*``)."""

    params: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


def journal_masker(
    secrets: dict[str, Secrets], is_bare_key: Callable[[str, str], bool]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function masking one decoded journal entry for a remote reader: per vendor, the values of
    its secret parameters (query, urlencoded body), headers and JSON fields (both bodies), and a
    credential whose id itself authenticates (``is_bare_key``) wherever it appears."""

    def text(value: str, s: Secrets) -> str:
        if s.params:
            value = _param_pattern(s.params).sub(lambda m: f"{m[1]}{m[2]}={mask(m[3])}", value)
        if s.fields:
            value = _field_pattern(s.fields).sub(lambda m: f"{m[1]}{mask(m[2])}{m[3]}", value)
        return value

    def masked(e: dict[str, Any]) -> dict[str, Any]:
        s = secrets.get(str(e.get("vendor") or ""), Secrets())
        e["query"] = text(e.get("query") or "", s)
        ex = e.get("exchange")
        if isinstance(ex, dict):
            for side in ("request_body", "response_body"):
                body = ex.get(side)
                if isinstance(body, dict) and isinstance(body.get("text"), str):
                    body["text"] = text(body["text"], s)
            ex["request_headers"] = [
                [k, mask(v) if k.lower() in s.headers else v] for k, v in ex.get("request_headers", [])
            ]
        cred = e.get("credential")
        if isinstance(cred, str) and cred and is_bare_key(str(e.get("vendor") or ""), cred):
            e = _everywhere(e, cred, mask(cred))
        return e

    return masked
