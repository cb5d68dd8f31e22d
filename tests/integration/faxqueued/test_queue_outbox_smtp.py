"""The outbox against a real SMTP server (aiosmtpd) on 127.0.0.1: down, up, refusing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from faxgate.mail.outbox import (
    OutboxRunner,
    SmtpConfig,
    enqueue,
    load_state,
    pending_messages,
    read_message,
)
from faxgate.spool.layout import Spool

T0 = 1_700_000_000.0


class Sink:
    """Keeps every message; refuses recipients whose local part is 'nobody'."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.received.append((str(envelope.mail_from), list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


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


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def sink() -> Sink:
    return Sink()


def start(sink: Sink, port: int) -> Controller:
    controller = Controller(sink, hostname="127.0.0.1", port=port, ident="test sink")
    controller.start()
    return controller


@pytest.fixture
def server(sink: Sink, port: int) -> Iterator[Any]:
    controllers: list[Controller] = []

    def up() -> None:
        controllers.append(start(sink, port))

    yield up
    for c in controllers:
        c.stop()


def notice(to: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = "fax@example.com"
    m["To"] = to
    m["Subject"] = "Your fax to 100"
    m.set_content("sent\n")
    return m


def config(port: int) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=port,
        tls="starttls",
        faxmaster="fm@example.com",
        give_up_after=2 * 86400,
    )


def test_mail_waits_while_server_down_and_goes_out_when_up(
    spool: Spool, sink: Sink, port: int, server: Any
) -> None:
    enqueue(spool, notice("alice@example.com"), now=T0)
    runner = OutboxRunner(spool, config(port))
    assert runner.run_once(T0) == 0
    [path] = pending_messages(spool)
    state = load_state(path)
    assert state.attempts == 1
    assert state.next_try_at == T0 + 60
    assert "cannot reach the mail server" in state.last_error
    # Not due yet: no new attempt even once the server is up.
    server()
    assert runner.run_once(T0 + 30) == 0
    assert sink.received == []
    assert runner.run_once(T0 + 61) == 1
    assert pending_messages(spool) == []
    [(mail_from, rcpts, data)] = sink.received
    assert mail_from == "fax@example.com"
    assert rcpts == ["alice@example.com"]
    assert message_from_bytes(data, policy=default)["Subject"] == "Your fax to 100"


def test_refused_recipient_bounces_to_faxmaster(
    spool: Spool, sink: Sink, port: int, server: Any
) -> None:
    server()
    m = notice("alice@example.com")
    m["Cc"] = "nobody@example.com"
    enqueue(spool, m, now=T0)
    runner = OutboxRunner(spool, config(port))
    runner.run_once(T0)
    # alice got it; the bounce for nobody waits in the outbox, then goes to the faxmaster.
    assert [r for _f, r, _d in sink.received] == [["alice@example.com"]]
    runner.run_once(T0 + 1)
    assert [r for _f, r, _d in sink.received][1] == ["fm@example.com"]
    bounce = message_from_bytes(sink.received[1][2], policy=default)
    assert bounce["Subject"] == "Undeliverable fax server mail"
    assert "nobody@example.com" in bounce.as_string()
    assert "no such user" in bounce.as_string()
    assert pending_messages(spool) == []


def test_gives_up_after_the_retry_period_and_bounces(
    spool: Spool, sink: Sink, port: int, server: Any
) -> None:
    enqueue(spool, notice("alice@example.com"), now=T0)
    runner = OutboxRunner(spool, config(port))
    now = T0
    while now < T0 + 2 * 86400 + 5 * 3600:  # past the give-up time plus the longest delay
        runner.run_once(now)
        now += 3600
    # The original is gone; a bounce for the faxmaster waits; it goes out once the server is up.
    [bounce_path] = pending_messages(spool)
    assert read_message(bounce_path)[0].bounce
    server()
    runner.run_once(T0 + 3 * 86400)
    [(_f, rcpts, data)] = sink.received
    assert rcpts == ["fm@example.com"]
    assert b"gave up after 2 days" in data
    assert bounce_path.exists() is False


def test_unreachable_server_defers_every_due_message_in_one_pass(spool: Spool, port: int) -> None:
    first = enqueue(spool, notice("alice@example.com"), now=T0)
    second = enqueue(spool, notice("bob@example.com"), now=T0)
    OutboxRunner(spool, config(port)).run_once(T0)
    for path in (first, second):
        state = load_state(path)
        assert state.attempts == 1
        assert "cannot reach the mail server" in state.last_error
