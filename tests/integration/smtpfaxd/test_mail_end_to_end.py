"""End to end: a mail to test@100.fax through smtpfaxd, faxqueued and iaxmodemd's loopback trunk.

The mail (Thunderbird, text + 2-page PDF) becomes a 3-page fax in faxmail mode 0 (the cover page
with subject and text, then the PDF), is received on another line of the appliance with DNID 100,
routed to fax device 100 and mailed to its address; the sender gets the "sent" notification.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import re
import smtplib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from smtpfaxd_daemon import free_port

from appliance_testing import free_udp_base, maildir, wait_for
from faxgate.appliance import initialise
from faxgate.faxqueued import api
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

HAVE_IAXMODEMD = importlib.util.find_spec("faxgate.iaxmodemd.main") is not None
HAVE_SPANDSP = ctypes.util.find_library("spandsp") is not None
CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "mail"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_IAXMODEMD, reason="iaxmodemd is not part of this checkout"),
    pytest.mark.skipif(not HAVE_SPANDSP, reason="libspandsp is not installed"),
]


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[tuple[Spool, dict[str, str], int]]:
    spool = Spool(tmp_path / "spool")
    initialise(spool)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
    env["FAXGATE_SPOOL"] = str(spool.root)
    env["FAXGATE_SYS_FAX_CONFIGURE_LINES_COUNT"] = "2"
    env["FAXGATE_SYS_FAX_CONFIGURE_LINES_BASEPORT"] = str(free_udp_base(2))
    smtp_port = free_port()
    env["FAXGATE_SYS_FAX_CONFIGURE_SMTP_PORT"] = str(smtp_port)
    processes = []
    for program in ("iaxmodemd", "faxqueued", "smtpfaxd"):
        log = (tmp_path / f"{program}.log").open("wb")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "faxgate", program], env=env, stdout=log, stderr=log
            )
        )
    wait_for(lambda: _listening(smtp_port), 30, "smtpfaxd to listen")
    yield spool, env, smtp_port
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=20)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_mail_to_own_extension_becomes_a_three_page_fax_delivered_to_the_device(
    appliance: tuple[Spool, dict[str, str], int],
) -> None:
    spool, env, smtp_port = appliance
    subprocess.run(
        [sys.executable, "-m", "faxgate", "faxctl", "devices", "add", "100",
         "--email", "bob@example.com"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    raw = (CORPUS / "thunderbird-plain-pdf.eml").read_bytes()  # text + 2-page PDF
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
        client.ehlo("mail.company.test")
        assert client.mail("alice@example.com")[0] == 250
        assert client.rcpt("test@100.fax")[0] == 250
        code, reply = client.data(raw)
    assert code == 250
    found = re.search(rb"fax submission (\d+)", reply)
    assert found is not None
    submission = int(found.group(1))

    with Ledger.open(spool.ledger_path) as ledger:
        wait_for(
            lambda: (
                [j.state for j in api.jobs_of_submission(ledger, submission)]
                in (["done"], ["failed"])
            ),
            400,
            "the fax job to finish",
        )
        [job] = api.jobs_of_submission(ledger, submission)
        assert job.state == "done", job.last_error
        assert job.pages_total == 3  # cover page with subject and text + the 2-page PDF
        wait_for(lambda: len(maildir(spool)) >= 2, 60, "the received fax and the notification")
    mails = maildir(spool)
    [received] = [m for m in mails if m["To"] == "bob@example.com"]
    [pdf] = [p for p in received.iter_attachments() if p.get_content_type() == "application/pdf"]
    out = spool.tmp / "received.pdf"
    out.write_bytes(pdf.get_content())
    assert len(PdfReader(out).pages) == 3
    assert [m for m in mails if m["To"] == "alice@example.com"], "the sender is notified"
