"""The outbox over STARTTLS with authentication, and over implicit TLS, to a real aiosmtpd."""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from faxgate.mail.outbox import (
    OutboxRunner,
    SmtpConfig,
    enqueue,
    load_state,
    pending_messages,
    read_message,
)
from faxgate.spool.layout import Spool


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class Sink:
    def __init__(self) -> None:
        self.sessions: list[dict[str, Any]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        self.sessions.append(
            {"tls": session.ssl is not None, "login": login, "rcpts": list(envelope.rcpt_tos)}
        )
        return "250 OK"


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    s = Spool(tmp_path / "spool")
    s.ensure()
    return s


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def client_context(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def notice() -> EmailMessage:
    m = EmailMessage()
    m["From"] = "fax@example.com"
    m["To"] = "alice@example.com"
    m["Subject"] = "tls"
    m.set_content("x\n")
    return m


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(*certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    yield sink, port
    controller.stop()


def test_starttls_with_login(
    spool: Spool, starttls_server: tuple[Sink, int], certificate: tuple[Path, Path]
) -> None:
    sink, port = starttls_server
    enqueue(spool, notice())
    config = SmtpConfig(
        host="127.0.0.1",
        port=port,
        tls="starttls",
        username="fax",
        password="s3cret",
        ssl_context=client_context(certificate[0]),
    )
    assert OutboxRunner(spool, config).run_once() == 1
    assert sink.sessions == [{"tls": True, "login": b"fax", "rcpts": ["alice@example.com"]}]


def test_wrong_password_keeps_the_mail(
    spool: Spool, starttls_server: tuple[Sink, int], certificate: tuple[Path, Path]
) -> None:
    sink, port = starttls_server
    enqueue(spool, notice())
    config = SmtpConfig(
        host="127.0.0.1",
        port=port,
        tls="starttls",
        username="fax",
        password="wrong",
        ssl_context=client_context(certificate[0]),
    )
    OutboxRunner(spool, config).run_once()
    # 535 is a 5xx: the original becomes a bounce for the faxmaster, which waits in the outbox
    # (behind the same broken login); nothing is lost.
    assert sink.sessions == []
    [waiting] = pending_messages(spool)
    envelope, data = read_message(waiting)
    assert envelope.bounce
    assert envelope.recipients == ["faxmaster@localhost"]
    assert b"535" in data


def test_untrusted_certificate_is_not_accepted(
    spool: Spool, starttls_server: tuple[Sink, int]
) -> None:
    sink, port = starttls_server
    enqueue(spool, notice())
    config = SmtpConfig(
        host="127.0.0.1", port=port, tls="starttls", username="fax", password="s3cret"
    )
    OutboxRunner(spool, config).run_once()
    assert sink.sessions == []
    [waiting] = pending_messages(spool)
    assert "certificate" in load_state(waiting).last_error.lower()


def test_implicit_tls(spool: Spool, certificate: tuple[Path, Path]) -> None:
    sink, port = Sink(), free_port()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, ssl_context=server_context(*certificate)
    )
    controller.start()
    try:
        enqueue(spool, notice())
        # Plain SMTP cannot talk to a TLS port: the mail waits.
        plain = SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=5)
        assert OutboxRunner(spool, plain).run_once() == 0
        config = SmtpConfig(
            host="127.0.0.1", port=port, tls="tls", ssl_context=client_context(certificate[0])
        )
        assert OutboxRunner(spool, config).run_once(now=10**10) == 1
    finally:
        controller.stop()
    assert [s["rcpts"] for s in sink.sessions] == [["alice@example.com"]]
