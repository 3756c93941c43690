"""What fault actions do to a request. ``before`` runs in place of (or ahead of) the handler;
``after`` reshapes the handler's real answer.

Pages for ``{"type": "http", "body": "gateway"}`` are what front proxies send: nginx's error pages
(Baidu, showapi, AI绿洲, itapi front ends) or Tengine's (Alibaba Cloud) — set by the vendor's
``gateway_server``.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
GARBLED = b'\x8b<html>\xff\xfe garbled \x00{"err'
BEFORE = frozenset({"latency", "error", "http", "hang", "reset"})
AFTER = frozenset({"slow_body", "close_after", "truncate", "content_type"})


def gateway_page(status: int, server: str) -> str:
    reason = REASONS.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n"
    )


def http_response(action: Mapping[str, Any], server: str) -> web.Response:
    status = int(action["status"])
    kind = action.get("body", "empty")
    if kind == "gateway":
        resp = web.Response(status=status, text=gateway_page(status, server), content_type="text/html")
        resp.headers["Server"] = server
        return resp
    body = GARBLED if kind == "garbled" else b""
    return web.Response(status=status, body=body, content_type="application/octet-stream")


def latency_ms(action: Mapping[str, Any], rnd: Any) -> float:
    dist = action.get("distribution")
    if dist == "uniform":
        lo, hi = float(action["min_ms"]), float(action["max_ms"])
        return float(rnd.uniform(min(lo, hi), max(lo, hi)))
    if dist == "lognormal":
        drawn = float(action["median_ms"]) * math.exp(float(action.get("sigma", 0.5)) * rnd.gauss(0.0, 1.0))
        return min(drawn, float(action.get("max_ms", 60000)))
    return float(action["ms"])


def abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def after(
    request: web.Request,
    resp: web.StreamResponse,
    action: Mapping[str, Any],
    max_wait_s: float,
    wait: Callable[[float], Awaitable[bool]],
) -> web.StreamResponse:
    """``max_wait_s``: a slow_body drips for at most this long in all (its delay shrinks to fit);
    ``wait(seconds)`` sleeps and says False when the server is shutting down (the drip stops)."""
    if not isinstance(resp, web.Response) or not isinstance(resp.body, bytes | bytearray):
        return resp
    body = bytes(resp.body)
    kind = action["type"]
    if kind == "content_type":
        resp.headers["Content-Type"] = str(action.get("value", "text/html; charset=utf-8"))
        return resp
    if kind == "truncate":
        cut = web.Response(
            status=resp.status, body=body[: int(len(body) * float(action.get("fraction", 0.5)))]
        )
        _copy_headers(resp, cut)
        return cut
    stream = web.StreamResponse(status=resp.status)
    _copy_headers(resp, stream)
    stream.content_length = len(body)
    await stream.prepare(request)
    if kind == "close_after":
        await stream.write(body[: int(action["bytes"])])
        abort(request)
        return stream
    step = int(action.get("chunk_bytes", 64))
    chunks = max(1, -(-len(body) // step))
    delay = min(float(action.get("delay_ms", 200)) / 1000, max_wait_s / chunks)
    for i in range(0, len(body), step):
        await stream.write(body[i : i + step])
        if not await wait(delay):
            abort(request)
            return stream
    await stream.write_eof()
    return stream


def _copy_headers(src: web.StreamResponse, dst: web.StreamResponse) -> None:
    for k, v in src.headers.items():
        if k.lower() not in ("content-length", "transfer-encoding"):
            dst.headers[k] = v


def request_fields(query: str, body: bytes, content_type: str) -> dict[str, tuple[str, ...]]:
    """Every parameter name -> its values: query, urlencoded body, JSON body (any depth). Lenient."""
    out: dict[str, list[str]] = {}
    for k, v in parse_qsl(query, keep_blank_values=True, errors="replace"):
        out.setdefault(k, []).append(v)
    text = body.decode("utf-8", "replace")
    stripped = text.lstrip()
    if "json" in content_type or stripped.startswith(("{", "[")):
        with contextlib.suppress(ValueError, RecursionError):  # too deep: matched on the query alone
            _walk(json.loads(text), out)
    elif body:
        for k, v in parse_qsl(text, keep_blank_values=True, errors="replace"):
            out.setdefault(k, []).append(v)
    return {k: tuple(v) for k, v in out.items()}


def _walk(node: Any, out: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, dict | list):
                _walk(v, out)
            else:
                out.setdefault(str(k), []).append(v if isinstance(v, str) else json.dumps(v))
    elif isinstance(node, list):
        for item in node:
            _walk(item, out)
