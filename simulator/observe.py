"""What the simulator tells its operator, besides the journal: a console access log (one line per
request, ``modsim serve`` only) and Prometheus metrics (``GET /__modsim/metrics``).

Both read the journal entry the journal middleware has just built (``middlewares._record``). A
request pays a few dict updates: the metrics are counted in plain dicts and rendered in the
Prometheus text format at scrape time by prometheus-client, from a collector, so there is no
registry lock or label lookup per request. Label sets are bounded (vendors, operations, statuses and
the vendors' own code tables); past ``MAX_SERIES`` new label sets are counted under ``other``.
"""

from __future__ import annotations

import bisect
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

if TYPE_CHECKING:
    from simulator.sim import Sim

#: latency histogram bucket bounds, seconds (fault latencies reach minutes)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MAX_SERIES = 5000
OTHER = "other"


class AccessLog:
    """One line per request: time (wall clock, UTC), vendor, operation, HTTP status, vendor code,
    scenario (and where it came from), the fault rule that fired, latency; ``json``: one object per
    line with the same facts and the request id. Lines are written without a flush each; ``flush``
    is called a few times a second and at exit. A closed stream (``modsim serve | head``) turns the
    log off instead of failing requests."""

    def __init__(self, stream: IO[str], fmt: str = "text") -> None:
        self.stream: IO[str] | None = stream
        self.json = fmt == "json"

    def write(self, entry: dict[str, Any]) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(self.json_line(entry) if self.json else self.text_line(entry))
        except (OSError, ValueError):  # a closed pipe or file: no more access log
            self.stream = None

    def flush(self) -> None:
        if self.stream is None:
            return
        try:
            self.stream.flush()
        except (OSError, ValueError):
            self.stream = None

    @staticmethod
    def _scenario(entry: dict[str, Any]) -> str:
        names, sources = entry.get("scenario") or [], entry.get("scenario_source") or []
        return ",".join(f"{n}({s})" for n, s in zip(names, sources, strict=False)) or "-"

    @classmethod
    def text_line(cls, entry: dict[str, Any]) -> str:
        now = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        fault = entry.get("fault") or {}
        code = entry.get("vendor_code")
        status = entry.get("status")
        return (
            f"{now} {entry.get('vendor') or '-':<8} {entry.get('operation') or '-':<16} "
            f"{status if status is not None else '---'} code={code if code is not None else '-'} "
            f"scenario={cls._scenario(entry)} fault={fault.get('rule') or '-'} "
            f"{entry.get('latency_ms', 0):.1f}ms\n"
        )

    @classmethod
    def json_line(cls, entry: dict[str, Any]) -> str:
        fault = entry.get("fault") or {}
        return (
            json.dumps(
                {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "request_id": entry.get("request_id"),
                    "vendor": entry.get("vendor"),
                    "operation": entry.get("operation"),
                    "status": entry.get("status"),
                    "vendor_code": entry.get("vendor_code"),
                    "scenario": entry.get("scenario") or [],
                    "scenario_source": entry.get("scenario_source") or [],
                    "fault": fault.get("rule"),
                    "latency_ms": entry.get("latency_ms"),
                },
                ensure_ascii=False,
            )
            + "\n"
        )


class Metrics:
    """Counts per request, rendered by ``registry()`` (a prometheus-client registry whose collector
    also reads the fault rules, the quotas and the journal at scrape time)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str, str], int] = {}
        #: (vendor, operation) -> [count per bucket (+Inf last), sum of seconds]
        self.latency: dict[tuple[str, str], list[float]] = {}
        self.started = time.time()

    def clear(self) -> None:
        self.requests.clear()
        self.latency.clear()

    def observe(self, entry: dict[str, Any]) -> None:
        vendor, op = str(entry.get("vendor") or OTHER), str(entry.get("operation") or OTHER)
        status, code = entry.get("status"), entry.get("vendor_code")
        key = (vendor, op, "none" if status is None else str(status), "" if code is None else str(code))
        requests = self.requests
        if key in requests:
            requests[key] += 1
        elif len(requests) < MAX_SERIES:
            requests[key] = 1
        else:
            other = (OTHER, OTHER, OTHER, OTHER)
            requests[other] = requests.get(other, 0) + 1
        seconds = float(entry.get("latency_ms") or 0.0) / 1000
        hist = self.latency.get((vendor, op))
        if hist is None:
            if len(self.latency) >= MAX_SERIES:
                return
            hist = self.latency[(vendor, op)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        hist[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        hist[-1] += seconds

    def registry(
        self, sim: Sim, mask: Any, quotas: list[QuotaRow], journal_entries: int
    ) -> CollectorRegistry:
        """A registry rendering these counts and ``sim``'s fault rules, with ``quotas`` (``quota_rows``)
        and the journal's size read from the store; ``mask(vendor, credential)`` hides credentials that
        are themselves secrets (remote readers)."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self, sim, mask, quotas, journal_entries))
        return registry


