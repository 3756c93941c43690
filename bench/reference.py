"""The reference: a bare aiohttp server doing only the parsing work of each benchmarked operation.

Same paths as the simulator, so the load generator sends byte-identical requests to both. Each
handler does what any server of that API must do before it can look at the content, and nothing
more: parse the urlencoded form and decode the base64 image (Baidu face_audit, showapi 2054-1,
itapi), or read and parse the JSON body (Aliyun scan). It answers a small fixed JSON.

    python bench/reference.py --port 8090

It serves ``GET /__modsim/health`` too, so run.py measures its cold start the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import signal
import sys

from aiohttp import web
from aiohttp.typedefs import Handler

OK = json.dumps({"code": 0, "msg": "ok"}).encode()
TOKEN = json.dumps({"access_token": "24.reference-token.2592000.1-1", "expires_in": 2592000}).encode()
#: the simulator's request body cap (Settings.max_body_bytes), so both read bodies under the same limit
MAX_BODY = 32 * 1024 * 1024


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def form_image(field: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        form = await request.post()
        value = form.get(field)
        if not isinstance(value, str):
            raise web.HTTPBadRequest(text=f"no {field}")
        for item in value.split(","):  # Baidu and showapi take comma-separated images
            base64.b64decode(item, validate=True)
        return _json(OK)

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


def create_app() -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/__modsim/health", health)
    app.router.add_route("*", "/oauth/2.0/token", token)
    app.router.add_post("/rest/2.0/solution/v1/face_audit", form_image("images"))
    app.router.add_post("/2054-1", form_image("images"))
    app.router.add_route("*", "/api/badword/pic", form_image("data"))
    app.router.add_post("/green/image/scan", json_body)
    return app


async def serve(host: str, port: int) -> int:
    runner = web.AppRunner(create_app(), access_log=None, handle_signals=False)
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
    args = p.parse_args(argv)
    return asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    sys.exit(main())
