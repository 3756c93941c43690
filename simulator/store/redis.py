"""The Redis store (``modsim serve --state redis://HOST:PORT/DB``, the optional extra ``modsim[redis]``):
every process and host with the same URL and key prefix is one simulator.

How it talks to Redis. One connection carries every command of this process, pipelined: commands
issued during one turn of the event loop leave in one write, at the latest when a request's journal
entry is added (so an answer never reaches its client before its effects reach Redis), and one
reader task matches the replies in order. Under load a write carries the commands of many requests
and a read returns many replies, so a request costs a fraction of a round trip. Operations that must
be exact across instances are Lua scripts (``scripts``), each one command. A second connection
follows the events channel. redis-py provides the connections and the reply parser (hiredis when
installed).

What a request waits for. The hot path awaits at most one reply: a quota count or a token lookup
missing the local cache; writes whose answer is known (a count with no limit, a journal entry, a
fault hit) are sent without waiting for their reply.

Shared configuration (credentials, scenarios, rules, faults, the clock, the queue's existence) is
a document per kind plus a version; a change is stored and announced on the channel in one script,
every instance applies it and acknowledges, and ``publish`` returns once every live instance has (at
most ``ACK_WAIT_S``). Instances register in a hash with a deadline they renew every
``HEARTBEAT_S``; one that stops renewing is no longer waited for.

A lost Redis: the heartbeat or a failed read notices, pending operations fail with
``StoreUnavailable`` (vendors answer with their internal error), health says ``degraded``, the
journal keeps entries locally (and sends them once Redis is back), and a reconnect is tried every
``HEARTBEAT_S``; on success the configuration is loaded again and service resumes by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from simulator import jsonout
from simulator.quotas import day_of
from simulator.state import Journal, QueuedOutcome
from simulator.store import scripts
from simulator.store.base import CONFIG_KINDS, ConfigHost, Record, Store, StoreUnavailable, Table

try:
    from redis.asyncio.connection import AbstractConnection, ConnectionPool
    from redis.exceptions import NoScriptError, RedisError, ResponseError
except ImportError as exc:  # pragma: no cover - exercised by the CLI's message
    raise StoreUnavailable("--state redis://... needs the Redis client: pip install 'modsim[redis]'") from exc

#: hiredis's C encoder: the same bytes as redis-py's, ~5x faster (redis-py's asyncio client packs in
#: Python); without hiredis (it is part of the extra), redis-py packs
_pack_command: Callable[[Command], bytes] | None = None
with contextlib.suppress(ImportError):
    from hiredis import pack_command as _pack_command

log = logging.getLogger("modsim.store")

#: how often an instance renews its registration and checks the connection (seconds)
HEARTBEAT_S = 0.5
#: an instance that has not renewed for this long is taken as gone
INSTANCE_TTL_S = 3.0
#: a reply later than this (with commands pending) means the connection is lost
REPLY_TIMEOUT_S = 2.0
#: ``publish`` waits at most this long for every live instance to apply a change
ACK_WAIT_S = 2.0
#: commands waiting for a reply at most; past it the store counts as unavailable
MAX_PENDING = 200_000
#: a claim's key lives this many times its simulator TTL in real time (a frozen simulator clock
#: still ends it eventually)
CLAIM_REAL_TTL_FACTOR = 2
#: cached table records kept per table (the rest are read from Redis)
CACHE_SIZE = 10_000

Command = tuple[Any, ...]


def describe(url: str) -> str:
    """``url`` without its password, for messages and health."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _num(x: float) -> str:
    return repr(float(x))


