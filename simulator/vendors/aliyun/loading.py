"""Content behind a task or face URL, as Green sees it: a ``ContentRef`` or a per-task code.

Download outcomes (``content/urls.py``) map to: failed 480, timeout 592, too_large 589,
not_found 404, forbidden 403, not an http(s) URL 400, not_allowed 401 NOT_ALLOWED (documented as "the
URL redirects to an insecure image": here a redirect hop off the allowlist, the simulator's own
listener, loopback for a remote client; ``simulator.outbound``); a URL to an internal address (loopback,
private, link-local) that no rule, marker or allowlisted fetch resolves is 401 too (Green refuses
such URLs). Bytes over ``limits.max_image_bytes`` are 589; bytes no decoder reads or in a
format outside ``limits.formats`` 590. ``oss://`` URLs (what the upload-credential flow submits)
are synthetic content, like a URL resolved only by a ``#modsim=`` marker.

A queued outcome is taken before the URL is loaded (nothing is fetched), and a scenario rule
matching a URL that cannot be loaded stands in for it (``scenarios.matcher``): ``Loaded.decided``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from simulator.content import inspect_image
from simulator.content.urls import UrlFacts, url_facts
from simulator.context import RequestCtx
from simulator.scenarios.matcher import (
    ContentRef,
    Resolution,
    Target,
    load_url,
    resolve,
    standing_in,
    take_queued,
    url_ref,
)
from simulator.scenarios.model import Scenario
from simulator.vendors.aliyun.policy import Limits

if TYPE_CHECKING:
    from simulator.sim import Sim

OUTCOME_CODES = {
    "failed": 480,
    "timeout": 592,
    "too_large": 589,
    "not_found": 404,
    "forbidden": 403,
    "invalid": 400,
    "not_allowed": 401,
}


def _internal(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified


class Loaded(NamedTuple):
    code: int
    ref: ContentRef | None = None
    #: the scenario, decided without the bytes (queued, or a rule standing in for a failed download)
    decided: Resolution | None = None

    async def resolution(self, sim: Sim, target: Target) -> Resolution:
        """The content's scenario (``ref`` must be set): decided already, or resolved now (the queue had
        nothing for it before loading; asking it again journals why)."""
        assert self.ref is not None
        return self.decided or await resolve(sim, target, self.ref)


def _plain_marker(facts: UrlFacts) -> str | None:
    """The marker of an http(s) URL with a host: with no scenario rule, ``resolve_url`` answers such
    a URL by its marker alone, without loading it."""
    parts = facts.parts
    if parts is None or parts.scheme not in ("http", "https") or not facts.host:
        return None
    return facts.marker


def marked(sim: Sim, target: Target, urls: Iterable[str]) -> list[Scenario] | None:
    """Every URL's scenario when each is its ``#modsim=`` marker alone, which is what ``load`` then
    ``Loaded.resolution`` give (source ``marker``, no note, no warning) while the queue is known empty
    (``Store.queue_may_hold``), no scenario rule exists, and every URL is http(s) with a host and a
    marker naming a scenario ``target`` can render; None when any of that does not hold (then each
    URL goes the whole way). Nothing here waits, so nothing can change those conditions meanwhile."""
    if sim.state.rules or sim.store.queue_may_hold():
        return None
    scenarios = sim.state.scenarios
    out: list[Scenario] = []
    for url in urls:
        marker = _plain_marker(url_facts(url))
        if not marker:
            return None
        s = scenarios.get(marker)
        if s is None or s.lacks(target.reads) is not None:
            return None
        out.append(s)
    return out


async def load(sim: Sim, ctx: RequestCtx, url: str, target: Target, limits: Limits) -> Loaded:
    """The content behind ``url``: its identity for matching, or the per-task failure code."""
    queued = await take_queued(sim, target)
    if queued is not None:
        return Loaded(200, url_ref(url), queued)
    facts = url_facts(url)
    parts = facts.parts
    if parts is None:
        ctx.note(f"url {url[:200]!r}: unparseable")
        return Loaded(400)
    if parts.scheme == "oss":
        return Loaded(200, url_ref(url, facts.marker))
    if not sim.state.rules and (marker := _plain_marker(facts)):
        return Loaded(200, url_ref(url, marker))  # what resolve_url answers: no rule, a marker
    d = await load_url(
        sim, ctx, target, url, timeout_s=limits.download_timeout_s, max_bytes=limits.max_image_bytes
    )
    if not d.ok:
        code = OUTCOME_CODES.get(d.outcome, 480)
        if d.outcome == "failed" and d.source == "none" and _internal(facts.host):
            code = 401
        ctx.note(f"download {url[:200]!r}: {d.outcome} ({d.reason}) -> {code}")
        rule = standing_in(sim.state, target, url, d.outcome)
        if rule is not None:
            return Loaded(200, url_ref(url), rule)
        return Loaded(code)
    if d.data is None:
        return Loaded(200, url_ref(url, d.scenario))
    if len(d.data) > limits.max_image_bytes:
        ctx.note(f"download {url[:200]!r}: {len(d.data)} bytes > {limits.max_image_bytes} -> 589")
        return Loaded(589)
    info = inspect_image(d.data)
    if not info.valid or info.format not in limits.formats:
        ctx.note(f"download {url[:200]!r}: format {info.format} (valid={info.valid}) -> 590")
        return Loaded(590)
    return Loaded(200, ContentRef(info.sha256, url, None, d.scenario or info.marker))
