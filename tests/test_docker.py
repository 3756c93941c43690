"""The Docker image and compose.yaml, checked without a Docker daemon.

The Dockerfile and compose.yaml are parsed and checked for what the image promises (exec-form
entrypoint, non-root user, port 8080, the admin defaults, a health check that needs no token, a small
build context). Then ``modsim serve`` runs with exactly the image's environment and the README's
docker tour is made from a non-loopback address, as the host's requests reach a container through
``docker run -p``: from a veth pair into a network namespace (the bridge's topology; needs root and
``ip``) and from this machine's own non-loopback address, whichever this machine has (at least one).
``scripts/dev/docker-tour.sh`` does the same against the real image where a daemon runs.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import http.client
import ipaddress
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from simulator.content import make_image

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
TOKEN_LINE = "  admin token (X-Modsim-Token): "
BAIDU_TOKEN = (
    "/oauth/2.0/token?grant_type=client_credentials"
    "&client_id=demo-baidu-api-key&client_secret=demo-baidu-secret-key"
)

# --- the Dockerfile ---------------------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of a Dockerfile: continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker drops comment lines, inside a continuation too
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    assert not buf, "the Dockerfile ends inside a continuation"
    return out


def dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


def last(name: str) -> str:
    found = [args for word, args in dockerfile() if word == name]
    assert found, f"no {name} in the Dockerfile"
    return found[-1]


def image_env() -> dict[str, str]:
    """The ``ENV`` of the image (``KEY=value`` pairs, later ones win)."""
    env: dict[str, str] = {}
    for word, args in dockerfile():
        if word == "ENV":
            for pair in shlex.split(args):
                key, sep, value = pair.partition("=")
                assert sep, f"ENV {args!r}: use the KEY=value form"
                env[key] = value
    return env


def healthcheck() -> tuple[dict[str, str], list[str]]:
    """The ``HEALTHCHECK``'s options and its exec-form command."""
    options, sep, command = last("HEALTHCHECK").partition("CMD ")
    assert sep, "HEALTHCHECK needs CMD"
    argv = json.loads(command)  # exec form: no shell in the image needed, no quoting surprises
    opts = dict(o.removeprefix("--").split("=", 1) for o in options.split())
    return opts, argv


def test_dockerfile_entrypoint_is_exec_form_and_runs_modsim_serve() -> None:
    entrypoint, cmd = json.loads(last("ENTRYPOINT")), json.loads(last("CMD"))
    assert entrypoint + cmd == ["modsim", "serve"]  # exec form: modsim is PID 1 and gets SIGTERM itself
    assert last("FROM") == "python:3.11-slim"  # the standard base; scripts/dev/make-base-image.sh stands in


def test_dockerfile_runs_as_a_non_root_user() -> None:
    steps = dockerfile()
    users = [(i, args) for i, (word, args) in enumerate(steps) if word == "USER"]
    assert users, "no USER: the image would run as root"
    index, user = users[-1]
    assert user not in ("root", "0") and not user.startswith("0:")
    created = [args for word, args in steps[:index] if word == "RUN" and "useradd" in args]
    assert created and created[-1].split()[-1] == user
    assert "--create-home" in created[-1]  # the proxy's CA lives under ~/.local/share
    assert not [w for w, _ in steps[index + 1 :] if w == "RUN"], "RUN steps after USER would run as it"


def test_dockerfile_serves_on_all_interfaces_port_8080_with_remote_admin_behind_a_token() -> None:
    env = image_env()
    assert env["MODSIM_HOST"] == "0.0.0.0"
    assert env["MODSIM_PORT"] == "8080"
    assert last("EXPOSE") == env["MODSIM_PORT"]
    assert env["MODSIM_ADMIN_ALLOW_REMOTE"] == "1"
    # never a fixed, well-known token: a fresh one at every start unless the user passes one
    assert env["MODSIM_ADMIN_TOKEN"] == "generate"


