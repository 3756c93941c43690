"""The proxy: ``CONNECT vendor-host:443`` is answered here and its TLS terminated with a leaf
certificate from the simulator's CA; plain ``GET http://vendor-host/... HTTP/1.1`` requests too.

Nothing is relayed anywhere: once a tunnel's TLS is up (or a plain request's head is read) the
connection itself is handed to the simulator's own aiohttp server (``web.Server``, the protocol
factory ``TCPSite`` uses), so the app sees the client's real address, ``https`` as the scheme and
the vendor's Host. The proxy never resolves a name or opens a connection. Hosts outside
``Settings.proxy_hosts`` get ``403`` with a one-line text body, and the connection is closed.

Differences from a real forward proxy, on purpose:
- Only ``CONNECT host:443`` and ``http://host[:80]/...`` are served; other ports are refused.
- A plain (non-tunnelled) request is served with ``Connection: close``: the host of every request
  is checked, and a kept-alive connection could carry the next one to any host unchecked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from simulator import outbound
from simulator.keys import SIM
from simulator.proxy.ca import CertificateAuthority
from simulator.settings import Settings

log = logging.getLogger("modsim.proxy")

#: the longest request head (request line + headers) the proxy reads before refusing
MAX_HEAD_BYTES = 64 * 1024
#: a client that sends no complete head within this is dropped
HEAD_TIMEOUT_S = 30.0
HANDSHAKE_TIMEOUT_S = 30.0
_HOP_BY_HOP = {"connection", "proxy-connection", "keep-alive", "proxy-authorization"}


def normalize_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def host_matches(host: str, pattern: str) -> bool:
    """``pattern`` is a host name in which a ``*`` label stands for exactly one label of ``host``."""
    labels, wanted = normalize_host(host).split("."), normalize_host(pattern).split(".")
    return len(labels) == len(wanted) and all(
        w in ("*", h) and h for h, w in zip(labels, wanted, strict=True)
    )


def serves(host: str, patterns: Iterable[str]) -> bool:
    return any(host_matches(host, p) for p in patterns)


class ProxyServer:
    """The listening proxy. ``close()`` stops it taking connections; tunnels already handed to the
    app belong to the app's server (closed by ``AppRunner.cleanup()``), ``wait_closed()`` awaits them.
    """

    def __init__(self, server: web.Server, ca: CertificateAuthority, hosts: Iterable[str]) -> None:
        self.server = server
        self.ca = ca
        self.hosts = tuple(hosts)
        self.host = ""
        self.port = 0
        self._listener: asyncio.Server | None = None
        self._pending: set[_ProxyConnection] = set()
        #: client connections handed to the app (the raw TCP transports, also under TLS)
        self._handed: set[asyncio.Transport] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def addresses(self) -> list[Any]:
        """The listening sockets' addresses (empty once closed)."""
        if self._listener is None or not self._listener.is_serving():
            return []
        return [s.getsockname() for s in self._listener.sockets]

    def serves(self, host: str) -> bool:
        return serves(host, self.hosts)

    async def start(self, host: str, port: int) -> ProxyServer:
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(lambda: _ProxyConnection(self), host, port)
        self.port = self._listener.sockets[0].getsockname()[1]
        self.host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        outbound.serving(self)
        return self

    def close(self) -> None:
        outbound.stopped(self)
        if self._listener is not None:
            self._listener.close()
        for conn in list(self._pending):
            conn.abort()

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Call after ``AppRunner.cleanup()``: drops what the app left open (a TLS connection whose
        client never answers the app's close_notify would otherwise linger for the SSL shutdown timeout)."""
        for transport in self._handed:
            transport.abort()
        self._handed.clear()
        if self._listener is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listener.wait_closed(), timeout)
            self._listener = None


async def start_proxy(
    runner: web.BaseRunner, settings: Settings, host: str | None = None, port: int | None = None
) -> ProxyServer:
    """Start a proxy in front of ``runner``'s app (after ``runner.setup()``) on ``host`` and ``port``
    (defaults: ``settings.host`` and ``settings.proxy_port``; port 0 picks a free one), with the CA
    kept in ``settings.ca_dir``."""
    if runner.server is None:
        raise RuntimeError("start the proxy after runner.setup()")
    host = settings.host if host is None else host
    port = settings.proxy_port if port is None else port
    ca = CertificateAuthority.load_or_create(settings.ca_dir)
    hosts = settings.proxy_hosts
    if not hosts and isinstance(runner, web.AppRunner):
        hosts = runner.app[SIM].proxy_hosts
    return await ProxyServer(runner.server, ca, hosts).start(host, port or 0)


