"""``modsim serve | image | scenarios`` — the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp import web

from simulator import __version__
from simulator.store import StoreUnavailable

if TYPE_CHECKING:
    from simulator.workers import Worker


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("size is WxH, e.g. 256x256") from exc
    return w, h


def _port(text: str) -> int:
    """A TCP port, 0 (a free one) to 65535."""
    try:
        port = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from exc
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 to 65535; 0 picks a free one)")
    return port


def _workers(text: str) -> int:
    from simulator.settings import workers_count

    try:
        return workers_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number of workers nor auto") from exc


class CliError(Exception):
    """Ends the command with one line on stderr and exit status 2."""


class _Parser(argparse.ArgumentParser):
    """Usage mistakes end in one line (``modsim: error: ...``) and exit 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


#: ``--admin-token generate`` / ``MODSIM_ADMIN_TOKEN=generate``: a random token, printed in the banner
GENERATE = "generate"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="modsim", description="Local simulator of content-moderation APIs")
    p.add_argument("--version", action="version", version=f"modsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("serve", help="serve every vendor on one port")
    s.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    s.add_argument("--port", type=_port, default=None, help="port (default 8080; 0 picks a free one)")
    s.add_argument(
        "--fixtures",
        action="append",
        type=Path,
        default=None,
        metavar="DIR",
        help="extra fixture directory (repeatable), loaded after the built-in fixtures",
    )
    s.add_argument("--no-builtin-fixtures", action="store_true", help="do not load the built-in fixtures")
    s.add_argument("--seed", type=int, default=None, help="seed of every random choice (default 0)")
    s.add_argument(
        "--admin-token",
        default=None,
        help="require X-Modsim-Token on admin calls; 'generate': a random token, printed at start",
    )
    s.add_argument(
        "--admin-allow-remote",
        action="store_true",
        default=None,
        help="let non-loopback clients use the admin API (needs --admin-token; secrets stay masked for them)",
    )
    s.add_argument(
        "--fetch-allow",
        action="append",
        default=None,
        metavar="HOST",
        help="allow real fetching of URLs on HOST (exact or *.suffix); default: no network",
    )
    s.add_argument(
        "--proxy-port",
        type=_port,
        default=None,
        metavar="N",
        help="also run the HTTPS-intercept proxy on port N (0 picks a free one); see `modsim ca`",
    )
    s.add_argument(
        "--log-format",
        choices=["text", "json"],
        default=None,
        help="the console access log: one text line (default) or one JSON object per request",
    )
    s.add_argument("--quiet", action="store_true", default=None, help="no access log on the console")
    s.add_argument(
        "--validate",
        action="store_true",
        default=None,
        help="check every vendor answer against its JSON Schema; the journal (and dashboard) shows the result",
    )
    s.add_argument(
        "--state",
        default=None,
        metavar="URL",
        help="share all state in Redis (redis://HOST:PORT/DB; needs modsim[redis]): every process and host "
        "with the same URL and --state-prefix is one simulator",
    )
    s.add_argument(
        "--state-prefix",
        default=None,
        metavar="P",
        help="key prefix in the shared store (default modsim:): one per simulator sharing a Redis",
    )
    s.add_argument(
        "--instance",
        default=None,
        metavar="NAME",
        help="this process's name in the shared journal and health (default: host-pid)",
    )
    s.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="run N processes on one port (SO_REUSEPORT; 'auto': one per core); above 1 needs --state",
    )

    i = sub.add_parser("image", help="write an image carrying a scenario marker")
    i.add_argument("--scenario", default=None, help="scenario name to embed (none: a plain image)")
    i.add_argument(
        "--fixtures",
        action="append",
        type=Path,
        default=None,
        metavar="DIR",
        help="fixture directory defining more scenarios (repeatable); the name must exist in them or the built-ins",
    )
    i.add_argument("--format", default="png", choices=["png", "jpeg", "gif", "bmp"])
    i.add_argument("--size", type=_size, default=(256, 256), help="WxH (default 256x256)")
    i.add_argument("--frames", type=int, default=1, help="GIF frames (default 1, at most 100)")
    i.add_argument("-o", "--output", type=Path, required=True)

    ca = sub.add_parser("ca", help="write the proxy's CA certificate (PEM) for clients to trust")
    ca.add_argument(
        "-o", "--output", type=Path, default=None, help="copy it to FILE (default: just print its path)"
    )

    sc = sub.add_parser("scenarios", help="list the scenarios the fixtures define")
    sc.add_argument("--fixtures", action="append", type=Path, default=None, metavar="DIR")
    sc.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Every failure ends in one line on stderr and exit status 2, never a traceback."""
    args = build_parser().parse_args(argv)
    commands = {"serve": _serve, "image": _image, "ca": _ca, "scenarios": _scenarios}
    try:
        return commands[args.command](args)
    except CliError as exc:
        return _fail(str(exc))
    except BrokenPipeError:  # ``modsim scenarios --json | head``: the reader went away
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the interpreter's final flush is quiet
        return _fail("output closed early (broken pipe)")
    except KeyboardInterrupt:
        return _fail("interrupted")


def _fail(message: str) -> int:
    with contextlib.suppress(OSError):
        print(f"modsim: {message}", file=sys.stderr, flush=True)
    return 2


def _settings(args: argparse.Namespace) -> object:
    from simulator.settings import Settings, SettingsError

    try:
        return _load_settings(Settings, args)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc


def _load_settings(settings: Any, args: argparse.Namespace) -> object:
    return settings.load(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        seed=getattr(args, "seed", None),
        fixtures=args.fixtures,
        builtin_fixtures=False if getattr(args, "no_builtin_fixtures", False) else None,
        admin_token=getattr(args, "admin_token", None),
        admin_allow_remote=getattr(args, "admin_allow_remote", None),
        fetch_allowlist=getattr(args, "fetch_allow", None),
        proxy_port=getattr(args, "proxy_port", None),
        log_format=getattr(args, "log_format", None),
        quiet=getattr(args, "quiet", None),
        validate_responses=getattr(args, "validate", None),
        state_url=getattr(args, "state", None),
        state_prefix=getattr(args, "state_prefix", None),
        instance=getattr(args, "instance", None),
        workers=getattr(args, "workers", None),
    )


def _serve(args: argparse.Namespace) -> int:
    from simulator.app import create_app
    from simulator.scenarios.loader import FixtureError
    from simulator.settings import Settings
    from simulator.sim import Sim

    settings = _settings(args)
    assert isinstance(settings, Settings)
    if settings.admin_token == GENERATE:  # the container's default: remote admin with a fresh token
        settings = dataclasses.replace(settings, admin_token=secrets.token_urlsafe(18))
    if settings.admin_allow_remote and not settings.admin_token:
        print(
            "modsim: --admin-allow-remote (MODSIM_ADMIN_ALLOW_REMOTE) needs --admin-token T "
            "(MODSIM_ADMIN_TOKEN): remote admin calls must carry X-Modsim-Token",
            file=sys.stderr,
        )
        return 2
    try:
        sim = Sim(settings)
    except (FixtureError, ValueError) as exc:
        print(f"modsim: cannot load fixtures: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:  # modsim[redis] not installed
        print(f"modsim: {exc}", file=sys.stderr)
        return 2
    if settings.workers > 1:
        from simulator.workers import supervise

        return supervise(settings, sim)
    app = create_app(settings, sim)
    return asyncio.run(_run(app, sim, settings))


async def _run(app: web.Application, sim: object, settings: object, worker: Worker | None = None) -> int:
    """Serve until SIGINT or SIGTERM. ``worker``: one of ``--workers N`` (its socket shares the port,
    the supervisor prints the banner once every worker is ready)."""
    from simulator.settings import Settings
    from simulator.sim import Sim
    from simulator.store import StoreUnavailable

    assert isinstance(sim, Sim) and isinstance(settings, Settings)
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=settings.shutdown_timeout_s,
        keepalive_timeout=settings.keepalive_timeout_s,
        lingering_time=1.0,  # unread body of a refused request: drain briefly, then close
    )
    try:
        await runner.setup()  # a shared store connects here
    except StoreUnavailable as exc:
        print(f"modsim: {exc}", file=sys.stderr)
        return 2
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=worker is not None or None)
    try:
        await site.start()
    except OSError as exc:
        print(f"modsim: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        await runner.cleanup()
        return 2
    from simulator import outbound

    outbound.serving(runner)  # callbacks and fetches never reach these sockets
    port = settings.port
    for addr in runner.addresses:  # the real port when 0 asked for a free one
        if isinstance(addr, tuple):
            port = addr[1]
            break
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    if worker is None:
        print(banner(sim, f"http://{host}:{port}"), flush=True)
    else:
        worker.ready()
    if not settings.quiet:
        from simulator.observe import AccessLog

        sim.access = AccessLog(sys.stdout, settings.log_format)
    flusher = asyncio.create_task(_flush_access_log(sim))
    gc.collect()
    gc.freeze()  # modules, schemas and fixtures live forever: keep them out of every later collection
    proxy = None
    if settings.proxy_port is not None and (worker is None or worker.index == 0):  # one proxy
        from simulator.proxy import CAError, start_proxy

        try:
            proxy = await start_proxy(runner, settings)
        except (OSError, CAError) as exc:
            print(f"modsim: cannot start the proxy on port {settings.proxy_port}: {exc}", file=sys.stderr)
            await runner.cleanup()
            return 2
        print(
            f"proxy on {proxy.url} for {', '.join(proxy.hosts)}\n"
            f"  HTTPS_PROXY={proxy.url} HTTP_PROXY={proxy.url}; trust {proxy.ca.cert_path} (modsim ca)",
            flush=True,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    flusher.cancel()
    if sim.access is not None:
        sim.access.flush()
    if worker is None:
        with contextlib.suppress(OSError):
            print("modsim: shutting down", flush=True)
    if proxy is not None:
        proxy.close()
    await runner.cleanup()
    if proxy is not None:
        await proxy.wait_closed()
    return 0


async def _flush_access_log(sim: object) -> None:
    """The access log is written without a flush per line; it reaches a pipe within 0.2 s."""
    from simulator.sim import Sim

    assert isinstance(sim, Sim)
    while True:
        await asyncio.sleep(0.2)
        if sim.access is not None:
            sim.access.flush()


def banner(sim: object, base: str) -> str:
    from simulator.sim import Sim

    assert isinstance(sim, Sim)
    lines = [
        f"modsim {__version__} serving on {base}  (admin: {base}/__modsim/health, seed {sim.settings.seed})"
    ]
    if sim.settings.admin_token:
        lines.append(f"  admin token (X-Modsim-Token): {sim.settings.admin_token}")
    lines.append(f"  dashboard: {base}/__modsim/ui/   metrics: {base}/__modsim/metrics")
    for v in sim.vendors.values():
        lines.append(f"  {v.name}: {v.title}")
        for r in v.routes():
            lines.append(f"    {r.method:<5} {r.path:<40} {r.operation}")
        for cred in v.demo_credentials(sim):
            lines.append("    demo credential: " + json.dumps(cred, ensure_ascii=False))
    return "\n".join(lines)


def _image(args: argparse.Namespace) -> int:
    from simulator.content import make_image

    if args.scenario:
        from simulator.names import unknown_text
        from simulator.resources import builtin_dir
        from simulator.scenarios.loader import FixtureError, load_dirs

        try:
            known = load_dirs([builtin_dir("fixtures"), *(args.fixtures or [])]).scenarios
        except FixtureError as exc:
            print(f"modsim: cannot load fixtures: {exc}", file=sys.stderr)
            return 2
        if args.scenario not in known:
            where = "the built-in or --fixtures scenarios" if args.fixtures else "the built-in scenarios"
            print(
                f"modsim: {unknown_text('scenario', args.scenario, known)} (among {where})", file=sys.stderr
            )
            return 2
    try:
        data = make_image(args.scenario, args.format, args.size, args.frames)
    except ValueError as exc:
        print(f"modsim: {exc}", file=sys.stderr)
        return 2
    _write(args.output, data)
    print(
        f"wrote {args.output} ({args.format}, {args.size[0]}x{args.size[1]}, {len(data)} bytes, "
        f"scenario {args.scenario or '-'})"
    )
    return 0


def _ca(args: argparse.Namespace) -> int:
    from simulator.proxy import CAError, CertificateAuthority
    from simulator.settings import Settings

    settings = Settings.load()
    try:
        ca = CertificateAuthority.load_or_create(settings.ca_dir)
    except (OSError, CAError) as exc:
        print(f"modsim: cannot load the CA in {settings.ca_dir}: {exc}", file=sys.stderr)
        return 2
    path = ca.cert_path
    if args.output is not None:
        _write(args.output, ca.pem)
        path = args.output.resolve()
    print(
        f"{path}\n"
        f"The modsim proxy's CA certificate (key kept in {settings.ca_dir}). Trust it in the client:\n"
        f"  REQUESTS_CA_BUNDLE={path}           (requests)\n"
        f"  ALIBABA_CLOUD_CA_BUNDLE={path}      (aliyunsdkcore)\n"
        f"  SSL_CERT_FILE={path}                (ssl, aiohttp, httpx, urllib)\n"
        f"  curl --cacert {path} -x http://127.0.0.1:8888 https://aip.baidubce.com/..."
    )
    return 0


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _scenarios(args: argparse.Namespace) -> int:
    from simulator.resources import builtin_dir
    from simulator.scenarios.loader import FixtureError, load_dirs

    try:
        fs = load_dirs([builtin_dir("fixtures"), *(args.fixtures or [])])
    except FixtureError as exc:
        raise CliError(f"cannot load fixtures: {exc}") from exc
    if args.json:
        print(
            json.dumps(
                [{"name": s.name, "description": s.description} for s in fs.scenarios.values()],
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for s in fs.scenarios.values():
            print(f"{s.name:<22} {s.description}")
    return 0