def test_dockerfile_healthcheck_asks_health_without_a_token() -> None:
    opts, argv = healthcheck()
    assert argv[0] == "python"
    script = " ".join(argv)
    assert "/__modsim/health" in script and "X-Modsim-Token" not in script
    assert "MODSIM_PORT" in script  # follows -e MODSIM_PORT
    assert {"interval", "timeout", "retries"} <= opts.keys()


# --- the build context (.dockerignore) ----------------------------------------------------------------


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker matches it: ``*`` and ``?`` within a path element,
    ``**`` across elements, anchored at the context root."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def build_context(root: Path) -> dict[str, int]:
    """The files ``docker build`` sends for ``root`` (path -> size): a path is excluded by the last
    .dockerignore pattern that matches it or one of its parent directories (``!`` re-includes)."""
    rules: list[tuple[bool, re.Pattern[str], str]] = []
    for line in (root / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keep = line.startswith("!")
            text = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
            rules.append((keep, _pattern(text), text))

    def excluded(rel: str) -> bool:
        parts = rel.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for keep, regex, _ in rules:
            if any(regex.match(p) for p in prefixes):
                verdict = not keep
        return verdict

    def may_reinclude_below(rel: str) -> bool:
        return any(keep and (text.startswith(rel + "/") or "*" in text) for keep, _, text in rules)

    files: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath).relative_to(root).as_posix()
        base = "" if base == "." else base + "/"
        dirnames[:] = [d for d in dirnames if not (excluded(base + d) and not may_reinclude_below(base + d))]
        for name in filenames:
            rel = base + name
            if not excluded(rel):
                files[rel] = (Path(dirpath) / name).stat().st_size
    return files


