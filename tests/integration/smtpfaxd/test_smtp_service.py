"""smtpfaxd with real clients on loopback: swaks and smtplib, plain, STARTTLS and AUTH."""

from __future__ import annotations

import email.policy
import json
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from smtpfaxd_daemon import Daemon

from faxgate import users
from faxgate.settings import load_settings
from faxgate.smtpfaxd.interpret import interpret
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import FaxRequest, InterpretContext

MakeDaemon = Callable[..., Daemon]


def swaks(daemon: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{daemon.port}", "--timeout", "20", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def unverified_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the gateway's first-start certificate is self-signed
    return context


def a_mail(to: str, subject: str = "Test fax", body: str = "Hello fax.\n") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "sender@example.com"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def test_swaks_mail_is_stored_durably_and_interpreted(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    # A matcher that also takes dashes, as people write numbers: they are normalised away.
    daemon = smtpfaxd_factory(spool, faxmail_matcher_fax=r"/^.*@([0-9-]+)\.fax$/i")
    result = swaks(
        daemon, "--from", "alice@example.com", "--to", "Mueller@099-123-4.fax",
        "--header", "Subject: Offer", "--body", "Please find the offer.",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "250 2.0.0 Ok: queued as fax submission 1" in result.stdout
    assert "220 faxgate ESMTP faxgate" in result.stdout  # own banner, no library name
    (row,) = daemon.submissions()
    assert row["kind"] == "mail"
    params = json.loads(str(row["params"]))
    assert params["mail_from"] == "alice@example.com"
    assert params["recipients"][0]["number"] == "0991234"
    assert params["client"] == "127.0.0.1"
    stored = spool.incoming / str(row["path"])
    assert b"Please find the offer." in stored.read_bytes()
    assert stored.read_bytes().startswith(b"Received: from ")

    # The queue's later step, on what was stored: one request for the number promised at RCPT.
    work = spool.tmp / "work"
    work.mkdir()
    ctx = InterpretContext(
        spool=spool, settings=load_settings(), submission_id=1, kind="mail", raw_path=stored,
        params=params, owner=None, work_dir=work,
    )  # fmt: skip
    (request,) = interpret(ctx)  # type: ignore[misc]
    assert isinstance(request, FaxRequest)
    assert [(d.number, d.name) for d in request.destinations] == [("0991234", "Mueller")]
    assert request.notify == "alice@example.com"


def test_each_recipient_is_answered_on_its_own(spool: Spool, smtpfaxd_factory: MakeDaemon) -> None:
    daemon = smtpfaxd_factory(spool)
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.ehlo("client.example.com")
        assert client.mail("a@example.com")[0] == 250
        good = client.rcpt("Mueller@0991234.fax")
        relay = client.rcpt("someone@gmail.com")
        no_number = client.rcpt("Mueller@office.fax")
        blocked = client.rcpt("Police@110.fax")
        assert good[0] == 250
        assert relay[0] == 550
        assert relay[1].startswith(b"5.7.1")
        assert no_number[0] == 550
        assert no_number[1].startswith(b"5.1.1")
        assert b"name@NUMBER.fax" in no_number[1]
        assert blocked[0] == 550
        assert b"110" in blocked[1]
        code, _ = client.data(a_mail("Mueller@0991234.fax").as_bytes(policy=email.policy.SMTP))
        assert code == 250
    (row,) = daemon.submissions()
    recipients = json.loads(str(row["params"]))["recipients"]
    assert [r["address"] for r in recipients] == ["Mueller@0991234.fax"]


def test_only_relay_recipients_means_no_mail(spool: Spool, smtpfaxd_factory: MakeDaemon) -> None:
    daemon = smtpfaxd_factory(spool)
    with (
        smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        client.send_message(a_mail("victim@example.org"))
    assert daemon.submissions() == []


def test_starttls_and_auth_as_an_appliance_user_from_a_foreign_network(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    with Ledger.open(spool.ledger_path) as ledger:
        users.create(ledger, "alice", "correct horse", "user", actor="test")
    # Loopback is not an allowed network here: this client is "foreign" and must authenticate.
    daemon = smtpfaxd_factory(spool, smtp_networks="10.0.0.0/8")
    assert (spool.etc / "smtpfaxd-cert.pem").exists()  # made at first start
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.ehlo("client.example.com")
        assert not client.has_extn("auth")  # never offered in clear text
        code, reply = client.mail("alice@example.com")
        assert code == 550
        assert reply.startswith(b"5.7.1")
        client.rset()
        client.starttls(context=unverified_tls())
        client.ehlo("client.example.com")
        assert "PLAIN" in client.esmtp_features["auth"]
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("alice", "wrong password")
        client.login("alice", "correct horse")
        client.send_message(a_mail("Mueller@0991234.fax"))
    (row,) = daemon.submissions()
    assert row["owner"] == "alice"
    params = json.loads(str(row["params"]))
    assert params["tls"] is True
    assert params["auth_user"] == "alice"


def test_mails_from_many_sessions_at_once_are_each_stored_once(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    """Concurrent mails are stored in batches (one ledger commit for those that arrive
    together): every session still gets its own submission, durable before its 250."""
    import re
    import threading

    daemon = smtpfaxd_factory(spool)
    answers: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        # each from its own loopback address: one address may hold a quarter of the sessions
        with smtplib.SMTP("127.0.0.1", daemon.port, timeout=30,
                          source_address=(f"127.0.0.{20 + number}", 0)) as session:  # fmt: skip
            for index in range(5):
                mail = a_mail(f"batch{number}-{index}@0991234.fax", subject=f"{number}/{index}")
                session.ehlo("client.example.com")
                code, reply = session.mail("sender@example.com")
                assert code == 250
                session.rcpt(mail["To"])
                code, reply = session.data(mail.as_bytes())
                with lock:
                    answers.append(f"{code} {reply.decode()}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 50
    assert all(a.startswith("250 ") for a in answers), answers
    ids = [int(m[1]) for a in answers if (m := re.search(r"submission (\d+)", a))]
    rows = daemon.submissions()
    assert sorted(ids) == sorted(int(str(r["id"])) for r in rows)  # one row per 250, no more
    assert len(set(ids)) == 50
    subjects = set()
    for row in rows:
        data = (spool.incoming / str(row["path"])).read_bytes()
        subjects.add(re.search(rb"Subject: (\S+)", data)[1])  # type: ignore[index]
    assert len(subjects) == 50  # each file holds its own mail


def test_a_failed_tls_handshake_is_one_log_line_and_the_gateway_goes_on(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    daemon = smtpfaxd_factory(spool)
    for after_starttls in (b"QUIT\r\n", b"\x16\x03\x01\x00\x05hello", b""):
        with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as raw:
            reader = raw.makefile("rb")
            reader.readline()
            raw.sendall(b"EHLO client.example.com\r\n")
            while reader.readline()[3:4] != b" ":
                pass
            raw.sendall(b"STARTTLS\r\n")
            assert reader.readline().startswith(b"220")
            raw.sendall(after_starttls)  # plain text, a broken hello, or hanging up
            raw.shutdown(socket.SHUT_WR)
            assert reader.read() == b""  # the gateway closes the connection
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.starttls(context=unverified_tls())
        client.send_message(a_mail("after@0991234.fax"))
    assert len(daemon.submissions()) == 1
    deadline = time.monotonic() + 10
    while daemon.log().count("TLS handshake failed") < 3:
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.1)
    assert "Traceback" not in daemon.log()


def test_sender_address_of_an_appliance_user_makes_the_job_theirs(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    with Ledger.open(spool.ledger_path) as ledger:
        users.create(ledger, "carol", "carols password", "user", "test", email="Carol@Example.com")
    daemon = smtpfaxd_factory(spool)
    for sender in ("carol@example.com", "stranger@example.com"):
        result = swaks(daemon, "--from", sender, "--to", "x@0991234.fax")
        assert result.returncode == 0, result.stdout
    assert [row["owner"] for row in daemon.submissions()] == ["carol", None]


def test_swaks_starttls_auth_login(spool: Spool, smtpfaxd_factory: MakeDaemon) -> None:
    with Ledger.open(spool.ledger_path) as ledger:
        users.create(ledger, "bob", "bobs password", "user", actor="test")
    daemon = smtpfaxd_factory(spool, smtp_auth="required")
    refused = swaks(daemon, "--from", "bob@example.com", "--to", "x@0991234.fax")
    assert "530 5.7.0" in refused.stdout
    accepted = swaks(
        daemon, "--from", "bob@example.com", "--to", "x@0991234.fax", "-tls",
        "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", "bobs password",
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "235" in accepted.stdout
    assert "250 2.0.0 Ok: queued" in accepted.stdout
    assert [row["owner"] for row in daemon.submissions()] == ["bob"]


def test_configured_certificate_is_used_for_starttls(
    spool: Spool, tmp_path: Path, smtpfaxd_factory: MakeDaemon
) -> None:
    cert, key = tmp_path / "company-cert.pem", tmp_path / "company-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=fax.company.test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    daemon = smtpfaxd_factory(
        spool, smtp_tls_certificate=str(cert), smtp_tls_key=str(key)
    )  # fmt: skip
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.starttls(context=unverified_tls())
        assert client.sock is not None
        presented = client.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
    assert presented == ssl.PEM_cert_to_DER_cert(cert.read_text())
    assert not (spool.etc / "smtpfaxd-cert.pem").exists()  # no self-signed one was made


def test_auth_off_is_not_advertised_even_after_tls(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    daemon = smtpfaxd_factory(spool, smtp_auth="off")
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.starttls(context=unverified_tls())
        client.ehlo("client.example.com")
        assert not client.has_extn("auth")
        client.send_message(a_mail("x@0991234.fax"))
    assert len(daemon.submissions()) == 1


def test_relay_auth_parameter_is_tolerated(spool: Spool, smtpfaxd_factory: MakeDaemon) -> None:
    daemon = smtpfaxd_factory(spool)
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.ehlo("relay.example.com")
        for extension in ("size", "8bitmime", "smtputf8", "starttls"):
            assert client.has_extn(extension), extension
        code, _ = client.docmd("MAIL FROM:<a@example.com> AUTH=<> BODY=8BITMIME")
        assert code == 250
        assert client.rcpt("x@0991234.fax")[0] == 250
        assert client.data(a_mail("x@0991234.fax").as_bytes(policy=email.policy.SMTP))[0] == 250
        # An internationalised sender with SMTPUTF8 and an 8-bit body.
        client.command_encoding = "utf-8"
        code, _ = client.docmd("MAIL FROM:<jürgen@exämple.de> SMTPUTF8 BODY=8BITMIME")
        assert code == 250
        assert client.rcpt("x@0991234.fax")[0] == 250
        body = "From: jürgen@exämple.de\r\nSubject: Grüße\r\n\r\nÄnderung\r\n".encode()
        assert client.data(body)[0] == 250
    senders = [json.loads(str(row["params"]))["mail_from"] for row in daemon.submissions()]
    assert senders == ["a@example.com", "jürgen@exämple.de"]


def test_oversize_is_refused_at_mail_from_and_at_data(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    daemon = smtpfaxd_factory(spool, smtp_maxsize="1")
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.ehlo("client.example.com")
        assert client.esmtp_features["size"] == str(1024 * 1024)
        code, reply = client.mail("a@example.com", ["SIZE=2000000"])
        assert code == 552
        assert reply.startswith(b"5.3.4")
        client.rset()
        # A client that does not declare the size is stopped when the data passes the limit.
        assert client.mail("a@example.com")[0] == 250
        assert client.rcpt("x@0991234.fax")[0] == 250
        big = a_mail("x@0991234.fax", body="x" * 70 + "\n")
        big.set_content(("y" * 76 + "\n") * 20000)
        code, _ = client.data(big.as_bytes(policy=email.policy.SMTP))
        assert code == 552
    assert daemon.submissions() == []
    assert list(spool.incoming.iterdir()) == []


def test_sessions_over_the_limit_are_told_to_try_later(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    daemon = smtpfaxd_factory(spool, smtp_maxsessions="2")
    # Three client addresses: one address alone may hold only a quarter of the sessions (at
    # least one), so the global limit shows with several clients.
    first = smtplib.SMTP("127.0.0.1", daemon.port, timeout=20, source_address=("127.0.0.2", 0))
    second = smtplib.SMTP("127.0.0.1", daemon.port, timeout=20, source_address=("127.0.0.3", 0))
    second.starttls(context=unverified_tls())  # TLS re-runs connection_made: still one session
    second.ehlo("second.example.com")
    with pytest.raises(smtplib.SMTPConnectError) as refused:
        smtplib.SMTP("127.0.0.1", daemon.port, timeout=20, source_address=("127.0.0.4", 0))
    assert refused.value.smtp_code == 421
    first.quit()
    second.quit()
    for _ in range(50):  # the server sees the hang-ups a moment later
        try:
            with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as third:
                third.send_message(a_mail("x@0991234.fax"))
            break
        except smtplib.SMTPConnectError:
            time.sleep(0.1)
    assert len(daemon.submissions()) == 1


def test_sigterm_stops_cleanly_even_with_an_idle_client(
    spool: Spool, smtpfaxd_factory: MakeDaemon
) -> None:
    daemon = smtpfaxd_factory(spool)
    idle = smtplib.SMTP("127.0.0.1", daemon.port, timeout=20)
    idle.ehlo("idle.example.com")
    try:
        assert daemon.stop() == 0  # a stop that needed SIGKILL would give -9
    finally:
        idle.close()
    assert "stopping" in daemon.log()


def exact_mail(size: int) -> bytes:
    """A mail of exactly `size` bytes on the wire (CRLF lines)."""
    head = b"From: a@example.com\r\nTo: x@0991234.fax\r\nSubject: big\r\n\r\n"
    line = b"z" * 76 + b"\r\n"
    body_size = size - len(head)
    full, rest = divmod(body_size, len(line))
    tail = b"y" * (rest - 2) + b"\r\n" if rest >= 2 else b""
    data = head + line * full + tail
    return data + b"\r\n" * ((size - len(data)) // 2)


def send_raw(port: int, data: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example.com")
        client.mail("a@example.com")
        client.rcpt("x@0991234.fax")
        return client.data(data)


def test_full_disk_answers_452_leaves_nothing_and_recovers(
    tmp_path: Path, smtpfaxd_factory: MakeDaemon
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], check=True)
    try:
        spool = Spool(disk / "spool")
        spool.ensure()
        daemon = smtpfaxd_factory(spool, smtp_minfree="0", smtp_maxsize="16")

        # A mail that just fits the free space passes the free-space check, but with the
        # Received: line the gateway adds it does not fit: the write itself hits ENOSPC.
        fitting = exact_mail(shutil.disk_usage(spool.incoming).free - 60)
        code, reply = send_raw(daemon.port, fitting)
        assert (code, reply[:5]) == (452, b"4.3.1")
        assert "not stored, no room" in daemon.log()
        # A mail clearly bigger than the free space is refused before anything is written.
        code, reply = send_raw(daemon.port, exact_mail(5_400_000))
        assert (code, reply[:5]) == (452, b"4.3.1")
        assert "the spool is nearly full" in daemon.log()
        assert daemon.submissions() == []
        assert list(spool.incoming.iterdir()) == []
        assert [p.name for p in spool.tmp.iterdir()] == []  # no temp file left behind

        subprocess.run(["mount", "-o", "remount,size=32m", str(disk)], check=True)
        code, _ = send_raw(daemon.port, exact_mail(5_400_000))
        assert code == 250
        (row,) = daemon.submissions()
        assert (spool.incoming / str(row["path"])).stat().st_size > 5_400_000

        # Disk low but not full: the reserve refuses at MAIL FROM already, before any data.
        daemon.stop()
        low = smtpfaxd_factory(spool, smtp_minfree="64")
        with smtplib.SMTP("127.0.0.1", low.port, timeout=30) as client:
            client.ehlo("client.example.com")
            code, reply = client.mail("a@example.com")
        assert (code, reply[:5]) == (452, b"4.3.1")
        low.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_taken_port_is_one_clear_error_and_exit_1(spool: Spool, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = dict(os.environ, FAXGATE_SPOOL=str(spool.root))
        env["FAXGATE_SYS_FAX_CONFIGURE_SMTP_PORT"] = str(port)
        result = subprocess.run(
            [sys.executable, "-m", "faxgate", "smtpfaxd"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 1
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr
