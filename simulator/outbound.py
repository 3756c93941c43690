"""Outbound HTTP: the simulator's only client, for Alibaba Cloud callbacks and allowlisted image fetches.

Whatever the allowlists say, an outbound request never connects to:
- the simulator's own listeners: a local address (loopback, unspecified, or one bound on this host)
  on a port that a server of this process listens on (its HTTP port, its proxy port; see
  ``serving``). Every address a name resolves to is checked when the socket is made, so
  ``localhost``, ``0.0.0.0``, ``[::1]``, ``[::ffff:127.0.0.1]`` and a name that resolves to
  loopback all count. Stricter than needed: another program on such a port of another local
  address is refused too;
- a loopback or unspecified address, unless the request that caused the traffic came from a
  loopback peer: a remote client cannot make the simulator talk to its host's loopback services.

Redirects: an image fetch follows at most ``MAX_REDIRECTS``, and each hop must be an http(s) URL
whose host is on the allowlist (Alibaba Cloud documents 401 NOT_ALLOWED for a URL that redirects to
an unsafe link); a callback follows none (a 3xx is an answer other than 200).

Every outbound request carries ``X-Modsim-Outbound``; the admin API refuses any request that does,
which covers a listener the check above cannot see (a port forward, a reverse proxy, a server this
process runs without calling ``serving``).
"""

from __future__ import annotations

import errno
import ipaddress
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import aiohttp
from yarl import URL

MARK_HEADER = "X-Modsim-Outbound"
#: the value this process sends (any value marks a request as the simulator's own)
MARK = secrets.token_hex(8)
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class Listening(Protocol):
    """A server with listening sockets: ``web.BaseRunner``, ``ProxyServer``."""

    @property
    def addresses(self) -> list[Any]: ...


_servers: dict[int, Listening] = {}


def serving(server: Listening) -> None:
    """Count ``server``'s sockets as the simulator's own (call once it listens; ``stopped`` after)."""
    _servers[id(server)] = server


def stopped(server: Listening) -> None:
    _servers.pop(id(server), None)


def own_ports() -> set[int]:
    ports: set[int] = set()
    for key, server in list(_servers.items()):
        try:  # a server of another thread may be closing right now
            listed = list(server.addresses)
        except (OSError, RuntimeError):
            continue
        addresses = [a for a in listed if isinstance(a, tuple) and len(a) >= 2]
        if not addresses:  # cleaned up without ``stopped``
            _servers.pop(key, None)
        ports.update(int(a[1]) for a in addresses)
    return ports


def _ip(address: str | None) -> IP | None:
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_loopback(address: str | None) -> bool:
    """``address`` (a peer's, as aiohttp reports it; IPv4-mapped IPv6 included) is a loopback address."""
    ip = _ip(address)
    return ip is not None and ip.is_loopback


def _local(family: int, sockaddr: tuple[Any, ...], ip: IP) -> bool:
    """The address reaches this host: loopback, unspecified, or bindable here."""
    if ip.is_loopback or ip.is_unspecified:
        return True
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((sockaddr[0], 0, *sockaddr[2:]))
    except OSError:
        return False
    return True


def host_allowed(host: str, allowlist: tuple[str, ...]) -> bool:
    host = host.lower()
    for pattern in allowlist:
        p = pattern.lower()
        if host == p or (p.startswith("*.") and host.endswith(p[1:])):
            return True
    return False


class Refused(OSError):
    """A connection or a redirect hop the simulator does not make; ``strerror`` says why."""


class Guard:
    """What the outbound requests of one vendor request may reach; ``refusals`` keeps what it refused."""

    def __init__(self, allowlist: tuple[str, ...], requester: str | None) -> None:
        self.allowlist = allowlist
        self.requester = requester
        self.refusals: list[str] = []

    def check_hop(self, url: URL) -> None:
        """A redirect target: an http(s) URL whose host is on the allowlist, or ``Refused``."""
        if url.scheme not in ("http", "https") or not url.host:
            self._refuse(f"redirect to {str(url)[:200]!r}: not an http(s) URL with a host")
        elif not host_allowed(url.host, self.allowlist):
            self._refuse(f"redirect to {str(url)[:200]!r}: host {url.host!r} is not on the allowlist")

    def socket(self, addr_info: aiohttp.AddrInfoType) -> socket.socket:
        """aiohttp's ``socket_factory``: called with each resolved address before connecting."""
        family, type_, proto, _, sockaddr = addr_info
        host, port = str(sockaddr[0]), int(sockaddr[1])
        ip = _ip(host)
        if ip is not None:
            if port in own_ports() and _local(family, sockaddr, ip):
                self._refuse(f"{host} port {port} is one of the simulator's own listeners")
            if (ip.is_loopback or ip.is_unspecified) and not is_loopback(self.requester):
                self._refuse(
                    f"{host} is this host's loopback and the request came from "
                    f"{self.requester or 'an unknown peer'}, not a loopback client"
                )
        return socket.socket(family, type_, proto)

    def _refuse(self, why: str) -> None:
        self.refusals.append(why)
        raise Refused(errno.EACCES, why)


def session(guard: Guard, timeout_s: float) -> aiohttp.ClientSession:
    """A client session whose every connection ``guard`` checks, marked, without proxies from the environment."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(socket_factory=guard.socket, force_close=True),
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        headers={MARK_HEADER: MARK},
        trust_env=False,
    )


@asynccontextmanager
async def get(
    session: aiohttp.ClientSession, url: str, guard: Guard
) -> AsyncIterator[aiohttp.ClientResponse]:
    """GET ``url``, following up to ``MAX_REDIRECTS`` redirects, each hop checked (``Refused``). The
    response yielded is still a redirect when there were more."""
    target = URL(url)
    for hop in range(MAX_REDIRECTS + 1):
        resp = await session.get(target, allow_redirects=False)
        location = resp.headers.get("Location")
        if resp.status in REDIRECTS and location and hop < MAX_REDIRECTS:
            resp.release()
            target = target.join(URL(location))
            guard.check_hop(target)
            continue
        try:
            yield resp
        finally:
            resp.release()
        return