def test_dockerignore_matcher_follows_docker_rules(tmp_path: Path) -> None:
    for rel in ("a/x.py", "a/__pycache__/x.pyc", "b/y.txt", "c.txt", "keep.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("1", encoding="utf-8")
    (tmp_path / ".dockerignore").write_text("*\n!a\n!keep.txt\n**/__pycache__\n", encoding="utf-8")
    assert sorted(build_context(tmp_path)) == ["a/x.py", "keep.txt"]
    (tmp_path / ".dockerignore").write_text("b\n*.txt\n", encoding="utf-8")
    assert sorted(build_context(tmp_path)) == [".dockerignore", "a/__pycache__/x.pyc", "a/x.py"]


def test_build_context_is_small_and_holds_what_the_dockerfile_copies() -> None:
    context = build_context(ROOT)
    for word, args in dockerfile():
        if word == "COPY":
            *sources, _dest = args.split()
            for src in sources:
                assert src in context or any(p.startswith(src + "/") for p in context), f"COPY {src}"
    assert "simulator/cli.py" in context and "fixtures/credentials.yaml" in context
    for left_out in ("tests/", ".git/", "bench/", "docs/", "scripts/", ".venv/"):
        assert not [p for p in context if p.startswith(left_out)], left_out
    assert not [p for p in context if "__pycache__" in p or "node_modules" in p]
    assert sum(context.values()) < 8 * 1024 * 1024, sum(context.values())


# --- compose.yaml ------------------------------------------------------------------------------------


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``$$`` in every string of ``value``."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(3)
        return env.get(name) or (default if default is not None else "")

    return re.sub(r"\$\$|\$\{(\w+)(:-([^}]*))?\}", one, value)


def compose_service(env: Mapping[str, str]) -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert list(doc) == ["services"], "one top-level services: (profiles and more services may join it)"
    service: dict[str, Any] = interpolate(doc["services"]["modsim"], env)
    return service


def test_compose_defaults_publish_on_the_host_mount_fixtures_and_generate_a_token() -> None:
    svc = compose_service({})
    assert svc["build"] == "." and svc["image"] == "modsim"
    assert svc["ports"] == ["127.0.0.1:8080:8080"]
    assert svc["volumes"] == ["./my-fixtures:/fixtures:ro"]
    environment = svc["environment"]
    assert environment["MODSIM_FIXTURES"] == svc["volumes"][0].split(":")[1]
    assert environment["MODSIM_ADMIN_TOKEN"] == "generate"
    assert environment["MODSIM_ADMIN_ALLOW_REMOTE"] == "1"
    assert svc["healthcheck"]["test"][0] == "CMD"
    assert "/__modsim/health" in " ".join(svc["healthcheck"]["test"])


def test_compose_takes_the_folder_the_port_and_the_token_from_the_environment() -> None:
    svc = compose_service(
        {"MODSIM_FIXTURES_DIR": "/srv/fx", "MODSIM_PUBLISH": "9000", "MODSIM_ADMIN_TOKEN": "t0ken"}
    )
    assert svc["ports"] == ["9000:8080"]
    assert svc["volumes"] == ["/srv/fx:/fixtures:ro"]
    assert svc["environment"]["MODSIM_ADMIN_TOKEN"] == "t0ken"


# --- modsim serve with the container's environment, called from a non-loopback address ---------------


@dataclasses.dataclass
class Route:
    """How the test reaches a server that sees it as a remote peer."""

    name: str
    prefix: list[str]  # runs a command where the server runs
    connect: str  # the address the test connects to
    source: str  # the test's (non-loopback) source address: what the server sees
    port: str  # MODSIM_PORT for the server ("0": a free one)


@contextlib.contextmanager
def veth_namespace() -> Iterator[Route]:
    """A network namespace joined to this one by a veth pair, as Docker's bridge joins a container:
    the server listens on 0.0.0.0:8080 inside, the test calls it from the host side's address."""
    tag = os.getpid() % 32768  # one /30 of 198.18.0.0/15 (benchmarking: never routed) per test run
    ns, host_if, ns_if = f"modsim-test-{tag}", f"msh{tag}", f"msn{tag}"
    block = ipaddress.IPv4Address("198.18.0.0") + 4 * tag
    host_ip, ns_ip = str(block + 1), str(block + 2)
    run = ["ip", "netns", "exec", ns]

    def cleanup() -> None:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False)

    cleanup()
    try:
        for cmd in (
            ["ip", "netns", "add", ns],
            ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
            ["ip", "link", "set", ns_if, "netns", ns],
            ["ip", "addr", "add", f"{host_ip}/30", "dev", host_if],
            ["ip", "link", "set", host_if, "up"],
            [*run, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if],
            [*run, "ip", "link", "set", ns_if, "up"],
            [*run, "ip", "link", "set", "lo", "up"],
        ):
            subprocess.run(cmd, capture_output=True, check=True, timeout=30)
        yield Route("veth into a network namespace", run, ns_ip, host_ip, "8080")
    finally:
        cleanup()


def host_address() -> str | None:
    """This machine's first non-loopback IPv4 address on an interface that is up (Linux ioctls:
    no route, DNS or network traffic involved), or None."""
    siocgifflags, siocgifaddr, iff_up = 0x8913, 0x8915, 0x1
    for _, name in sorted(socket.if_nameindex()):
        request = struct.pack("256s", name.encode()[:15])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                flags = struct.unpack("H", fcntl.ioctl(s.fileno(), siocgifflags, request)[16:18])[0]
                addr = socket.inet_ntoa(fcntl.ioctl(s.fileno(), siocgifaddr, request)[20:24])
            except OSError:
                continue  # no IPv4 address on it
        if flags & iff_up and not ipaddress.ip_address(addr).is_loopback:
            return addr
    return None


