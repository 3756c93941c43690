"""HTTPS-intercept proxy mode: unmodified SDKs reach the simulator through ``HTTPS_PROXY`` alone.

Every test runs under an egress guard: each name lookup and socket connect in the process is
recorded, and the test fails if anything but the test itself connected, or connected anywhere but
the proxy and the simulator on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aip
import pytest
import requests
from aliyunsdkcore.client import AcsClient
from aliyunsdkgreen.request.v20180509 import ImageSyncScanRequest

from simulator import cli
from simulator.content import make_image
from simulator.proxy import CertificateAuthority, host_matches
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.testing import ThreadedServer
from tests.helpers import BAIDU_API_KEY, BAIDU_APP_ID, BAIDU_SECRET
from tests.vendors.showapi.common import APPID, SECRET, signed

PROXY_ENV = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_ENV = ("NO_PROXY", "no_proxy")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    ca_dir = tmp_path_factory.mktemp("ca")
    server = ThreadedServer(Settings(seed=0, validate_responses=True, proxy_port=0, ca_dir=ca_dir))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(proxied: ThreadedServer) -> Iterator[ThreadedServer]:
    proxied.reset()
    yield proxied
    assert proxied.sim.schema_violations == []


@pytest.fixture
def ca_pem(server: ThreadedServer) -> str:
    assert server.proxy is not None
    return str(server.proxy.ca.cert_path)


@pytest.fixture
def proxy_env(server: ThreadedServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``HTTPS_PROXY`` and ``HTTP_PROXY`` at the proxy; every other proxy setting gone."""
    for name in PROXY_ENV + NO_PROXY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", server.proxy_url)
    monkeypatch.setenv("HTTP_PROXY", server.proxy_url)
    return server.proxy_url


class Egress:
    def __init__(self) -> None:
        self.lookups: list[tuple[str, object]] = []
        self.connects: list[tuple[str, object]] = []


@pytest.fixture(autouse=True)
def egress(monkeypatch: pytest.MonkeyPatch) -> Iterator[Egress]:
    seen = Egress()
    real_getaddrinfo, real_connect, real_connect_ex = (
        socket.getaddrinfo,
        socket.socket.connect,
        socket.socket.connect_ex,
    )

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.lookups.append((threading.current_thread().name, host))
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> None:
        seen.connects.append((threading.current_thread().name, address))
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        seen.connects.append((threading.current_thread().name, address))
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield seen
    me = threading.current_thread().name
    assert [c for c in seen.connects if c[0] != me] == [], "the server side connected somewhere"
    assert [h for _, h in seen.lookups if h not in ("127.0.0.1", "localhost")] == []
    assert [a for _, a in seen.connects if a[0] != "127.0.0.1"] == []