class _Link:
    """One pipelined connection: ``call`` returns a future of the reply, ``send`` expects none."""

    def __init__(self, pool: ConnectionPool, on_lost: Callable[[BaseException], None]) -> None:
        self._pool = pool
        self._on_lost = on_lost
        self._conn: AbstractConnection | None = None
        self._out: list[Command] = []
        #: per command written or to write, in order: (the command, its future or None)
        self._pending: deque[tuple[Command, asyncio.Future[Any] | None]] = deque()
        self._written = 0
        self._wake = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._flush_scheduled = False
        #: called by ``flush`` before it writes: may queue more commands (the journal's batch)
        self.before_flush: Callable[[], None] | None = None
        self.last_reply = time.monotonic()
        self.up = False
        self.shas: dict[str, str] = {}

    async def open(self) -> None:
        conn = self._pool.make_connection()  # type: ignore[no-untyped-call]
        await conn.connect()
        self._conn = conn
        self.up = True
        self.last_reply = time.monotonic()
        self._reader = asyncio.create_task(self._read(conn), name="modsim-redis-reader")
        names = list(scripts.ALL)
        loaded = await asyncio.gather(*(self.call("SCRIPT", "LOAD", scripts.ALL[n]) for n in names))
        self.shas = dict(zip(names, loaded, strict=True))

    def _check(self) -> None:
        if not self.up:
            raise StoreUnavailable("the shared store (Redis) is unreachable")
        if len(self._pending) >= MAX_PENDING:
            raise StoreUnavailable(f"{MAX_PENDING} Redis commands waiting: the shared store is too slow")

    def call(self, *args: Any) -> asyncio.Future[Any]:
        self._check()
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue(args, fut)
        return fut

    def send(self, *args: Any) -> None:
        if self.up and len(self._pending) < MAX_PENDING:
            self._queue(args, None)

    def _queue(self, args: Command, fut: asyncio.Future[Any] | None) -> None:
        self._out.append(args)
        self._pending.append((args, fut))
        self.schedule_flush()

    def evalsha(self, name: str, keys: Sequence[Any], args: Sequence[Any]) -> asyncio.Future[Any]:
        self._check()
        return self.call("EVALSHA", self.shas[name], len(keys), *keys, *args)

    def evalsha_nowait(self, name: str, keys: Sequence[Any], args: Sequence[Any]) -> None:
        if not self.up:
            return
        self.send("EVALSHA", self.shas[name], len(keys), *keys, *args)

    def schedule_flush(self) -> None:
        """A ``flush`` at the start of the event loop's next round (once, however often asked)."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write every queued command now (one write)."""
        if self.before_flush is not None:
            self.before_flush()
        self._flush_scheduled = False
        if not self._out or self._conn is None or not self.up:
            return
        out, self._out = self._out, []
        try:
            writer = self._conn._writer
            assert writer is not None
            if _pack_command is not None:
                writer.write(b"".join(map(_pack_command, out)))
            else:
                writer.writelines(self._conn.pack_commands(out))
        except Exception as exc:
            self.lost(exc)
            return
        self._written += len(out)
        self._wake.set()

    async def _read(self, conn: AbstractConnection) -> None:
        pending = self._pending
        while True:
            if not self._written:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                reply: Any = await conn.read_response()
            except ResponseError as err:
                reply = err
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self.lost(exc)
                return
            self.last_reply = time.monotonic()
            self._written -= 1
            args, fut = pending.popleft()
            if isinstance(reply, NoScriptError) and args[0] == "EVALSHA":
                # scripts flushed behind our back: load it again and run it as EVAL this time
                body = scripts.ALL[next(k for k, v in self.shas.items() if v == args[1])]
                self._queue(("EVAL", body, *args[2:]), fut)
                continue
            if fut is None:
                if isinstance(reply, ResponseError):
                    log.warning("Redis refused %s: %s", args[0], reply)
                continue
            if fut.done():
                continue
            if isinstance(reply, ResponseError):
                fut.set_exception(StoreUnavailable(f"Redis refused {args[0]}: {reply}"))
            else:
                fut.set_result(reply)

    def stalled(self) -> bool:
        return bool(self._written) and time.monotonic() - self.last_reply > REPLY_TIMEOUT_S

    def lost(self, exc: BaseException) -> None:
        if not self.up:
            return
        self.up = False
        err = StoreUnavailable(f"the shared store (Redis) was lost: {exc or type(exc).__name__}")
        while self._pending:
            _, fut = self._pending.popleft()
            if fut is not None and not fut.done():
                fut.set_exception(err)
        self._out.clear()
        self._written = 0
        self._close()
        self._on_lost(exc)

    def _close(self) -> None:
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
        self._reader = None
        conn, self._conn = self._conn, None
        if conn is not None:
            _in_background(conn.disconnect(nowait=True))

    async def close(self) -> None:
        if self.up:
            self.flush()
        self.up = False
        reader, conn = self._reader, self._conn
        self._reader = self._conn = None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.disconnect(nowait=True)


#: tasks started from synchronous code (a lost connection's disconnect), kept until done
_BACKGROUND: set[asyncio.Task[Any]] = set()


