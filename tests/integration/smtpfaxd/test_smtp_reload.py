"""Applied settings reach a running smtpfaxd on SIGHUP: the documented NUMBER@mydomain.de form."""

from __future__ import annotations

import signal
import smtplib
import time
from collections.abc import Callable

from smtpfaxd_daemon import Daemon

from faxgate.settings import store
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


def rcpt_code(daemon: Daemon, address: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.ehlo("client.example.com")
        client.mail("a@example.com")
        return client.rcpt(address)


def test_sighup_switches_to_the_number_at_company_domain_form(
    spool: Spool, smtpfaxd_factory: Callable[..., Daemon]
) -> None:
    daemon = smtpfaxd_factory(spool)
    assert rcpt_code(daemon, "009912700619@mydomain.de")[0] == 550
    with Ledger.open(spool.ledger_path) as ledger:
        store.save(ledger, "sys.fax.configure.faxmail.matcher.fax", r"/||(\d+)@.*/", actor="test")
        store.save(ledger, "sys.fax.configure.faxmail.domains", "mydomain.de", actor="test")
        result = store.apply(ledger, actor="test")
    assert "smtpfaxd" in result.reload  # the apply step tells smtpfaxd to reload, not restart
    daemon.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "settings reloaded" not in daemon.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    code, reply = rcpt_code(daemon, "009912700619@mydomain.de")
    assert code == 250
    assert b"009912700619" in reply
    code, reply = rcpt_code(daemon, "Mueller@0991234.fax")
    assert (code, reply[:5]) == (550, b"5.7.1")  # .fax is no longer a fax domain here
