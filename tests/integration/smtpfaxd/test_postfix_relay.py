"""A real Postfix as the company mail server relays `*.fax` mail to smtpfaxd (Exchange stand-in)."""

from __future__ import annotations

import json
import smtplib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from postfix_env import Postfix, available, free_port, make_root
from smtpfaxd_daemon import Daemon

from faxgate.appliance import rootfs_dir
from faxgate.settings import load_settings
from faxgate.smtpfaxd.interpret import interpret
from faxgate.spool.layout import Spool
from faxgate.spool.requests import FaxRequest, InterpretContext

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
MakeDaemon = Callable[..., Daemon]

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))


@pytest.fixture
def company_mail_server() -> Iterator[Callable[[int], Postfix]]:
    started: list[Postfix] = []

    def start(gateway_port: int) -> Postfix:
        server = Postfix(make_root(), free_port(), gateway_port)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


def submit(server: Postfix, sender: str, recipients: list[str], data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as client:
        client.ehlo("workstation.company.test")
        refused = client.sendmail(sender, recipients, data)
        assert refused == {}


def test_postfix_relays_a_fax_mail_end_to_end_into_a_submission(
    spool: Spool, smtpfaxd_factory: MakeDaemon, company_mail_server: Callable[[int], Postfix]
) -> None:
    spool.seed_mimetype(rootfs_dir() / "usr/lib/faxgate/mimetype")
    gateway = smtpfaxd_factory(spool)
    postfix = company_mail_server(gateway.port)
    raw = (CORPUS / "thunderbird-plain-pdf.eml").read_bytes()
    submit(postfix, "jonas.weber@example.org", ["Buchhaltung@0991234.fax"], raw)
    log = postfix.wait_for_log("status=sent")
    assert "250 2.0.0 Ok: queued as fax submission 1" in log
    assert "Trusted TLS connection" in log or "TLS connection established" in log

    (row,) = gateway.submissions()
    params = json.loads(str(row["params"]))
    assert params["helo"] == "mail.company.test"  # it came through Postfix
    assert params["tls"] is True  # Postfix used STARTTLS, as Exchange does when offered
    assert params["mail_from"] == "jonas.weber@example.org"
    stored = (spool.incoming / str(row["path"])).read_bytes()
    assert b"3b1f2a4e-9c51-4d0e-8f7a-2d6c0b1e5a77@example.org" in stored  # the original mail

    work = spool.tmp / "work"
    work.mkdir()
    ctx = InterpretContext(
        spool=spool, settings=load_settings(), submission_id=int(str(row["id"])), kind="mail",
        raw_path=spool.incoming / str(row["path"]), params=params, owner=None, work_dir=work,
    )  # fmt: skip
    (request,) = interpret(ctx)  # type: ignore[misc]
    assert isinstance(request, FaxRequest)
    assert [(d.number, d.name) for d in request.destinations] == [("0991234", "Buchhaltung")]
    assert [p.description for p in request.parts] == ["subject and text", "Invoice-4711.pdf"]


def test_postfix_bounces_a_refused_recipient(
    spool: Spool, smtpfaxd_factory: MakeDaemon, company_mail_server: Callable[[int], Postfix]
) -> None:
    gateway = smtpfaxd_factory(spool)
    postfix = company_mail_server(gateway.port)
    submit(postfix, "jonas@example.org", ["Mueller@office.fax"], b"Subject: x\r\n\r\nhi\r\n")
    log = postfix.wait_for_log("status=bounced")
    assert "550 5.1.1" in log
    assert gateway.submissions() == []


def test_postfix_defers_on_a_full_disk_and_delivers_after_recovery(
    tmp_path: Path,
    smtpfaxd_factory: MakeDaemon,
    company_mail_server: Callable[[int], Postfix],
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], check=True)
    try:
        spool = Spool(disk / "spool")
        spool.ensure()
        gateway = smtpfaxd_factory(spool, smtp_minfree="0")
        postfix = company_mail_server(gateway.port)
        body = b"Subject: big scan\r\n\r\n" + (b"z" * 76 + b"\r\n") * 70_000  # about 5.5 MB
        submit(postfix, "jonas@example.org", ["Scan@0991234.fax"], body)
        log = postfix.wait_for_log("status=deferred")
        assert "452 4.3.1" in log
        assert gateway.submissions() == []
        assert list(spool.incoming.iterdir()) == []

        subprocess.run(["mount", "-o", "remount,size=32m", str(disk)], check=True)
        postfix.wait_for_log("status=sent")
        (row,) = gateway.submissions()
        assert (spool.incoming / str(row["path"])).stat().st_size > 5_000_000
        gateway.stop()
        postfix.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
