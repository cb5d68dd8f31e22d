"""The outbox file format, backoff and Maildir delivery (no network)."""

from __future__ import annotations

import itertools
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from faxgate.mail import outbox
from faxgate.mail.outbox import (
    LONGEST_RETRY_S,
    MailError,
    OutboxRunner,
    SmtpConfig,
    backoff,
    enqueue,
    pending_messages,
    read_message,
)
from faxgate.spool.layout import Spool


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    s = Spool(tmp_path / "spool")
    s.ensure()
    return s


def message(to: str = "alice@example.com") -> EmailMessage:
    m = EmailMessage()
    m["From"] = "fax@example.com"
    m["To"] = to
    m["Subject"] = "Fax sent"
    m.set_content("Your fax to 100 was sent.\n")
    return m


def test_backoff_grows_then_caps() -> None:
    delays = [backoff(n) for n in range(1, 12)]
    assert delays[0] == 60
    assert delays[1] == 120
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert delays[-1] == LONGEST_RETRY_S


def test_enqueue_writes_envelope_and_message(spool: Spool) -> None:
    m = message("Alice <alice@example.com>")
    m["Cc"] = "bob@example.com"
    path = enqueue(spool, m, now=1_700_000_000.0)
    assert pending_messages(spool) == [path]
    envelope, data = read_message(path)
    assert envelope.recipients == ["alice@example.com", "bob@example.com"]
    assert envelope.sender == "fax@example.com"
    assert b"Message-ID:" in data
    assert b"Date:" in data
    assert b"Your fax to 100 was sent." in data


def test_enqueue_without_recipient_is_refused(spool: Spool) -> None:
    m = EmailMessage()
    m["Subject"] = "x"
    with pytest.raises(MailError):
        enqueue(spool, m)


def test_no_mail_server_delivers_into_maildir(spool: Spool) -> None:
    enqueue(spool, message())
    enqueue(spool, message("bob@example.com"))
    runner = OutboxRunner(spool, SmtpConfig(host=""))
    assert runner.run_once() == 2
    assert pending_messages(spool) == []
    box = mailbox.Maildir(spool.outbox / "maildir", create=False)
    subjects = sorted(str(m["Delivered-To"]) for m in box)
    assert subjects == ["alice@example.com", "bob@example.com"]
    assert all(m["Subject"] == "Fax sent" for m in box)


def test_unreadable_message_goes_to_bad_and_others_continue(spool: Spool) -> None:
    (spool.outbox / "00000000-broken.msg").write_bytes(b"not json\nrest")
    enqueue(spool, message())
    runner = OutboxRunner(spool, SmtpConfig(host=""))
    assert runner.run_once() == 1
    assert (spool.bad / "00000000-broken.msg").exists()
    assert pending_messages(spool) == []


def test_a_full_disk_leaves_the_mail_queued_not_in_bad(
    spool: Spool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Review finding: any exception parked the message in bad/ for good, so a temporary full
    # disk lost received-fax mails and notifications.
    from email.message import EmailMessage

    from faxgate.spool.atomic import DiskFullError

    message = EmailMessage()
    message["From"] = "fax@localhost"
    message["To"] = "a@example.com"
    message["Subject"] = "received fax"
    message.set_content("x")
    path = outbox.enqueue(spool, message)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise DiskFullError("no space left to write the mail")

    monkeypatch.setattr(outbox, "deliver_to_maildir", disk_full)
    assert outbox.OutboxRunner(spool, outbox.SmtpConfig()).run_once() == 0
    assert path.exists()
    assert list(spool.bad.iterdir()) == []
    monkeypatch.undo()
    assert outbox.OutboxRunner(spool, outbox.SmtpConfig()).run_once() == 1  # space is back
    assert not path.exists()