def _in_background(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


class RedisTable(Table):
    def __init__(self, store: RedisStore, name: str, cap: int, expiring: bool, cached: bool) -> None:
        super().__init__(name, cap, expiring)
        self._store = store
        base = f"{store.prefix}t:{name}"
        self._keys = (base, base + ":o", base + ":e", base + ":n")
        self.cached = cached
        #: records read or written by this process (cached tables): changes elsewhere invalidate
        self._cache: OrderedDict[str, Record] = OrderedDict()

    async def get(self, key: str) -> Record | None:
        if self.cached:
            rec = self._cache.get(key)
            if rec is not None:
                return dict(rec)
        raw = await self._store.link.call("HGET", self._keys[0], key)
        if raw is None:
            return None
        rec = json.loads(raw)
        if self.cached:
            self._remember(key, rec)
        return dict(rec)

    def _remember(self, key: str, rec: Record) -> None:
        self._cache[key] = rec
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def forget(self, key: str | None = None) -> None:
        if key is None:
            self._cache.clear()
        else:
            self._cache.pop(key, None)

    async def put(self, key: str, value: Record, now: float, score: float | None = None) -> None:
        blob = jsonout.dumps(value, default=str).decode()
        exp = _num(score) if (self.expiring and score is not None) else ""
        gone = await self._store.link.evalsha(
            "table_put", self._keys, (key, blob, _num(now), exp, self.cap, "1" if self.expiring else "0")
        )
        if self.cached:
            for k in gone or ():
                self._cache.pop(k.decode() if isinstance(k, bytes) else k, None)
            self._remember(key, dict(value))

    async def update(self, key: str, fn: Callable[[Record], Record | None]) -> Record | None:
        link = self._store.link
        for _ in range(100):
            raw = await link.call("HGET", self._keys[0], key)
            if raw is None:
                if self.cached:
                    self._cache.pop(key, None)
                return None
            new = fn(json.loads(raw))
            blob = "" if new is None else jsonout.dumps(new, default=str).decode()
            if await link.evalsha("table_cas", self._keys[:3], (key, raw, blob)):
                if self.cached:
                    self._cache.pop(key, None)
                    await self._store.invalidate(self.name, key)
                return new
        raise StoreUnavailable(f"table {self.name}: record {key!r} kept changing under update")

    async def delete(self, key: str) -> bool:
        gone = bool(await self._store.link.evalsha("table_delete", self._keys[:3], (key,)))
        if self.cached:
            self._cache.pop(key, None)
            await self._store.invalidate(self.name, key)
        return gone

    async def values(self, limit: int | None = None) -> list[Record]:
        raws = await self._store.link.evalsha(
            "table_values", self._keys[:2], (-1 if limit is None else limit - 1,)
        )
        return [json.loads(r) for r in raws if r is not None]

    async def count(self) -> int:
        return int(await self._store.link.call("HLEN", self._keys[0]))

    def redis_keys(self) -> tuple[str, ...]:
        return self._keys


def _pattern(vendor: str | None, operation: str | None, credential: str | None) -> str:
    """A queue entry's pattern as one string (None: ``*``; values are JSON-quoted, so no clash)."""
    return "|".join("*" if v is None else json.dumps(v) for v in (vendor, operation, credential))


class RedisStore(Store):
    shared = True
    backend = "redis"

    def __init__(self, url: str, prefix: str, journal: Journal, instance: str) -> None:
        super().__init__(instance or f"{socket.gethostname()}-{os.getpid()}")
        self.url = url
        self.prefix = prefix
        self.channel = prefix + "events"
        self._journal = journal
        # RESP2 (the replies the scripts and the reader expect, whatever the client's default); no
        # socket timeout: the heartbeat notices a stalled connection (``REPLY_TIMEOUT_S``)
        self._pool = ConnectionPool.from_url(url, socket_connect_timeout=2.0, socket_timeout=None, protocol=2)
        self.link = _Link(self._pool, self._lost)
        self.link.before_flush = self._drain_rows
        self._events_conn: AbstractConnection | None = None
        self._listener: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self._host: ConfigHost | None = None
        self._tables: dict[str, RedisTable] = {}
        self._applied: dict[str, int] = {}
        self._version = 0
        #: config versions this process waits acknowledgements for: version -> (names, done)
        #: the newest version each instance acknowledged to this one
        self._acked: dict[str, int] = {}
        self._waiting: dict[int, tuple[set[str], asyncio.Future[None]]] = {}
        #: the queue may hold entries (False: a take needs no round trip): set by any queue event,
        #: cleared by a take that found it empty at a version not older than the last queue event
        self._queue_maybe = True
        self._queue_event_version = 0
        #: journal entries added while Redis was lost, sent when it is back
        self._backlog: deque[tuple[Any, ...]] = deque(maxlen=max(1, journal._size))
        #: journal rows not yet written (``journal_add``)
        self._rows: list[tuple[Any, ...]] = []
        self._down_since: float | None = None
        self._last_error = ""
        self._closing = False
        self._degraded_events = 0
        #: the kinds of configuration set through the store (not the fixtures'): put back into a Redis
        #: that lost its data
        self._shared: set[str] = set()
        self._republish: set[str] = set()
        #: the last shared reset this instance applied (None: not connected yet)
        self._reset_seen: int | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: ConfigHost) -> None:
        self._host = host
        try:
            await self._connect()
        except StoreUnavailable:
            raise
        except (RedisError, OSError) as exc:
            await self._disconnect()
            raise StoreUnavailable(f"cannot reach the shared store at {describe(self.url)}: {exc}") from exc
        self._beat = asyncio.create_task(self._heartbeat(), name="modsim-redis-heartbeat")

    async def _connect(self) -> None:
        await self.link.open()
        conn = self._events_conn = self._pool.make_connection()  # type: ignore[no-untyped-call]
        await conn.connect()
        await conn.send_command("SUBSCRIBE", self.channel)
        await conn.read_response()
        self._listener = asyncio.create_task(self._listen(conn), name="modsim-redis-events")
        await self._load_config()
        await self._register()
        self._down_since = None

    async def _load_config(self) -> None:
        """Take the shared configuration (at start, and again after a lost connection)."""
        assert self._host is not None
        docs = await asyncio.gather(*(self.link.call("GET", f"{self.prefix}cfg:{k}") for k in CONFIG_KINDS))
        version = int(await self.link.call("GET", self.prefix + "v") or 0)
        reset_at = int(await self.link.call("GET", self.prefix + "rv") or 0)
        lost = version < self._version
        if lost:  # Redis came back without its data (restarted empty): its versions start again
            self._applied.clear()
            self._acked.clear()
            self._queue_event_version = 0
            self._reset_seen = reset_at
        self._version = version
        if self._reset_seen is None:
            self._reset_seen = reset_at
        elif reset_at > self._reset_seen:  # reset while this instance was cut off
            self._reset_here(reset_at)
        for kind, doc in zip(CONFIG_KINDS, docs, strict=True):
            if doc is None:
                if kind in self._shared:
                    if lost:  # what was set stays set: this instance puts it back
                        self._republish.add(kind)
                    else:  # removed (a reset) while this instance was cut off: back to the fixtures
                        self._apply(kind, None, 0)
                continue
            parsed = json.loads(doc)
            if parsed["v"] > self._applied.get(kind, 0):
                self._apply(kind, parsed["d"], parsed["v"])
        self._queue_maybe = True

    def _apply(self, kind: str, data: Any, version: int) -> None:
        assert self._host is not None
        self._applied[kind] = version
        if data is None:
            self._shared.discard(kind)
        else:
            self._shared.add(kind)
        if kind == "queue":
            self._queue_maybe = True
            self._queue_event_version = max(self._queue_event_version, version)
            return
        self._host.apply_config(kind, data)

    async def _register(self) -> None:
        await self.link.call(
            "HSET", self.prefix + "inst", self.instance, int((time.time() + INSTANCE_TTL_S) * 1000)
        )

    async def close(self) -> None:
        self._closing = True
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._beat
        if self.link.up:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.link.call("HDEL", self.prefix + "inst", self.instance), 1.0)
        await self._disconnect()
        await self._pool.disconnect()

    async def _disconnect(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and listener is not asyncio.current_task():
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        await self.link.close()
        conn, self._events_conn = self._events_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.disconnect(nowait=True)

    def _lost(self, exc: BaseException) -> None:
        if self._closing:
            return
        if self._down_since is None:
            self._down_since = time.time()
            self._degraded_events += 1
            self._last_error = str(exc) or type(exc).__name__
            log.error(
                "shared store lost (%s): requests get their vendor's internal error until it is back",
                self._last_error,
            )
        self.link.lost(exc)
        for _, fut in self._waiting.values():
            if not fut.done():
                fut.set_result(None)
        if self._listener is not None and self._listener is not asyncio.current_task():
            self._listener.cancel()
        conn, self._events_conn = self._events_conn, None
        if conn is not None:
            _in_background(conn.disconnect(nowait=True))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if self.link.up:
                if self.link.stalled():
                    self._lost(TimeoutError(f"no reply from Redis for {REPLY_TIMEOUT_S:g} s"))
                    continue
                self.link.send(
                    "HSET", self.prefix + "inst", self.instance, int((time.time() + INSTANCE_TTL_S) * 1000)
                )
                continue
            await self._recover()

    async def _recover(self) -> None:
        try:
            await self._disconnect()
            self.link = _Link(self._pool, self._lost)
            self.link.before_flush = self._drain_rows
            await asyncio.wait_for(self._connect(), REPLY_TIMEOUT_S)
        except (TimeoutError, RedisError, OSError, StoreUnavailable) as exc:
            self._last_error = str(exc) or type(exc).__name__
            self._down_since = self._down_since or time.time()
            await self._disconnect()
            return
        log.warning("shared store back after %.1f s", time.time() - (self._down_since or time.time()))
        self._down_since = None
        for table in self._tables.values():
            table.forget()
        for kind in sorted(self._republish - {"queue"}):
            with contextlib.suppress(StoreUnavailable):
                await self.publish(kind)
        self._republish.clear()
        while self._backlog:
            self._send_journal([self._backlog.popleft() for _ in range(min(100, len(self._backlog)))])
        self.link.flush()

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "backend": self.backend,
            "status": "ok" if self.link.up else "degraded",
            "url": describe(self.url),
            "prefix": self.prefix,
            "instance": self.instance,
        }
        if not self.link.up:
            out["since"] = self._down_since
            out["error"] = self._last_error
            out["journal_backlog"] = len(self._backlog)
        return out

    def ensure_available(self) -> None:
        if not self.link.up:
            raise StoreUnavailable(
                f"the shared store at {describe(self.url)} is unreachable: {self._last_error}"
            )

    # --- events --------------------------------------------------------------------------------

    async def _listen(self, conn: AbstractConnection) -> None:
        while True:
            try:
                msg = await conn.read_response()  # no socket timeout: events come when they come
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self._lost(exc)
                return
            if not isinstance(msg, list) or len(msg) < 3 or msg[0] != b"message":
                continue
            try:
                self._on_event(json.loads(msg[2]))
            except Exception:
                log.exception("shared store: could not apply an event")

    def _on_event(self, ev: dict[str, Any]) -> None:
        kind, version, origin = ev.get("t"), int(ev.get("v", 0)), ev.get("from")
        if kind == "ack":
            if ev.get("to") == self.instance and isinstance(origin, str):
                acked = int(ev["acked"])
                self._acked[origin] = max(self._acked.get(origin, 0), acked)
                for v, (names, fut) in list(self._waiting.items()):
                    if v <= acked:
                        names.discard(origin)
                        if not names and not fut.done():
                            fut.set_result(None)
            return
        self._version = max(self._version, version)
        if origin != self.instance:
            if kind == "config":
                if version > self._applied.get(ev["k"], -1):
                    self._apply(ev["k"], ev.get("d"), version)
            elif kind == "reset":
                self._reset_here(version)
            elif kind == "inv":
                table = self._tables.get(ev["n"])
                if table is not None:
                    table.forget(ev.get("k"))
            self._ack(origin, version)

    def _ack(self, to: str | None, version: int) -> None:
        msg = json.dumps({"t": "ack", "from": self.instance, "to": to, "acked": version})
        self.link.send("PUBLISH", self.channel, msg)

    async def _announce(
        self, event: dict[str, Any], data: Any = None, doc: str | None = None, mark: str | None = None
    ) -> int:
        """Store ``data`` as the ``doc`` kind (if given), announce ``event`` with the new version, and
        wait until every other live instance has applied it."""
        ev = {**event, "from": self.instance}
        if doc is not None:
            text = "" if data is None else jsonout.dumps(data, default=str).decode()
            head = json.dumps(ev)[:-1] + (f',"d":{text}' if text else "") + ',"v":'
            version = int(
                await self.link.evalsha(
                    "publish", (self.prefix + "v", f"{self.prefix}cfg:{doc}"), (text, self.channel, head)
                )
            )
            self._applied[doc] = version
        else:
            head = json.dumps(ev)[:-1] + ',"v":'
            keys = (self.prefix + "v",) + ((self.prefix + mark,) if mark else ())
            version = int(await self.link.evalsha("announce", keys, (self.channel, head)))
        self._version = max(self._version, version)
        await self._wait_acks(version)
        return version

    async def _wait_acks(self, version: int) -> None:
        live = await self.link.evalsha("live", (self.prefix + "inst",), (int(time.time() * 1000),))
        names = {n.decode() for n in live} - {self.instance}
        names = {n for n in names if self._acked.get(n, 0) < version}  # acknowledged already
        if not names:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[version] = (names, fut)
        try:
            deadline = time.monotonic() + ACK_WAIT_S
            while not fut.done() and time.monotonic() < deadline:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(fut), 0.25)
                if fut.done():
                    break
                # an instance that died meanwhile is not waited for
                live = await self.link.evalsha("live", (self.prefix + "inst",), (int(time.time() * 1000),))
                names &= {n.decode() for n in live}
                if not names:
                    break
            if names and not fut.done():
                log.warning(
                    "instances %s did not confirm change %d within %.0f s", sorted(names), version, ACK_WAIT_S
                )
        finally:
            self._waiting.pop(version, None)

    async def invalidate(self, table: str, key: str | None) -> None:
        """Every instance forgets its cached copy of ``key`` in ``table`` (all keys: None)."""
        await self._announce({"t": "inv", "n": table, "k": key})

    # --- shared configuration, reset -----------------------------------------------------------

    async def publish(self, kind: str) -> None:
        self.ensure_available()
        assert self._host is not None
        self._shared.add(kind)
        if kind == "queue":
            version = await self._announce({"t": "config", "k": kind}, True, doc=kind)
            self._queue_maybe = True
            self._queue_event_version = max(self._queue_event_version, version)
            return
        data = self._host.config_snapshot(kind)
        if data is None:
            self._shared.discard(kind)
        await self._announce({"t": "config", "k": kind}, data, doc=kind)

    async def reset(self) -> None:
        self.ensure_available()
        keep = {self.prefix + k for k in ("v", "rv", "inst", "js", "qn")}
        cursor: Any = 0
        while True:
            cursor, keys = await self.link.call(
                "SCAN", cursor, "MATCH", _glob_escape(self.prefix) + "*", "COUNT", 1000
            )
            doomed = [k for k in keys if k.decode("utf-8", "surrogateescape") not in keep]
            if doomed:
                await self.link.call("UNLINK", *doomed)
            if int(cursor) == 0:
                break
        version = await self._announce({"t": "reset"}, mark="rv")
        self._reset_here(version)

    def _reset_here(self, version: int) -> None:
        self._reset_seen = max(self._reset_seen or 0, version)
        self._shared.clear()
        self.clear_local()
        for kind in CONFIG_KINDS:
            self._applied[kind] = version
        if self._host is not None:
            self._host.reset_local()

    def clear_local(self) -> None:
        self._journal.clear()
        for table in self._tables.values():
            table.forget()
        self._queue_maybe = True
        self._backlog.clear()

    # --- tables ----------------------------------------------------------------------------------

    def table(self, name: str, cap: int, *, expiring: bool = False, cached: bool = False) -> Table:
        t = self._tables.get(name)
        if t is None:
            t = self._tables[name] = RedisTable(self, name, cap, expiring, cached)
        t.cap = cap
        return t

    # --- windows, pools, claims ----------------------------------------------------------------

    def _window(self, space: str, key: str) -> tuple[str, str]:
        base = f"{self.prefix}w:{space}:{key}"
        return base, base + ":b"

    async def consume(
        self, space: str, key: str, limits: Mapping[str, Any], now: float, n: int = 1
    ) -> str | None:
        args = (
            _num(now),
            n,
            day_of(now),
            math.floor(now * 1000),
            *("" if limits.get(k) is None else int(limits[k]) for k in ("qps", "daily", "total")),
        )
        if not limits:  # nothing can break: count without waiting
            self.ensure_available()
            self.link.evalsha_nowait("consume", self._window(space, key), args)
            return None
        broken = await self.link.evalsha("consume", self._window(space, key), args)
        return broken.decode() if broken is not None else None

    async def refund(self, space: str, key: str, now: float, n: int = 1) -> None:
        await self.link.evalsha(
            "refund", self._window(space, key), (_num(now), n, day_of(now), math.floor(now * 1000))
        )

    async def usage(self, space: str, key: str, now: float) -> dict[str, int]:
        qps, daily, total = await self.link.evalsha(
            "usage", self._window(space, key), (_num(now), day_of(now))
        )
        return {"qps": int(qps), "daily": int(daily), "total": int(total)}

    async def take_from(
        self, space: str, key: str, pools: Sequence[tuple[str, int]]
    ) -> tuple[str | None, dict[str, int]]:
        args = [x for name, limit in pools for x in (name, int(limit))]
        got, *used = await self.link.evalsha("take_from", (f"{self.prefix}p:{space}:{key}",), args)
        return (got.decode() if got else None), _pairs(used)

    async def pool_usage(self, space: str, key: str) -> dict[str, int]:
        raw = await self.link.call("HGETALL", f"{self.prefix}p:{space}:{key}")
        return {k.decode(): int(v) for k, v in raw.items()} if isinstance(raw, dict) else _pairs(raw)

    async def claim(self, space: str, key: str, ttl_s: float, now: float) -> bool:
        real_ms = max(1000, int(ttl_s * 1000 * CLAIM_REAL_TTL_FACTOR))
        got = await self.link.evalsha(
            "claim", (f"{self.prefix}c:{space}:{key}",), (_num(now), _num(now + ttl_s), real_ms)
        )
        return bool(got)

    # --- the queue of outcomes -----------------------------------------------------------------

    async def queue_add(self, q: QueuedOutcome) -> None:
        blob = json.dumps(q.to_dict())
        q.pos = int(
            await self.link.evalsha(
                "queue_add",
                (),
                (self.prefix, blob, q.scenario, q.remaining, _pattern(q.vendor, q.operation, q.credential)),
            )
        )
        self._queue_maybe = True

    def queue_may_hold(self) -> bool:
        return self._queue_maybe

    async def queue_take(
        self, vendor: str, operation: str, credential: str | None, unusable: Callable[[str], bool]
    ) -> tuple[QueuedOutcome | None, list[str]]:
        if not self._queue_maybe:
            return None, []
        patterns = sorted(
            {_pattern(v, o, c) for v in (vendor, None) for o in (operation, None) for c in (credential, None)}
        )
        ok: list[str] = []
        bad: list[str] = []
        for _ in range(64):
            status, pos, entry, uses, version, skipped, unknown, left = await self.link.evalsha(
                "queue_take",
                (),
                (self.prefix, self.prefix + "v", len(patterns), *patterns, len(ok), *ok, len(bad), *bad),
            )
            if status == 2:
                for name in unknown:
                    text = name.decode()
                    (bad if unusable(text) else ok).append(text)
                continue
            if not left and int(version) >= self._queue_event_version:
                self._queue_maybe = False
            names = [s.decode() for s in skipped]
            if status != 1:
                return None, names
            d = json.loads(entry)
            q = QueuedOutcome(
                d["scenario"], d.get("vendor"), d.get("operation"), d.get("credential"), int(uses)
            )
            q.pos = int(pos)
            return q, names
        return None, bad

    async def queue_give_back(self, q: QueuedOutcome) -> None:
        q.remaining += 1
        blob = json.dumps({**q.to_dict(), "remaining": 1})
        await self.link.evalsha(
            "queue_give_back",
            (),
            (self.prefix, q.pos, blob, q.scenario, _pattern(q.vendor, q.operation, q.credential)),
        )
        self._queue_maybe = True

    async def queue_list(self) -> list[QueuedOutcome]:
        raw = await self.link.evalsha("queue_list", (), (self.prefix,))
        out = []
        for i in range(0, len(raw), 3):
            d = json.loads(raw[i + 1])
            q = QueuedOutcome(
                d["scenario"], d.get("vendor"), d.get("operation"), d.get("credential"), int(raw[i + 2])
            )
            q.pos = int(raw[i])
            out.append(q)
        return out

    async def queue_clear(self) -> None:
        await self.link.evalsha("queue_clear", (), (self.prefix,))

    async def queue_len(self) -> int:
        return int(await self.link.call("HLEN", self.prefix + "q"))

    # --- fault rule counters -------------------------------------------------------------------

    async def fault_seen(self, rule_id: str, credential: str | None) -> tuple[int, int]:
        seen, by = await self.link.evalsha("fault_seen", (), (self.prefix, rule_id, credential or ""))
        return int(seen), int(by)

    async def fault_hit(self, rule_id: str) -> None:
        self.ensure_available()
        self.link.send("HINCRBY", self.prefix + "fh", rule_id, 1)

    async def fault_counts(self, rule_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        if not rule_ids:
            return {}
        seen, hits = await asyncio.gather(
            self.link.call("HMGET", self.prefix + "fs", *rule_ids),
            self.link.call("HMGET", self.prefix + "fh", *rule_ids),
        )
        return {r: (int(s or 0), int(h or 0)) for r, s, h in zip(rule_ids, seen, hits, strict=True)}

    async def fault_forget(self) -> None:
        await self.link.call("DEL", self.prefix + "fs", self.prefix + "fb", self.prefix + "fh")

    # --- the journal ---------------------------------------------------------------------------

    def journal_add(self, entry: dict[str, Any]) -> None:
        """The entry is written with every other entry finished in the same round of the event loop
        (one script call, one write: ``_drain_rows`` at the next ``flush``); ``journal_written``
        lets the request's answer go only after that write."""
        entry["instance"] = self.instance
        blob = self._journal.add(entry)
        # the shared copy gets its seq from Redis: drop the local one (the last key, see Journal.add)
        shared = blob[: blob.rindex(b',"seq":')] + b"}"
        row = (
            shared,
            _idx(entry.get("vendor")),
            _idx(entry.get("operation")),
            _idx(entry.get("credential")),
            _idx(entry.get("request_id")),
        )
        if not self.link.up:
            self._backlog.append(row)
            return
        self._rows.append(row)
        self.link.schedule_flush()

    async def journal_written(self) -> None:
        if self._rows:  # the flush is scheduled: yield to the loop, which runs it before resuming us
            await asyncio.sleep(0)

    def _drain_rows(self) -> None:
        """The entries added since the last write, as ``journal_add`` script calls (100 a call); to
        the backlog while Redis is out of reach."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        if not self.link.up:
            self._backlog.extend(rows)
            return
        for i in range(0, len(rows), 100):
            self._send_journal(rows[i : i + 100])

    def _send_journal(self, rows: list[tuple[Any, ...]]) -> None:
        args: list[Any] = [self.prefix, self._journal._size]
        for row in rows:
            args.extend(row)
        self.link.evalsha_nowait("journal_add", (), args)

    async def journal_select(
        self, vendor: str | None = None, limit: int | None = None, since: int | None = None, **eq: Any
    ) -> list[bytes]:
        self._drain_rows()
        if not self.link.up:  # what this instance saw, while the shared journal is out of reach
            return self._journal.select(vendor, limit, since, **eq)
        wanted = {"vendor": vendor, **eq} if vendor is not None else dict(eq)
        indexed: list[Any] = []
        other: dict[str, Any] = {}
        for k, v in wanted.items():
            short = _INDEXED.get(k)
            if short is not None and isinstance(v, str) and v:
                indexed += [short, v]
            else:
                other[k] = v
        floor = (since or 0) + 1
        if other:
            want = Journal.MAX_SCAN
        elif since is None and limit:
            want = limit
        else:
            want = self._journal._size
        rows: list[bytes] = await self.link.evalsha(
            "journal_select", (), (self.prefix, floor, want, *indexed)
        )
        if other:
            rows = [r for r in rows if _matches(Journal.decode(r), other)]
        rows.reverse()  # oldest first
        if since is None and limit:
            return rows[-limit:]
        return rows[:limit] if limit else rows

    async def journal_clear(self) -> None:
        self._drain_rows()
        self._journal.clear()
        await self.link.evalsha("journal_clear", (), (self.prefix,))

    async def journal_len(self) -> int:
        self._drain_rows()
        if not self.link.up:
            return len(self._journal)
        return int(await self.link.call("HLEN", self.prefix + "j"))

    async def journal_last_seq(self) -> int:
        self._drain_rows()
        if not self.link.up:
            return self._journal.last_seq
        return int(await self.link.call("GET", self.prefix + "js") or 0)

    @property
    def journal(self) -> Journal:
        return self._journal


_INDEXED = {"vendor": "v", "operation": "o", "credential": "c", "request_id": "r"}


def _idx(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _matches(entry: dict[str, Any], other: dict[str, Any]) -> bool:
    return all(entry.get(k) == v for k, v in other.items())


def _pairs(raw: Any) -> dict[str, int]:
    it = iter(raw or ())
    return {k.decode(): int(v) for k, v in zip(it, it, strict=False)}


def _glob_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "*?[]\\":
            out.append("\\")
        out.append(ch)
    return "".join(out)
