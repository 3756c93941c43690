"""The simulator's own certificate authority and the per-host leaf certificates it signs.

The CA is made once and kept in ``Settings.ca_dir``: ``modsim-ca.pem`` (the certificate clients
trust) and ``modsim-ca-key.pem`` (its private key, mode 0600). Both are EC P-256 (fast to make;
every TLS client the SDKs use accepts it). Leaf certificates are made in memory, one per host, all
sharing one process-wide key, and never written anywhere but a private temporary file that lives
only while ``ssl`` loads it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import ssl
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT_FILE = "modsim-ca.pem"
CA_KEY_FILE = "modsim-ca-key.pem"
CA_COMMON_NAME = "modsim local CA"
CA_VALIDITY = dt.timedelta(days=3650)
#: below the 398 days browsers and Apple's TLS stack accept for a leaf
LEAF_VALIDITY = dt.timedelta(days=397)
#: leaves start a day early so a client whose clock is a little behind still accepts them
BACKDATE = dt.timedelta(days=1)


class CAError(Exception):
    """The CA directory holds something unusable (a key that does not match the certificate, ...)."""


class CertificateAuthority:
    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, cert_path: Path) -> None:
        self.cert = cert
        self.key = key
        #: the PEM file clients should trust
        self.cert_path = cert_path
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._leaves: dict[str, x509.Certificate] = {}
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    @classmethod
    def load_or_create(cls, ca_dir: Path | str) -> CertificateAuthority:
        """The CA kept in ``ca_dir``, made (and the directory too, mode 0700) on first use.

        Concurrent first uses (two ``modsim serve``, parallel test workers) agree on one CA: the files
        are written to temporary names and linked into place, and whoever links second reads the winner.
        """
        ca_dir = Path(ca_dir).expanduser()
        ca_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        cert_path, key_path = ca_dir / CA_CERT_FILE, ca_dir / CA_KEY_FILE
        if not key_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            _publish(key_path, _key_pem(key), 0o600)
        key = _load_key(key_path)
        if not cert_path.exists():
            _publish(cert_path, make_ca_cert(key).public_bytes(serialization.Encoding.PEM), 0o644)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.public_key() != key.public_key():
            raise CAError(f"{cert_path} was not made with {key_path}; remove both to make a new CA")
        if cert.not_valid_after_utc <= dt.datetime.now(dt.UTC):
            raise CAError(f"{cert_path} expired on {cert.not_valid_after_utc:%Y-%m-%d}; remove it to renew")
        return cls(cert, key, cert_path)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def leaf(self, host: str) -> x509.Certificate:
        """The leaf certificate for ``host`` (made once per process; SAN = exactly that host)."""
        with self._lock:
            cert = self._leaves.get(host)
            if cert is None:
                cert = self._leaves[host] = make_leaf_cert(host, self._leaf_key, self.cert, self.key)
            return cert

    def server_context(self, host: str) -> ssl.SSLContext:
        """A server-side TLS context presenting ``host``'s leaf and the CA (cached per host)."""
        with self._lock:
            ctx = self._contexts.get(host)
        if ctx is not None:
            return ctx
        leaf = self.leaf(host)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.set_alpn_protocols(["http/1.1"])
        chain = leaf.public_bytes(serialization.Encoding.PEM) + self.pem
        with _private_file(_key_pem(self._leaf_key) + chain) as path:
            ctx.load_cert_chain(path)
        with self._lock:
            return self._contexts.setdefault(host, ctx)


def make_ca_cert(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "modsim"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )


def make_leaf_cert(
    host: str,
    key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + LEAF_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CAError(f"{path} is not an EC private key; remove it and {CA_CERT_FILE} to make a new CA")
    return key


def _publish(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` unless it appears meanwhile (then the other writer's file stays)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


@contextlib.contextmanager
def _private_file(data: bytes) -> Iterator[str]:
    fd, tmp = tempfile.mkstemp(prefix="modsim-leaf-", suffix=".pem")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield tmp
    finally:
        os.unlink(tmp)
