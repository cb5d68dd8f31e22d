"""The STARTTLS certificate: the admin's own, or a self-signed one made at first start.

The self-signed certificate is made with the `openssl` program (always on a Debian system) into
the spool's etc/ and kept: sending servers that pin it after the first contact see the same one
after a restart.
"""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
from pathlib import Path

from faxgate.errors import FaxgateError
from faxgate.spool.layout import Spool

log = logging.getLogger("smtpfaxd")

SELF_SIGNED_DAYS = 3650


class CertificateError(FaxgateError):
    """The TLS certificate or key cannot be read or made."""


def certificate_paths(spool: Spool, certificate: str, key: str) -> tuple[Path, Path]:
    """The configured paths, or the self-signed pair in the spool's etc/."""
    cert_path = Path(certificate) if certificate else spool.etc / "smtpfaxd-cert.pem"
    key_path = Path(key) if key else spool.etc / "smtpfaxd-key.pem"
    return cert_path, key_path


def ensure_self_signed(cert_path: Path, key_path: Path, hostname: str) -> bool:
    """Make a self-signed certificate when none exists; True when one was made."""
    if cert_path.exists() and key_path.exists():
        return False
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_cert = cert_path.with_name(f".tmp-{cert_path.name}")
    tmp_key = key_path.with_name(f".tmp-{key_path.name}")
    command = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-days", str(SELF_SIGNED_DAYS), "-subj", f"/CN={hostname}",
        "-addext", f"subjectAltName=DNS:{hostname}",
        "-keyout", str(tmp_key), "-out", str(tmp_cert),
    ]  # fmt: skip
    old_umask = os.umask(0o077)  # the key is never readable by others, not even for a moment
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CertificateError(f"cannot make a TLS certificate with openssl: {exc}") from exc
    finally:
        os.umask(old_umask)
    if result.returncode != 0:
        raise CertificateError(f"openssl could not make a TLS certificate: {result.stderr.strip()}")
    os.replace(tmp_key, key_path)
    os.replace(tmp_cert, cert_path)
    log.info("made a self-signed TLS certificate for %s in %s", hostname, cert_path)
    return True


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """A TLS server context for STARTTLS (TLS 1.2 or newer)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(
            f"cannot use the TLS certificate {cert_path} with key {key_path}: {exc}"
        ) from exc
    return context
