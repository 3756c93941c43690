"""The reference: a bare aiohttp server doing only the parsing work of each benchmarked operation.

Same paths as the simulator, so the load generator sends byte-identical requests to both. Each
handler does what any server of that API must do before it can look at the content, and nothing
more: parse the urlencoded form and decode the base64 image (Baidu face_audit, showapi 2054-1,
itapi), or read and parse the JSON body (Aliyun scan). It answers a small fixed JSON.

    python bench/reference.py --port 8090 [--b64 stdlib|pybase64]

``--b64`` picks the base64 decoder. ``stdlib`` (the default, ``base64.b64decode(validate=True)``)
is the bare handler of issue 6, the yardstick of ``ratio_vs_reference``. ``pybase64`` is the SIMD
decoder the simulator uses: run.py starts a second reference with it, so the JSON also shows the
simulator's cost beyond the parsing both do (``ratio_vs_same_decoder_reference``).

It serves ``GET /__modsim/health`` too, so run.py measures its cold start the same way.

``--floor`` (bench/floor.py) makes the base64-image handlers do, after the parsing, the least that
any simulator of these APIs must do per request: the image's SHA-256 (its content identity: rules
match on it, verdicts are drawn from it), one journal entry (id, time, method, path, headers,
status) in a capped deque, and a JSON answer rendered for the request. No auth, quotas, faults,
scenarios or metrics: how far this floor already falls below the plain reference bounds what any
simulator can reach.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

OK = json.dumps({"code": 0, "msg": "ok"}).encode()
TOKEN = json.dumps({"access_token": "24.reference-token.2592000.1-1", "expires_in": 2592000}).encode()
#: the simulator's request body cap (Settings.max_body_bytes), so both read bodies under the same limit
MAX_BODY = 32 * 1024 * 1024


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def _stdlib_b64(item: str) -> bytes:
    return base64.b64decode(item, validate=True)


DECODERS: dict[str, Callable[[str], bytes]] = {"stdlib": _stdlib_b64}
with contextlib.suppress(ImportError):
    import pybase64

    def _pybase64_b64(item: str) -> bytes:
        return pybase64.b64decode(item, validate=True)

    DECODERS["pybase64"] = _pybase64_b64


async def form_items(request: web.Request, field: str) -> list[str]:
    """The form's ``field``, split on commas (Baidu and showapi take comma-separated images)."""
    form = await request.post()
    value = form.get(field)
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"no {field}")
    return value.split(",")


def form_image_plain(field: str, decode: Callable[[str], bytes]) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        for item in await form_items(request, field):
            decode(item)
        return _json(OK)

    return handler


#: --floor: the journal (capped, as the simulator's) and the answer's fixed part
FLOOR_JOURNAL: deque[dict[str, Any]] = deque(maxlen=10_000)
FLOOR_RESULT = {
    "face": {"result_num": 1, "result": [{"face_probability": 1.0, "age": 25.0, "gender": {"type": "male"}}]},
    "ocr": {"words_result_num": 0, "words_result": []},
}


def floor_image(field: str, decode: Callable[[str], bytes]) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        digests = [hashlib.sha256(decode(item)).hexdigest() for item in await form_items(request, field)]
        FLOOR_JOURNAL.append(
            {
                "request_id": digests[0][:32],
                "time": time.time(),
                "method": request.method,
                "path": request.path,
                "headers": list(request.headers.items()),
                "status": 200,
            }
        )
        results = [{"res_code": 0, "res_msg": [], "data": FLOOR_RESULT} for _ in digests]
        return _json(json.dumps({"log_id": len(FLOOR_JOURNAL), "result": results}).encode())

    return handler


async def json_body(request: web.Request) -> web.Response:
    doc = json.loads(await request.read())
    if not isinstance(doc, dict | list):
        raise web.HTTPBadRequest(text="not a JSON object")
    return _json(OK)


async def token(request: web.Request) -> web.Response:
    return _json(TOKEN)


async def health(request: web.Request) -> web.Response:
    return _json(b'{"status":"ok","vendors":[]}')


def create_app(b64: str = "stdlib", floor: bool = False) -> web.Application:
    decode = DECODERS[b64]
    form_image = floor_image if floor else form_image_plain
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/__modsim/health", health)
    app.router.add_route("*", "/oauth/2.0/token", token)
    app.router.add_post("/rest/2.0/solution/v1/face_audit", form_image("images", decode))
    app.router.add_post("/2054-1", form_image("images", decode))
    app.router.add_route("*", "/api/badword/pic", form_image("data", decode))
    app.router.add_post("/green/image/scan", json_body)
    return app


async def serve(host: str, port: int, b64: str, floor: bool = False) -> int:
    runner = web.AppRunner(create_app(b64, floor), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"reference serving on http://{host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument(
        "--b64", choices=sorted(DECODERS), default="stdlib", help="base64 decoder (default stdlib)"
    )
    p.add_argument(
        "--floor",
        action="store_true",
        help="base64-image handlers also hash, journal and render (see the module docstring)",
    )
    args = p.parse_args(argv)
    return asyncio.run(serve(args.host, args.port, args.b64, args.floor))


if __name__ == "__main__":
    sys.exit(main())
