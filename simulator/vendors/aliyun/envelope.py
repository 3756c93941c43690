"""The one place Aliyun bodies are serialised.

Green bodies are fastjson's: compact, keys sorted (the seed's answer lists ``code, data, msg,
requestId`` and every nested object alphabetically), UTF-8 unescaped,
``Content-Type: application/json;charset=utf-8``. POP gateway errors keep their documented key
order (RequestId, HostId, Code, Message, Recommend); as XML (``<Error>`` root) they are
``text/xml;charset=utf-8``, the one XML Content-Type the Tea client parses.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from simulator import jsonout
from simulator.vendors.aliyun.errors import AliyunError, GreenError, PopError
from simulator.vendors.aliyun.jsonfmt import dumps

JSON_CT = "application/json;charset=utf-8"
XML_CT = "text/xml;charset=utf-8"
DEFAULT_HOST = "green.cn-shanghai.aliyuncs.com"


def request_id(hex32: str) -> str:
    """An Aliyun RequestId (upper-case UUID) from the journal's request id, so the two correlate."""
    h = (hex32 + "0" * 32)[:32].upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


#: ``green_response(NO_DATA, rid)``: an answer without ``data`` (the feedback calls: "the data field in
#: the response body is empty", and their examples carry none)
NO_DATA: Any = object()


def green_response(data: Any, rid: str) -> web.Response:
    body = {"code": 200, "msg": "OK", "requestId": rid}
    if data is not NO_DATA:
        body["data"] = data
    return web.Response(
        body=jsonout.dumps(body, sort_keys=True), status=200, headers={"Content-Type": JSON_CT}
    )


def green_error_body(err: GreenError, rid: str) -> dict[str, Any]:
    return {"code": err.code, "msg": err.message, "requestId": rid}


def _echo(text: str) -> str:
    """Request text echoed in a body (the Host, the string to sign): bytes that were not UTF-8
    (aiohttp's surrogate escapes) become U+FFFD, so the body can be encoded."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def pop_error_body(err: PopError, rid: str, host: str) -> dict[str, Any]:
    return {
        "RequestId": rid,
        "HostId": _echo(host),
        "Code": err.code,
        "Message": _echo(err.message),
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={err.code}&product=Green&requestId={rid}",
    }


def render_error(err: AliyunError, fallback_rid: str) -> web.Response:
    rid = err.request_id or fallback_rid
    if isinstance(err, PopError):
        body = pop_error_body(err, rid, err.host_id or DEFAULT_HOST)
        if err.xml:
            text = (
                '<?xml version="1.0" encoding="UTF-8"?><Error>'
                + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in body.items())
                + "</Error>"
            )
            return web.Response(
                body=text.encode("utf-8"), status=err.http_status, headers={"Content-Type": XML_CT}
            )
        raw = jsonout.dumps(body)
        return web.Response(body=raw, status=err.http_status, headers={"Content-Type": JSON_CT})
    from simulator.vendors.aliyun.cip.errors import CipError

    if isinstance(err, CipError):
        from simulator.vendors.aliyun.cip import envelope

        return envelope.render_error(err, rid)
    green = err if isinstance(err, GreenError) else GreenError(500)
    return web.Response(
        body=dumps(green_error_body(green, rid)).encode("utf-8"),
        status=green.http_status,
        headers={"Content-Type": JSON_CT},
    )
