"""HTTPS-intercept proxy mode: ``modsim serve --proxy-port N`` (see docs/proxy.md)."""

from simulator.proxy.ca import CAError, CertificateAuthority
from simulator.proxy.server import ProxyServer, host_matches, serves, start_proxy

__all__ = ["CAError", "CertificateAuthority", "ProxyServer", "host_matches", "serves", "start_proxy"]