def journal(server: ThreadedServer, vendor: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = server.call(lambda: server.sim.state.journal.query(vendor=vendor))
    return entries


def request_header(entry: dict[str, Any], name: str) -> str:
    return next(v for k, v in entry["exchange"]["request_headers"] if k.lower() == name)


def connect(server: ThreadedServer, target: str) -> tuple[socket.socket, bytes]:
    """A raw ``CONNECT target``: the socket and the proxy's answer head (up to the blank line)."""
    assert server.proxy is not None
    sock = socket.create_connection(("127.0.0.1", server.proxy.port), timeout=5)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head


def read_all(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


# --- the official SDKs, unmodified, through HTTPS_PROXY -------------------------------------------


@pytest.mark.sdk
# the SDK passes verify=False and silences urllib3 at import; pytest's per-test filters undo the latter
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_baidu_sdk_face_audit_through_the_proxy(server: ThreadedServer, proxy_env: str) -> None:
    client = aip.AipImageCensor(BAIDU_APP_ID, BAIDU_API_KEY, BAIDU_SECRET)  # its https:// URLs as shipped
    body = client.faceAudit(make_image("porn", "png"))
    [item] = body["result"]
    assert (item["res_code"], item["res_msg"]) == (1, [301])
    token, audit = journal(server, "baidu")
    assert (token["operation"], token["status"]) == ("token", 200)
    assert (audit["operation"], audit["path"]) == ("face_audit", "/rest/2.0/solution/v1/face_audit")
    assert request_header(audit, "host") == "aip.baidubce.com"
    assert audit["remote"] == "127.0.0.1"


@pytest.mark.sdk
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_reset_fault_resets_the_clients_own_connection(server: ThreadedServer, proxy_env: str) -> None:
    rule = {"vendor": "baidu", "operation": "face_audit", "action": {"type": "reset"}}
    # the admin call goes straight to the simulator: the proxy serves vendor hosts only
    resp = requests.patch(
        f"{server.url}/__modsim/faults", json={"rules": [rule]}, proxies={"http": None}, timeout=5
    )
    assert resp.status_code == 200, resp.text
    client = aip.AipImageCensor(BAIDU_APP_ID, BAIDU_API_KEY, BAIDU_SECRET)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.faceAudit(make_image(None, "png"))
    assert journal(server, "baidu")[-1]["fault"]["action"]["type"] == "reset"


@pytest.mark.sdk
@pytest.mark.parametrize(
    "protocol",
    [
        # the SDK's vendored urllib3 1.x builds its TLS context and checks the host the deprecated ways
        pytest.param(
            "https",
            marks=[
                pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning"),
                pytest.mark.filterwarnings("ignore:ssl.match_hostname():DeprecationWarning"),
            ],
        ),
        "http",
    ],
)
def test_aliyun_sdk_image_sync_scan_through_the_proxy(
    server: ThreadedServer, proxy_env: str, ca_pem: str, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    # aliyunsdkcore verifies TLS against ALIBABA_CLOUD_CA_BUNDLE (else certifi); it reads
    # HTTPS_PROXY / HTTP_PROXY itself and hands them to requests' Session.send.
    monkeypatch.setenv("ALIBABA_CLOUD_CA_BUNDLE", ca_pem)
    client = AcsClient("demo-aliyun-ak", "demo-aliyun-secret", "cn-shanghai")
    request = ImageSyncScanRequest.ImageSyncScanRequest()
    request.set_protocol_type(protocol)
    task = {"dataId": "d1", "url": "https://img.invalid/a.jpg#modsim=porn"}
    request.set_content(json.dumps({"scenes": ["porn"], "tasks": [task]}))
    body = json.loads(client.do_action_with_exception(request))
    assert (body["code"], body["msg"]) == (200, "OK")
    [result] = body["data"][0]["results"]
    assert (result["scene"], result["label"], result["suggestion"]) == ("porn", "porn", "block")
    [entry] = journal(server, "aliyun")
    assert request_header(entry, "host") == "green.cn-shanghai.aliyuncs.com"
    assert entry["path"] == "/green/image/scan"


# --- TLS: the leaf chains to the CA and names exactly the host --------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "aip.baidubce.com",
        "green.cn-shanghai.aliyuncs.com",
        "green-cip.cn-beijing.aliyuncs.com",
        "api.itapi.cn",
        "gateway.market.aioasis.cn",
    ],
)
def test_leaf_chains_to_the_ca_with_the_host_as_san(server: ThreadedServer, ca_pem: str, host: str) -> None:
    sock, head = connect(server, f"{host}:443")
    assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
    ctx = ssl.create_default_context(cafile=ca_pem)  # verifies the chain and the host name
    with ctx.wrap_socket(sock, server_hostname=host) as tls:
        cert = tls.getpeercert()
        assert cert["subjectAltName"] == (("DNS", host),)
        assert dict(x[0] for x in cert["issuer"])["commonName"] == "modsim local CA"
        tls.sendall(f"GET /__modsim/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = read_all(tls)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"] == "ok"


def test_leaf_is_made_once_per_host_and_fails_for_another_name(server: ThreadedServer, ca_pem: str) -> None:
    ders = []
    for _ in range(2):
        sock, _head = connect(server, "route.showapi.com:443")
        with ssl.create_default_context(cafile=ca_pem).wrap_socket(
            sock, server_hostname="route.showapi.com"
        ) as t:
            ders.append(t.getpeercert(binary_form=True))
    assert ders[0] == ders[1]
    sock, _head = connect(server, "route.showapi.com:443")
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        ssl.create_default_context(cafile=ca_pem).wrap_socket(sock, server_hostname="aip.baidubce.com")
    sock.close()


def test_tunnelled_requests_keep_the_connection_alive(server: ThreadedServer, ca_pem: str) -> None:
    sock, _head = connect(server, "aip.baidubce.com:443")
    with ssl.create_default_context(cafile=ca_pem).wrap_socket(
        sock, server_hostname="aip.baidubce.com"
    ) as tls:
        for last in (False, True):
            close = "Connection: close\r\n" if last else ""
            tls.sendall(f"GET /__modsim/health HTTP/1.1\r\nHost: aip.baidubce.com\r\n{close}\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                head += tls.recv(1)
            length = int(
                next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))[15:]
            )
            body = b""
            while len(body) < length:
                body += tls.recv(length - len(body))
            assert head.startswith(b"HTTP/1.1 200 OK") and json.loads(body)["status"] == "ok"


# --- refusals: nothing but the vendors' hosts, and never a connection anywhere ----------------------


