"""The mail gateway is not an open relay, and its secrets stay out of its log.

A real smtpfaxd on loopback. Relay tricks (percent hack, source routes, quoted local parts,
look-alike domains, address literals) are refused at RCPT or, where the address really is a
fax address, accepted only as a number of digits; nothing refused is ever stored. With
loopback outside `smtp.networks`, an unauthenticated client can store nothing at all.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from email.message import EmailMessage

import pytest
from faults_appliance import Appliance, Program

from faxgate import users

RELAY_ATTEMPTS = [
    "someone@example.com",
    "someone@example.com.",
    "someone%example.com@0991234.fax",
    "@example.com:someone@0991234.fax",
    '"someone@example.com"@0991234.fax',
    "someone@0991234.fax.example.com",
    "someone@fax.example.com",
    "someone@examplefax",
    "someone@[127.0.0.1]",
    "someone@localhost",
    "someone@0991234.fax@example.com",
    "postmaster@example.com",
    "someone@0991234.faxx",
]
PASSWORD = "Corr3ct-Horse-Battery"
WRONG = "Wr0ng-Guess-4711"


def unverified_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the gateway's first-start certificate is self-signed
    return context


def a_mail(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "sender@example.com"
    message["To"] = to
    message["Subject"] = "relay test"
    message.set_content("Hello.\n")
    return message


@pytest.fixture(scope="module")
def smtp(module_appliance: Appliance) -> Program:
    with module_appliance.ledger() as ledger:
        users.create(ledger, "alice", PASSWORD, "user", actor="test")
    return module_appliance.start("smtpfaxd")


def stored_recipients(appliance: Appliance) -> list[dict[str, str]]:
    with appliance.ledger() as ledger:
        rows = ledger.query("SELECT params FROM submissions WHERE kind = 'mail'")
    found: list[dict[str, str]] = []
    for row in rows:
        found.extend(json.loads(str(row["params"])).get("recipients", []))
    return found


@pytest.mark.parametrize("address", RELAY_ATTEMPTS)
def test_relay_attempt_is_refused_or_only_a_fax_number(
    module_appliance: Appliance, smtp: Program, address: str
) -> None:
    before = len(stored_recipients(module_appliance))
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=20) as client:
        client.ehlo("client.example.com")
        assert client.mail("sender@example.com")[0] == 250
        code, reply = client.rcpt(address)
        if code == 250:
            client.data(a_mail(address).as_bytes())
    after = stored_recipients(module_appliance)[before:]
    if code != 250:
        assert 500 <= code < 600, reply
        assert after == []
        return
    # accepted: then it can only be a fax to digits under .fax, never mail to another host
    assert len(after) == 1
    assert after[0]["number"].isdigit()
    domain = address.rpartition("@")[2].rstrip(".").lower()
    assert domain.endswith(".fax")


def test_nothing_is_stored_from_a_foreign_network_without_auth(appliance: Appliance) -> None:
    program = appliance.start("smtpfaxd", smtp_networks="192.0.2.0/24")
    with smtplib.SMTP("127.0.0.1", program.port, timeout=20) as client:
        client.ehlo("client.example.com")
        code, _ = client.mail("sender@example.com")
        assert code == 550
        with pytest.raises(smtplib.SMTPException):
            client.sendmail(
                "sender@example.com", ["x@0991234.fax"], a_mail("x@0991234.fax").as_bytes()
            )
    with smtplib.SMTP("127.0.0.1", program.port, timeout=20) as client:
        client.starttls(context=unverified_tls())
        client.ehlo("client.example.com")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("alice", WRONG)
        code, _ = client.mail("sender@example.com")
        assert code == 550  # a failed AUTH leaves the client unauthenticated
    assert appliance.count("SELECT count(*) FROM submissions") == 0
    assert list(appliance.spool.incoming.iterdir()) == []


def test_passwords_never_reach_the_log(module_appliance: Appliance, smtp: Program) -> None:
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=20) as client:
        client.starttls(context=unverified_tls())
        client.ehlo("client.example.com")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("alice", WRONG)
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=20) as client:
        client.starttls(context=unverified_tls())
        client.ehlo("client.example.com")
        client.login("alice", PASSWORD)
        client.send_message(a_mail("x@0991234.fax"))
    time.sleep(0.5)
    log = smtp.log()
    assert "alice" in log  # the sessions are logged, by user name
    assert WRONG not in log
    assert PASSWORD not in log


def auth_failures_until_refused(port: int, attempts: int) -> tuple[int, int]:
    """(failed AUTHs answered 535, attempts refused some other way) over fresh connections."""
    failed = refused = 0
    for _ in range(attempts):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as client:
                client.starttls(context=unverified_tls())
                client.ehlo("client.example.com")
                client.login("alice", WRONG)
        except smtplib.SMTPAuthenticationError as exc:
            if exc.smtp_code == 535:
                failed += 1
            else:
                refused += 1
        except (smtplib.SMTPException, OSError):
            refused += 1
    return failed, refused


def test_auth_guessing_from_one_client_is_slowed_or_refused(
    module_appliance: Appliance, smtp: Program
) -> None:
    failed, refused = auth_failures_until_refused(smtp.port, 12)
    assert refused > 0, f"all {failed} wrong passwords were simply answered 535"