class _ProxyConnection(asyncio.Protocol):
    """One client connection until its first request head is read; then refused or handed over."""

    def __init__(self, proxy: ProxyServer) -> None:
        self.proxy = proxy
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proxy._pending.add(self)
        self.timer = asyncio.get_running_loop().call_later(HEAD_TIMEOUT_S, self.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        self._done()
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                self._refuse(431, "Request Header Fields Too Large", "request head too large")
            return
        assert self.transport is not None
        self.transport.pause_reading()
        if self.timer is not None:
            self.timer.cancel()
        head, rest = bytes(self.buffer[: end + 4]), bytes(self.buffer[end + 4 :])
        self.buffer.clear()
        self._dispatch(head, rest)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self._done()

    def _done(self) -> None:
        self.proxy._pending.discard(self)
        if self.timer is not None:
            self.timer.cancel()

    def _dispatch(self, head: bytes, rest: bytes) -> None:
        lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._refuse(400, "Bad Request", "malformed request line")
            return
        method, target, _ = parts
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            if not host or not port.isdigit():
                self._refuse(400, "Bad Request", f"CONNECT target {target!r} is not host:port")
            elif not self.proxy.serves(host) or int(port) != 443:
                self._refuse(403, "Forbidden", _refusal(target))
            elif rest:
                self._refuse(400, "Bad Request", "data sent before 200 Connection established")
            else:
                self._tunnel(normalize_host(host))
            return
        if not target.lower().startswith("http://"):
            self._refuse(
                400,
                "Bad Request",
                "this is the modsim proxy: send CONNECT host:443 or an absolute http:// URL",
            )
            return
        try:
            url = urlsplit(target)
            host, port_no = url.hostname or "", url.port or 80
        except ValueError:
            self._refuse(400, "Bad Request", f"bad URL {target!r}")
            return
        if not self.proxy.serves(host) or port_no != 80:
            self._refuse(403, "Forbidden", _refusal(url.netloc))
            return
        kept = [h for h in lines[1:] if h and h.split(":", 1)[0].strip().lower() not in _HOP_BY_HOP]
        head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
        self._hand_over(head + rest)

    def _refuse(self, status: int, reason: str, text: str) -> None:
        assert self.transport is not None
        log.info("modsim proxy: %s %s", status, text)
        body = f"modsim proxy: {text}\n".encode()
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1")
            + body
        )
        self.transport.close()
        self._done()

    def _handed(self, transport: asyncio.Transport) -> None:
        handed = self.proxy._handed
        handed.difference_update([t for t in handed if t.is_closing()])
        handed.add(transport)

    def _hand_over(self, data: bytes) -> None:
        assert self.transport is not None
        self._done()
        self._handed(self.transport)
        handler = self.proxy.server()
        self.transport.set_protocol(handler)
        handler.connection_made(self.transport)
        handler.data_received(data)
        self.transport.resume_reading()

    def _tunnel(self, host: str) -> None:
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.task = asyncio.get_running_loop().create_task(self._intercept(host))

    async def _intercept(self, host: str) -> None:
        transport = self.transport
        assert transport is not None
        early = _EarlyData()
        try:
            ctx = self.proxy.ca.server_context(host)
            tls = await asyncio.get_running_loop().start_tls(
                transport, early, ctx, server_side=True, ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S
            )
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            log.info("modsim proxy: TLS with the client for %s failed: %s", host, exc)
            transport.abort()
            self._done()
            return
        self._done()
        if tls is None or early.lost:
            return
        self._handed(transport)
        handler = self.proxy.server()
        tls.set_protocol(handler)
        handler.connection_made(tls)
        if early.data:
            handler.data_received(bytes(early.data))
        if early.eof:
            handler.eof_received()


class _EarlyData(asyncio.Protocol):
    """Holds what the client sends between the end of the TLS handshake and the hand-over."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.eof = False
        self.lost = False

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> bool | None:
        self.eof = True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


def _refusal(target: str) -> str:
    return f"{target} is not a simulated vendor host (proxy_hosts); nothing is ever forwarded"