@pytest.mark.parametrize(
    "target",
    [
        "example.com:443",
        "aip.baidubce.com:8443",
        "aip.baidubce.com.example.com:443",
        "green.a.b.aliyuncs.com:443",
        "ecs.cn-shanghai.aliyuncs.com:443",
        "127.0.0.1:443",
    ],
)
def test_connect_to_another_host_is_403(server: ThreadedServer, egress: Egress, target: str) -> None:
    sock, head = connect(server, target)
    with sock:
        rest = read_all(sock)
    assert head.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert b"Content-Type: text/plain; charset=utf-8\r\n" in head
    assert (
        rest
        == f"modsim proxy: {target} is not a simulated vendor host (proxy_hosts); nothing is ever forwarded\n".encode()
    )
    assert all(h in ("127.0.0.1", "localhost") for _, h in egress.lookups)


def test_plain_request_to_another_host_is_403(server: ThreadedServer, proxy_env: str, egress: Egress) -> None:
    resp = requests.get("http://example.com/2054-1", timeout=5)
    assert resp.status_code == 403
    assert resp.text.startswith("modsim proxy: example.com is not a simulated vendor host")
    assert journal(server, "showapi") == []
    assert [a for _, a in egress.connects] == [("127.0.0.1", int(proxy_env.rsplit(":", 1)[1]))]


def test_the_proxy_is_not_an_origin_server(server: ThreadedServer) -> None:
    assert server.proxy is not None
    resp = requests.get(f"{server.proxy_url}/__modsim/health", proxies={"http": ""}, timeout=5)
    assert resp.status_code == 400
    assert "send CONNECT host:443 or an absolute http:// URL" in resp.text


# --- plain HTTP (absolute form), as showapi and AI绿洲 are called --------------------------------


def test_plain_http_absolute_form_reaches_showapi(server: ThreadedServer, proxy_env: str) -> None:
    params = signed({"imgUrls": "https://img.invalid/a.png#modsim=porn"}, APPID, SECRET)
    resp = requests.get("http://route.showapi.com/2054-1", params=params, timeout=5)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["showapi_res_code"] == 0, body
    assert resp.headers["Connection"] == "close"  # one request per plain connection: each host is checked
    [entry] = journal(server, "showapi")
    assert (entry["path"], request_header(entry, "host")) == ("/2054-1", "route.showapi.com")
    assert not any(k.lower() == "proxy-connection" for k, _ in entry["exchange"]["request_headers"])


# --- the CA on disk, and `modsim ca` ----------------------------------------------------------------


def test_ca_is_made_once_and_its_key_is_private(tmp_path: Path) -> None:
    first = CertificateAuthority.load_or_create(tmp_path / "ca")
    again = CertificateAuthority.load_or_create(tmp_path / "ca")
    assert first.pem == again.pem
    key = tmp_path / "ca" / "modsim-ca-key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "ca").iterdir()) == ["modsim-ca-key.pem", "modsim-ca.pem"]


def test_ca_command_writes_the_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODSIM_CA_DIR", str(tmp_path / "ca"))
    out = tmp_path / "modsim-ca.pem"
    assert cli.main(["ca", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == str(out)
    assert f"REQUESTS_CA_BUNDLE={out}" in printed and f"curl --cacert {out}" in printed
    assert out.read_bytes() == (tmp_path / "ca" / "modsim-ca.pem").read_bytes()
    assert out.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_serve_flag_and_environment_set_the_proxy_port(monkeypatch: pytest.MonkeyPatch) -> None:
    args = cli.build_parser().parse_args(["serve", "--proxy-port", "8888"])
    settings = cli._settings(args)
    assert isinstance(settings, Settings) and settings.proxy_port == 8888
    monkeypatch.setenv("MODSIM_PROXY_PORT", "0")
    assert Settings.load().proxy_port == 0
    monkeypatch.delenv("MODSIM_PROXY_PORT")
    assert Settings.load().proxy_port is None


@pytest.mark.parametrize(
    ("host", "served"),
    [
        ("aip.baidubce.com", True),
        ("AIP.baidubce.com.", True),
        ("green.aliyuncs.com", True),
        ("green.cn-shanghai.aliyuncs.com", True),
        ("green-cip.cn-shanghai.aliyuncs.com", True),
        ("green..aliyuncs.com", False),
        ("green.cn-shanghai.evil.aliyuncs.com", False),
        ("x.aip.baidubce.com", False),
        ("route.showapi.com.cn", False),
    ],
)
def test_host_patterns(host: str, served: bool) -> None:
    assert any(host_matches(host, p) for p in Sim(Settings()).proxy_hosts) is served
