"""URL content without network by default.

A URL resolves, first match wins, through:
1. scenario rules with a ``url`` glob that give ``download`` (failed, timeout, too_large, not_found,
   forbidden), a ``file`` to serve, or just a ``scenario`` (content is then synthetic),
2. a ``#modsim=NAME`` fragment (synthetic content carrying that scenario),
3. a real fetch, only when the host is on ``Settings.fetch_allowlist`` (exact host or ``*.suffix``),
   bounded by the vendor's timeout and size limit. Redirects are followed (at most
   ``outbound.MAX_REDIRECTS``) only to http(s) URLs whose host is on the allowlist too; the fetch
   never connects to the simulator's own listeners, nor to loopback for a request from a remote
   peer (``simulator.outbound``). Such a refusal is the outcome ``not_allowed`` (Alibaba Cloud: 401
   NOT_ALLOWED, documented for URLs that redirect to unsafe links; other vendors: their download
   error),
4. otherwise a failed download, with the reason in the journal.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit

import aiohttp

from simulator import outbound
from simulator.content.markers import marker_from_url
from simulator.outbound import host_allowed
from simulator.scenarios.loader import ScenarioRule

OUTCOMES = ("ok", "failed", "timeout", "too_large", "not_found", "forbidden", "invalid", "not_allowed")


class Download(NamedTuple):
    url: str
    outcome: str  # one of OUTCOMES
    data: bytes | None = None  # None with outcome ok: synthetic content, see ``scenario``
    scenario: str | None = None
    source: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True, slots=True)
class UrlFacts:
    """What a URL string alone says (no state, no network): its parts (None when ``urlsplit``
    refuses it, ``error`` saying why), host, ``#modsim=`` marker and SHA-256 (its content identity
    when no bytes are loaded)."""

    parts: SplitResult | None
    error: str
    host: str | None
    marker: str | None
    sha256: str


#: url -> its facts, first in first out (a pure function of the string: clients send the same URLs
#: again and again, and splitting one costs more than the rest of resolving it)
_FACTS: dict[str, UrlFacts] = {}
FACTS_MAX = 4096
#: longer URLs are not kept
FACTS_URL_MAX = 2048


def url_facts(url: str) -> UrlFacts:
    facts = _FACTS.get(url)
    if facts is not None:
        return facts
    digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        parts = urlsplit(url)
        facts = UrlFacts(parts, "", parts.hostname, marker_from_url(url), digest)
    except ValueError as exc:
        facts = UrlFacts(None, str(exc), None, None, digest)
    if len(url) <= FACTS_URL_MAX:
        if len(_FACTS) >= FACTS_MAX:
            del _FACTS[next(iter(_FACTS))]
        _FACTS[url] = facts
    return facts


def _url_rule(rules: list[ScenarioRule], url: str, vendor: str, operation: str) -> ScenarioRule | None:
    for rule in rules:
        m = rule.match
        if "url" not in m or not fnmatchcase(url, m["url"]):
            continue
        if m.get("vendor", vendor) != vendor or m.get("operation", operation) != operation:
            continue
        return rule
    return None


async def resolve_url(
    url: str,
    *,
    rules: list[ScenarioRule],
    vendor: str,
    operation: str,
    allowlist: tuple[str, ...],
    peer: str | None,
    timeout_s: float,
    max_bytes: int,
) -> Download:
    """``peer``: the address of the client whose request needs the URL (see ``simulator.outbound``)."""
    facts = url_facts(url)
    parts, host = facts.parts, facts.host
    if parts is None:
        return Download(url, "invalid", reason=f"unparseable URL: {facts.error}")
    if parts.scheme not in ("http", "https") or not host:
        return Download(url, "invalid", reason="not an http(s) URL with a host")
    rule = _url_rule(rules, url, vendor, operation)
    if rule is not None:
        label = f"rule:{rule.name or rule.match.get('url')}"
        if rule.download and rule.download != "ok":
            return Download(url, rule.download, source=label, reason=f"fixture rule says {rule.download}")
        if rule.file is not None:
            data = await asyncio.to_thread(rule.file.read_bytes)
            return Download(url, "ok", data=data, scenario=rule.scenario, source=label)
        return Download(url, "ok", scenario=rule.scenario, source=label)
    marker = facts.marker
    if marker:
        return Download(url, "ok", scenario=marker, source="marker")
    if host_allowed(host, allowlist):
        return await _fetch(url, outbound.Guard(allowlist, peer), timeout_s, max_bytes)
    return Download(
        url,
        "failed",
        source="none",
        reason="no fixture rule matches this URL and its host is not on the fetch allowlist (no network by default)",
    )


async def _fetch(url: str, guard: outbound.Guard, timeout_s: float, max_bytes: int) -> Download:
    try:
        async with outbound.session(guard, timeout_s) as session, outbound.get(session, url, guard) as resp:
            if resp.status in outbound.REDIRECTS:
                reason = f"HTTP {resp.status}: more than {outbound.MAX_REDIRECTS} redirects"
                return Download(url, "failed", source="fetch", reason=reason)
            if resp.status == 404:
                return Download(url, "not_found", source="fetch", reason="HTTP 404")
            if resp.status == 403:
                return Download(url, "forbidden", source="fetch", reason="HTTP 403")
            if resp.status != 200:
                return Download(url, "failed", source="fetch", reason=f"HTTP {resp.status}")
            buf = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                buf.extend(chunk)
                if len(buf) > max_bytes:
                    return Download(url, "too_large", source="fetch", reason=f"over {max_bytes} bytes")
            return Download(url, "ok", data=bytes(buf), source="fetch")
    except TimeoutError:
        return Download(url, "timeout", source="fetch", reason=f"no answer within {timeout_s}s")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        if guard.refusals:  # a redirect hop, or every address of a host, refused
            return Download(url, "not_allowed", source="fetch", reason=f"not fetched: {guard.refusals[-1]}")
        return Download(url, "failed", source="fetch", reason=f"{type(exc).__name__}: {exc}")
