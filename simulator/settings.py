"""Settings: the only module that reads the environment.

Precedence: explicit keyword arguments (the CLI passes its flags) > ``MODSIM_*`` environment
variables > defaults below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "MODSIM_"
#: URL schemes of a shared store (redis-py's)
STATE_SCHEMES = ("redis", "rediss", "unix")
MAX_WORKERS = 64


class SettingsError(ValueError):
    """A setting from the environment or the command line that cannot be used."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = 0
    #: extra fixture directories, loaded after the built-in ones (later ones win on name clashes)
    fixtures: tuple[Path, ...] = ()
    #: load the built-in fixtures (demo credentials, scenario library, policies)
    builtin_fixtures: bool = True
    journal_size: int = 10_000
    #: request and response body bytes kept per journal entry (for HAR export)
    journal_body_bytes: int = 1024
    #: admin API (/__modsim/) answers only loopback peers unless this is true; remote peers also
    #: need ``admin_token`` (``modsim serve`` refuses to start without one) and never see secrets
    admin_allow_remote: bool = False
    #: when set, admin calls must carry ``X-Modsim-Token: <token>``
    admin_token: str | None = None
    #: hard cap on any request body, enforced from Content-Length before reading and while streaming
    max_body_bytes: int = 32 * 1024 * 1024
    #: hosts (exact or ``*.suffix``) whose URLs may really be fetched; empty: no network at all
    fetch_allowlist: tuple[str, ...] = ()
    #: how long a ``hang`` fault without ``max_s`` holds the connection before closing it
    hang_max_s: float = 300.0
    #: the hard upper bound of every fault wait (latency, hang, a slow_body's whole drip), whatever
    #: the rule says
    fault_max_wait_s: float = 600.0
    #: a request body must arrive within this time, or the connection is closed (slow clients)
    body_timeout_s: float = 30.0
    #: an idle keep-alive connection is closed after this time
    keepalive_timeout_s: float = 75.0
    #: on SIGTERM/SIGINT, in-flight requests get this long to finish; fault waits end at once
    shutdown_timeout_s: float = 10.0
    #: check every vendor response against its JSON Schema (``modsim serve --validate``); the result is
    #: the journal entry's ``schema``, violations are also kept in ``Sim.schema_violations`` (the test
    #: suite turns this on)
    validate_responses: bool = False
    #: where shared state lives: None keeps it in this process; ``redis://HOST:PORT/DB`` shares it
    #: with every process and host that uses the same URL and ``state_prefix`` (``modsim[redis]``)
    state_url: str | None = None
    state_prefix: str = "modsim:"
    #: this process's name in a shared store's journal and health (empty: host and process id)
    instance: str = ""
    #: ``modsim serve --workers N``: processes sharing one port (needs ``state_url`` above 1)
    workers: int = 1
    #: ``modsim serve``'s console access log: ``text`` or ``json`` lines; ``quiet`` turns it off
    log_format: str = "text"
    quiet: bool = False
    #: port of the HTTPS-intercept proxy (``modsim serve --proxy-port``); None: no proxy, 0: a free port
    proxy_port: int | None = None
    #: hosts the proxy serves (exact, or ``*`` standing for exactly one DNS label); any other is refused.
    #: Empty: every vendor's own ``Vendor.hosts``
    proxy_hosts: tuple[str, ...] = ()
    #: where the proxy's CA certificate and key are kept (made on first use)
    ca_dir: Path = field(default_factory=lambda: _default_ca_dir(os.environ))
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or f.name == "extra":
                continue
            try:
                values[f.name] = _parse(f.name, raw)
            except ValueError as exc:
                kind = type(getattr(cls(), f.name)).__name__
                raise SettingsError(
                    f"{ENV_PREFIX}{f.name.upper()}={raw[:40]!r} is not a valid {kind}"
                ) from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "fixtures" in values:
            values["fixtures"] = tuple(Path(p) for p in values["fixtures"])
        if "fetch_allowlist" in values:
            values["fetch_allowlist"] = tuple(values["fetch_allowlist"])
        if values.get("proxy_port") is not None:
            values["proxy_port"] = int(values["proxy_port"])
        if "proxy_hosts" in values:
            values["proxy_hosts"] = tuple(values["proxy_hosts"])
        values["ca_dir"] = Path(values["ca_dir"]).expanduser() if "ca_dir" in values else _default_ca_dir(env)
        for name in ("port", "proxy_port"):
            port = values.get(name)
            if port is not None and not 0 <= int(port) <= 65535:
                raise SettingsError(f"{name} {port} is not a port (0 to 65535; 0 picks a free one)")
        if values.get("log_format", "text") not in ("text", "json"):
            raise SettingsError(f"log format {values['log_format']!r} is neither text nor json")
        url = values.get("state_url") or None
        values["state_url"] = url
        if url is not None and urlsplit(url).scheme not in STATE_SCHEMES:
            raise SettingsError(
                f"state URL {url.split('@')[-1][:60]!r} is not a Redis URL (redis://HOST:PORT/DB, rediss://, unix://)"
            )
        workers = int(values.get("workers", 1))
        if not 1 <= workers <= MAX_WORKERS:
            raise SettingsError(f"workers {workers} is out of range (1 to {MAX_WORKERS}, or auto)")
        if workers > 1 and url is None:
            raise SettingsError(
                f"--workers {workers} needs --state redis://HOST:PORT/DB (MODSIM_STATE_URL): each worker is a "
                "process of its own, and only a shared store makes them one simulator (tokens, quotas, "
                "tasks, the journal); start Redis and pass its URL, or run one worker"
            )
        return replace(cls(), **values)


def workers_count(text: str) -> int:
    """``--workers N`` or ``auto`` (this machine's cores available to the process)."""
    if text.strip().lower() == "auto":
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            return os.cpu_count() or 1
    return int(text)


def _default_ca_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/modsim``, else ``~/.local/share/modsim``."""
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "modsim"


def _parse(name: str, raw: str) -> Any:
    default = getattr(Settings(), name)
    if name == "workers":
        return workers_count(raw)
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        sep = os.pathsep if name == "fixtures" else ","
        return tuple(p for p in raw.split(sep) if p)
    return raw