#: (vendor, credential, window, calls left)
QuotaRow = tuple[str, str, str, int]


async def quota_rows(sim: Sim) -> list[QuotaRow]:
    """What each credential with a limit has left in each window, as the store counts it now."""
    quotas, now = sim.state.quotas, sim.clock.now()
    rows: list[QuotaRow] = []
    for cred in sim.state.credentials.all():
        limits = quotas.limits(cred.vendor, cred.attrs)
        if not limits:
            continue
        used = await sim.store.usage(cred.vendor, cred.id, now)
        for window in ("qps", "daily", "total"):
            if limits.get(window) is not None:
                rows.append((cred.vendor, cred.id, window, max(0, int(limits[window]) - used[window])))
    return rows


class _Collector(Collector):
    def __init__(
        self, metrics: Metrics, sim: Sim, mask: Any, quotas: list[QuotaRow], journal_entries: int
    ) -> None:
        self.metrics = metrics
        self.sim = sim
        self.mask = mask or (lambda vendor, cred: cred)
        self.quotas = quotas
        self.journal_entries = journal_entries

    def collect(self) -> Iterator[Any]:
        m, sim = self.metrics, self.sim
        requests = CounterMetricFamily(
            "modsim_requests",
            "Requests answered, by vendor, operation, HTTP status (none: no answer) and vendor code",
            labels=["vendor", "operation", "status", "vendor_code"],
        )
        for (vendor, op, status, code), n in sorted(m.requests.items()):
            requests.add_metric([vendor, op, status, code], n)
        yield requests

        latency = HistogramMetricFamily(
            "modsim_request_latency_seconds",
            "Time from request to answer, by vendor and operation",
            labels=["vendor", "operation"],
        )
        for (vendor, op), hist in sorted(m.latency.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), hist[:-1], strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            latency.add_metric([vendor, op], buckets, hist[-1])
        yield latency

        seen = CounterMetricFamily(
            "modsim_fault_rule_seen", "Requests a fault rule matched", labels=["rule", "vendor", "operation"]
        )
        hits = CounterMetricFamily(
            "modsim_fault_hits",
            "Requests a fault rule fired on",
            labels=["rule", "vendor", "operation", "action"],
        )
        for rule in sim.faults.rules:
            vendor, op = rule.vendor or "*", rule.operation or "*"
            kind = rule.action["type"] if rule.action else "sequence"
            seen.add_metric([rule.id, vendor, op], rule.seen)
            hits.add_metric([rule.id, vendor, op, kind], rule.hits)
        yield seen
        yield hits

        remaining = GaugeMetricFamily(
            "modsim_quota_remaining",
            "Calls left before a credential's quota window is full (credentials with a limit only)",
            labels=["vendor", "credential", "window"],
        )
        for vendor, cred, window, left in self.quotas:
            remaining.add_metric([vendor, self.mask(vendor, cred), window], left)
        yield remaining

        journal = GaugeMetricFamily("modsim_journal_entries", "Entries in the journal (a bounded ring)")
        journal.add_metric([], self.journal_entries)
        yield journal
        uptime = GaugeMetricFamily("modsim_uptime_seconds", "Seconds since the simulator started")
        uptime.add_metric([], time.time() - m.started)
        yield uptime
