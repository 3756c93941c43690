"""A simulator on a real loopback socket, in a background thread (for blocking clients like the SDKs)."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.sim = Sim(settings)
        self.app = create_app(sim=self.sim)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        for addr in self._runner.addresses:
            if isinstance(addr, tuple):
                self.port = addr[1]
                break

    def call(self, fn, *args):  # type: ignore[no-untyped-def]
        """Run ``fn(*args)`` on the server's loop (state is not thread-safe) and return its result."""

        async def run():  # type: ignore[no-untyped-def]
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def reset(self) -> None:
        self.call(self.sim.reset)
        self.sim.schema_violations.clear()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
