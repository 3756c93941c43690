"""Run the simulator on a real loopback socket in a background thread (for blocking clients, SDKs,
and the pytest plugin). The server's state lives on its own event loop: touch it through ``call``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from simulator import outbound
from simulator.app import create_app
from simulator.proxy import ProxyServer, start_proxy
from simulator.settings import Settings
from simulator.sim import Sim

T = TypeVar("T")


class ThreadedServer:
    def __init__(self, settings: Settings | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = Sim(settings or Settings())
        self.app = create_app(sim=self.sim)
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="modsim-server", daemon=True)
        self._runner: web.AppRunner | None = None
        #: the HTTPS-intercept proxy, started when ``settings.proxy_port`` is set (0: a free port)
        self.proxy: ProxyServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def proxy_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the proxy, for ``HTTPS_PROXY`` / ``HTTP_PROXY``."""
        if self.proxy is None:
            raise RuntimeError("no proxy: start the server with Settings(proxy_port=0)")
        return self.proxy.url

    def start(self) -> ThreadedServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            keepalive_timeout=self.sim.settings.keepalive_timeout_s,
            lingering_time=1.0,  # unread body of a refused request: drain briefly, then close
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        outbound.serving(self._runner)
        for addr in self._runner.addresses:
            if isinstance(addr, tuple):
                self.port = addr[1]
                break
        if self.sim.settings.proxy_port is not None:
            self.proxy = await start_proxy(self._runner, self.sim.settings, host=self.host)

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` on the server's loop and return its result."""

        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def reset(self) -> None:
        """Back to the fixtures (with a shared store: every instance)."""
        asyncio.run_coroutine_threadsafe(self.sim.reset_everywhere(), self._loop).result(30)
        self.sim.schema_violations.clear()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._cleanup(), self._loop).result(30)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    async def _cleanup(self) -> None:
        if self.proxy is not None:
            self.proxy.close()
        if self._runner is not None:
            outbound.stopped(self._runner)
            await self._runner.cleanup()
        if self.proxy is not None:
            await self.proxy.wait_closed()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
