"""The contract harness: what every answer of a vendor route must be, checked from the outside.

``check_answer`` is the invariant of issue 6 ("never a bare failure"), independent of any fuzzer:
the answer carries the simulator's request id, its journal entry names a vendor and holds no
traceback (no unexpected exception was turned into the vendor's internal-error shape), the status
is not 5xx, and the body is JSON (Aliyun: or its XML error when asked) valid for the schema the
vendor names for it (``Vendor.schema_for``).

``raw_request`` speaks HTTP/1.1 over a plain socket, so requests can carry what client libraries
refuse to send: duplicated headers, obs-text (non-UTF-8) header bytes, bodies that contradict their
Content-Type.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
from dataclasses import dataclass
from typing import Any

from simulator import schemas
from simulator.testing import ThreadedServer

#: headers aiohttp's parser refuses to see twice (HTTP framing and singletons): a protocol-level 400
SINGLETON_HEADERS = frozenset(
    h.lower()
    for h in (
        "Content-Length",
        "Content-Location",
        "Content-Range",
        "Content-Type",
        "ETag",
        "Host",
        "Max-Forwards",
        "Server",
        "Transfer-Encoding",
        "User-Agent",
        "Connection",
    )
)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


def raw_request(
    server: ThreadedServer,
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    timeout: float = 30,
) -> Answer:
    """One request on a fresh connection (``Connection: close``); ``target`` is sent as given."""
    head = [
        method.encode() + b" " + target + b" HTTP/1.1",
        b"Host: " + f"{server.host}:{server.port}".encode(),
    ]
    head += [k + b": " + v for k, v in headers]
    if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
        head.append(b"Content-Length: " + str(len(body)).encode())
    head.append(b"Connection: close")
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        # answered (413) before the whole body was read: the server may stop reading
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
        chunks = []
        while True:
            try:
                data = sock.recv(1 << 20)
            except ConnectionResetError:  # the server answered early and dropped the rest of a huge body
                break
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks)
    head_raw, _, rest = raw.partition(b"\r\n\r\n")
    lines = head_raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    parsed = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    answer = Answer(status, parsed, rest)
    if (answer.header("Transfer-Encoding") or "").lower() == "chunked":
        answer.body = _dechunk(rest)
    elif answer.header("Content-Length") is not None:
        answer.body = rest[: int(answer.header("Content-Length") or 0)]
    return answer


def journal_entry(server: ThreadedServer, request_id: str) -> dict[str, Any]:
    entries = server.call(lambda: server.sim.state.journal.query(request_id=request_id))
    assert len(entries) == 1, (request_id, entries)
    entry: dict[str, Any] = entries[0]
    return entry


def check_answer(
    server: ThreadedServer,
    method: str,
    status: int,
    headers: dict[str, str] | Answer,
    body: bytes,
    *,
    decoded: bool = False,
) -> tuple[dict[str, Any], Any]:
    """The invariant; returns the journal entry and the parsed body (``None`` for HEAD).
    ``decoded``: the body was already un-gzipped by the client (requests does that)."""
    get = headers.header if isinstance(headers, Answer) else lambda name: _ci(headers, name)
    request_id = get("X-Modsim-Request-Id")
    assert request_id, f"no simulator request id: not an answer of the app ({status}, {body[:200]!r})"
    entry = journal_entry(server, request_id)
    assert "traceback" not in entry, f"unexpected exception behind this answer:\n{entry['traceback']}"
    assert status < 500, (status, body[:300])
    vendor = server.sim.vendors.get(entry.get("vendor") or "")
    assert vendor is not None, f"not a vendor's answer: {entry}"
    assert entry["status"] == status, entry
    if method == "HEAD":
        assert not body
        return entry, None
    if not decoded and (get("Content-Encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    content_type = (get("Content-Type") or "").split(";")[0].strip().lower()
    parsed: Any
    if content_type == "text/xml" and vendor.name == "aliyun":
        parsed = body.decode("utf-8")[:200]
    else:
        assert content_type == "application/json", (content_type, body[:200])
        parsed = json.loads(body)
    name = vendor.schema_for(entry["operation"], parsed)
    assert name is not None, (entry["operation"], parsed)
    problems = schemas.errors(name, parsed)
    assert problems == [], (name, problems, parsed)
    return entry, parsed


def _ci(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)
