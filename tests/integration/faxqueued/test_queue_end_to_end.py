"""End to end with the real programs: iaxmodemd on the loopback trunk and faxqueued.

`faxctl devices add 100`, send a document to 100 → the job ends done, the fax is received on
another line of the same appliance, and both the received fax (PDF with the right page count)
and the sender's notification land in the Maildir.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from pypdf import PdfReader

from faxgate.appliance import initialise
from faxgate.faxqueued import api
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

HAVE_IAXMODEMD = importlib.util.find_spec("faxgate.iaxmodemd.main") is not None
HAVE_SPANDSP = ctypes.util.find_library("spandsp") is not None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_IAXMODEMD,
        reason="iaxmodemd (faxgate.iaxmodemd.main) is not "
        "part of this checkout yet: the loopback end-to-end test needs it",
    ),
    pytest.mark.skipif(not HAVE_SPANDSP, reason="libspandsp is not installed"),
]

LETTER = "\n".join(["Dear customer,", "", *(f"Line {i} of the letter." for i in range(40))])


def free_udp_base(count: int) -> int:
    """A base port with `count` free UDP ports after it (lines use base + i - 1)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            base: int = probe.getsockname()[1]
        if base + count >= 65000:
            continue
        try:
            held = []
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return base
    raise RuntimeError("no free UDP port range")


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[tuple[Spool, dict[str, str]]]:
    spool = Spool(tmp_path / "spool")
    initialise(spool)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
    env["FAXGATE_SPOOL"] = str(spool.root)
    env["FAXGATE_SYS_FAX_CONFIGURE_LINES_COUNT"] = "2"
    env["FAXGATE_SYS_FAX_CONFIGURE_LINES_BASEPORT"] = str(free_udp_base(2))
    # One dial: a failed loopback call fails the test at once, with iaxmodemd's reason.
    env["FAXGATE_SYS_FAX_CONFIGURE_QUEUE_DIALS"] = "1"
    procs = []
    for program in ("iaxmodemd", "faxqueued"):
        log = (tmp_path / f"{program}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "faxgate", program], env=env, stdout=log, stderr=log
            )
        )
    yield spool, env
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=20)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def maildir(spool: Spool) -> list[EmailMessage]:
    new = spool.outbox / "maildir" / "new"
    found: list[EmailMessage] = []
    for path in sorted(new.iterdir()) if new.exists() else []:
        message = message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def test_send_to_own_extension_is_done_received_and_mailed(
    appliance: tuple[Spool, dict[str, str]],
) -> None:
    spool, env = appliance
    subprocess.run(
        [
            sys.executable,
            "-m",
            "faxgate",
            "faxctl",
            "devices",
            "add",
            "100",
            "--email",
            "bob@example.com",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    with Ledger.open(spool.ledger_path) as ledger:
        sid = api.submit_upload(
            spool,
            ledger,
            [("letter.txt", LETTER.encode())],
            ["100"],
            notify="alice@example.com",
            tag="e2e",
        )
        wait_for(
            lambda: (
                [j.state for j in api.jobs_of_submission(ledger, sid)] in (["done"], ["failed"])
            ),
            240,
            "the job to finish",
        )
        [job] = api.jobs_of_submission(ledger, sid)
        assert job.state == "done", f"the loopback call failed: {job.last_error}"
        wait_for(lambda: len(maildir(spool)) >= 2, 60, "two mails")
    mails = maildir(spool)
    [received] = [m for m in mails if m["To"] == "bob@example.com"]
    [pdf] = [p for p in received.iter_attachments() if p.get_content_type() == "application/pdf"]
    out = spool.tmp / "received.pdf"
    out.write_bytes(pdf.get_content())
    assert len(PdfReader(out).pages) == job.pages_total
    [note] = [m for m in mails if m["To"] == "alice@example.com"]
    assert note["Subject"] == "Fax to 100 sent [e2e]"