def call(
    route: Route,
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(route.connect, port, timeout=10, source_address=(route.source, 0))
    try:
        headers = {"Content-Type": content_type} if body is not None else {}
        if token is not None:
            headers["X-Modsim-Token"] = token
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def call_json(route: Route, port: int, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    status, raw = call(route, port, method, path, **kw)
    return status, json.loads(raw)


def serve(route: Route, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    """``modsim serve`` as the image's entrypoint runs it; its port and banner token once listening."""
    entrypoint = json.loads(last("ENTRYPOINT")) + json.loads(last("CMD"))
    assert entrypoint[0] == "modsim"
    with log.open("wb") as out:  # a file, not a pipe: the access log can never block the server
        proc = subprocess.Popen(
            [*route.prefix, sys.executable, "-m", "simulator", *entrypoint[1:]],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        text = log.read_text(encoding="utf-8", errors="replace")
        port = re.search(r"serving on http://[^\s/]+:(\d+)", text)
        token = [line[len(TOKEN_LINE) :].strip() for line in text.splitlines() if line.startswith(TOKEN_LINE)]
        if port and token:
            return proc, int(port.group(1)), token[0]
        assert proc.poll() is None, f"modsim serve exited {proc.returncode}:\n{text[-2000:]}"
        assert time.monotonic() < deadline, f"no banner with a port and a token:\n{text[-2000:]}"
        time.sleep(0.05)


def container_env(port: str) -> dict[str, str]:
    """This environment less any MODSIM_* setting, plus exactly the image's ENV."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSIM_")}
    env.update(image_env())
    env["MODSIM_PORT"] = port
    return env


def run_docker_tour(route: Route, tmp_path: Path) -> None:
    proc, port, token = serve(route, container_env(route.port), tmp_path / f"serve-{route.port}.log")
    try:
        assert len(token) >= 20 and token != "generate"

        # the HEALTHCHECK, run where the server runs, as Docker runs it: no token
        _, argv = healthcheck()
        probe = subprocess.run(
            [*route.prefix, sys.executable, *argv[1:]],
            env={**os.environ, "MODSIM_PORT": str(port)},
            capture_output=True,
            timeout=30,
        )
        assert probe.returncode == 0, probe.stderr[-2000:]

        # health: anyone, and nothing but the status without the token
        assert call_json(route, port, "GET", "/__modsim/health") == (200, {"status": "ok"})
        status, full = call_json(route, port, "GET", "/__modsim/health", token=token)
        assert status == 200 and "baidu" in full["vendors"]

        # the admin API: 401 without the token or with a wrong one
        assert call(route, port, "GET", "/__modsim/journal")[0] == 401
        assert call(route, port, "GET", "/__modsim/journal", token=token + "x")[0] == 401

        # the tour: a Baidu token, face_audit on an image carrying explicit_with_phone
        status, issued = call_json(route, port, "GET", BAIDU_TOKEN)
        assert status == 200 and issued["access_token"].startswith("24.")
        image = base64.b64encode(make_image("explicit_with_phone", "jpeg", (256, 256), 1)).decode()
        form = urllib.parse.urlencode({"configId": "1", "images": image}).encode()
        audit = f"/rest/2.0/solution/v1/face_audit?access_token={issued['access_token']}"
        status, verdict = call_json(
            route, port, "POST", audit, body=form, content_type="application/x-www-form-urlencoded"
        )
        assert status == 200, verdict
        assert (verdict["result"][0]["res_code"], sorted(verdict["result"][0]["res_msg"])) == (1, [101, 301])

        # the journal with the token: the peer is remote, so secrets are masked and reveal is refused
        status, raw = call(route, port, "GET", "/__modsim/journal?vendor=baidu&limit=2", token=token)
        assert status == 200
        entries = json.loads(raw)["entries"]
        assert [(e["operation"], e["status"]) for e in entries] == [("token", 200), ("face_audit", 200)]
        assert entries[1]["scenario"] == ["explicit_with_phone"]
        assert {e["remote"] for e in entries} == {route.source}
        assert b"demo-baidu-secret-key" not in raw
        assert call(route, port, "GET", "/__modsim/journal?reveal=1", token=token)[0] == 403

        # a fault, then the clock
        rule = {
            "vendor": "baidu",
            "operation": "face_audit",
            "first_n": 1,
            "action": {"type": "error", "code": 18},
        }
        faults = json.dumps({"rules": [rule]}).encode()
        assert call(route, port, "POST", "/__modsim/faults", token=token, body=faults)[0] == 200
        kw: dict[str, Any] = {"body": form, "content_type": "application/x-www-form-urlencoded"}
        assert call_json(route, port, "POST", audit, **kw)[1]["error_code"] == 18
        clock = json.dumps({"advance_s": 2592001}).encode()
        assert call(route, port, "POST", "/__modsim/clock", token=token, body=clock)[0] == 200
        assert call_json(route, port, "POST", audit, **kw)[1]["error_code"] == 111  # the token expired

        # docker stop: SIGTERM to PID 1, which must exit cleanly well within Docker's 10 s
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_the_container_environment_gives_the_docker_tour_to_a_remote_caller(tmp_path: Path) -> None:
    """What ``docker run -p 8080:8080 modsim`` does for the host: the host is a remote peer."""
    ran: list[str] = []
    unavailable: list[str] = []
    if os.geteuid() == 0 and shutil.which("ip"):
        try:
            with veth_namespace() as route:
                run_docker_tour(route, tmp_path)
                ran.append(route.name)
        except subprocess.CalledProcessError as exc:  # no CAP_NET_ADMIN here: setting up failed
            unavailable.append(f"network namespace: {exc.cmd} -> {exc.stderr!r}")
    else:
        unavailable.append("network namespace: needs root and ip")
    address = host_address()
    if address is not None:
        route = Route(f"this machine's address {address}", [], address, address, "0")
        run_docker_tour(route, tmp_path)
        ran.append(route.name)
    else:
        unavailable.append("no non-loopback IPv4 address on this machine")
    assert ran, f"no way to call the server from a non-loopback address: {unavailable}"


def test_the_compose_service_serves_the_mounted_fixtures_with_the_given_token(tmp_path: Path) -> None:
    """compose.yaml's environment, its volume's host folder standing in for /fixtures."""
    folder = tmp_path / "my-fixtures"
    folder.mkdir()
    (folder / "mine.yaml").write_text(
        "scenarios:\n  - name: mounted_here\n    description: from the host folder\n    text: ['QQ 123456789']\n",
        encoding="utf-8",
    )
    svc = compose_service(
        {"MODSIM_FIXTURES_DIR": str(folder), "MODSIM_ADMIN_TOKEN": "compose-token-0123456789"}
    )
    host_dir, target, mode = svc["volumes"][0].split(":")
    assert mode == "ro"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSIM_")}
    env.update(image_env())
    env.update({k: str(v) for k, v in svc["environment"].items()})
    assert env["MODSIM_FIXTURES"] == target
    env["MODSIM_FIXTURES"] = host_dir  # the mount, without a container
    env["MODSIM_HOST"], env["MODSIM_PORT"] = "127.0.0.1", "0"
    route = Route("loopback", [], "127.0.0.1", "127.0.0.1", "0")
    proc, port, token = serve(route, env, tmp_path / "compose.log")
    try:
        assert token == "compose-token-0123456789"
        probe_argv = [
            a.replace("127.0.0.1:8080/", f"127.0.0.1:{port}/") for a in svc["healthcheck"]["test"][1:]
        ]
        assert probe_argv[0] == "python"
        probe = subprocess.run([sys.executable, *probe_argv[1:]], capture_output=True, timeout=30)
        assert probe.returncode == 0, probe.stderr[-2000:]
        assert call(route, port, "GET", "/__modsim/scenarios")[0] == 401
        status, listed = call_json(route, port, "GET", "/__modsim/scenarios", token=token)
        assert status == 200
        assert "mounted_here" in {s["name"] for s in listed["scenarios"]}
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_dev_scripts_are_valid_bash() -> None:
    for script in ("scripts/dev/make-base-image.sh", "scripts/dev/docker-tour.sh"):
        proc = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
