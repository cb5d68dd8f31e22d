"""faxqueued as a real process on a real spool, with iaxmodemd's control side played by
queue_fake_iaxmodemd (the real iaxmodemd end to end is test_queue_end_to_end.py)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from pypdf import PdfReader

from faxgate import devices
from faxgate.appliance import initialise
from faxgate.faxqueued import api
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

sys.path.insert(0, str(Path(__file__).parent))

from queue_fake_iaxmodemd import FakeIaxmodemd

from appliance_testing import maildir, wait_for

TEXT = b"Quarterly figures\n\nAll numbers are up.\n"


class Daemon:
    def __init__(self, spool: Spool, env: dict[str, str], log: Path) -> None:
        self.spool, self.env, self.log = spool, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "faxgate", "faxqueued"],
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            return self.proc.wait(timeout=20)
        return self.proc.returncode


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Callable[..., tuple[Spool, Daemon, FakeIaxmodemd]]]:
    made: list[tuple[Daemon, FakeIaxmodemd]] = []

    def make(
        script: dict[str, list[str]] | None = None,
        call_seconds: float = 0.3,
        refuse: dict[str, int] | None = None,
        **settings: str,
    ) -> tuple[Spool, Daemon, FakeIaxmodemd]:
        spool = Spool(tmp_path / "spool")
        initialise(spool)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
        env["FAXGATE_SPOOL"] = str(spool.root)
        for name, value in settings.items():
            env["FAXGATE_SYS_FAX_CONFIGURE_" + name.upper()] = value
        fake = FakeIaxmodemd(spool, call_seconds=call_seconds, script=script, refuse=refuse)
        fake.start()
        daemon = Daemon(spool, env, tmp_path / "faxqueued.log")
        daemon.start()
        made.append((daemon, fake))
        return spool, daemon, fake

    yield make
    for daemon, fake in made:
        assert daemon.stop() == 0, daemon.log.read_text()[-3000:]
        fake.stop()


def to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if m["To"] == address]


def test_upload_is_sent_received_and_mailed(
    setup: Callable[..., tuple[Spool, Daemon, FakeIaxmodemd]],
) -> None:
    spool, _daemon, fake = setup()
    with Ledger.open(spool.ledger_path) as ledger:
        devices.add(ledger, "100", ["bob@example.com"], actor="test", fmt="inlinegif")
        sid = api.submit_upload(
            spool,
            ledger,
            [("figures.txt", TEXT)],
            ["100", "200"],
            notify="alice@example.com",
            tag="Q3",
        )
        wait_for(lambda: len(api.jobs_of_submission(ledger, sid)) == 2, what="two jobs")
        wait_for(
            lambda: all(j.state == "done" for j in api.jobs_of_submission(ledger, sid)),
            what="jobs done",
        )
        wait_for(lambda: len(maildir(spool)) >= 4, what="four mails")
        jobs = api.jobs_of_submission(ledger, sid)
    mails = maildir(spool)
    notes = to(mails, "alice@example.com")
    assert sorted(m["Subject"] for m in notes) == ["Fax to 100 sent [Q3]", "Fax to 200 sent [Q3]"]
    body = notes[0].get_content()
    assert "Pages sent:    1 of 1" in body
    assert "REMOTE FAX" in body
    # The device's address got the received fax as a PDF of the right page count.
    [received] = to(mails, "bob@example.com")
    # inlinegif: the first page shown as a GIF in the HTML part, the PDF attached.
    assert "image/gif" in [p.get_content_type() for p in received.walk()]
    html = received.get_body(preferencelist=("html",))
    assert html is not None
    assert "cid:" in html.get_content()
    [pdf] = [p for p in received.iter_attachments() if p.get_content_type() == "application/pdf"]
    pdf_path = spool.tmp / "got.pdf"
    pdf_path.write_bytes(pdf.get_content())
    assert len(PdfReader(pdf_path).pages) == jobs[0].pages_total == 1
    # Extension 200 has no device: the faxmaster gets it.
    [unknown] = to(mails, "faxmaster@localhost")
    assert "unknown extension 200" in unknown["Subject"]
    assert sorted(d["number"] for d in fake.dials) == ["100", "200"]
    log_lines = (spool.log / "xferfaxlog").read_text().splitlines()
    assert sorted(line.split("\t")[1] for line in log_lines) == ["RECV", "RECV", "SEND", "SEND"]


def test_busy_destination_is_retried_on_schedule_then_failed(
    setup: Callable[..., tuple[Spool, Daemon, FakeIaxmodemd]],
) -> None:
    spool, _daemon, fake = setup(
        script={"555": ["busy"] * 10}, queue_retry_busy="2", queue_dials="3"
    )
    with Ledger.open(spool.ledger_path) as ledger:
        sid = api.submit_upload(
            spool, ledger, [("a.txt", TEXT)], ["555"], notify="alice@example.com"
        )
        wait_for(
            lambda: [j.state for j in api.jobs_of_submission(ledger, sid)] == ["failed"],
            what="job failed",
        )
        [job] = api.jobs_of_submission(ledger, sid)
        calls = api.get_job(ledger, job.id).calls
    assert job.dials == 3
    assert job.tries == 0
    assert len(fake.dials) == 3
    starts = [c.started_at for c in calls]
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(starts))
    wait_for(lambda: len(to(maildir(spool), "alice@example.com")) == 3, what="3 notifications")
    subjects = sorted(m["Subject"] for m in to(maildir(spool), "alice@example.com"))
    assert subjects == [
        "Fax to 555 failed",
        "Fax to 555 not sent yet, will try again",
        "Fax to 555 not sent yet, will try again",
    ]
    failed = next(m for m in to(maildir(spool), "alice@example.com") if "failed" in m["Subject"])
    assert "the number was busy" in failed.get_content()
    assert "gave up after 3 dials" in failed.get_content()


def test_a_refused_dial_order_is_retried_with_growing_waits_and_counts_nothing(
    setup: Callable[..., tuple[Spool, Daemon, FakeIaxmodemd]],
) -> None:
    spool, daemon, fake = setup(refuse={"556": 2})
    with Ledger.open(spool.ledger_path) as ledger:
        sid = api.submit_upload(spool, ledger, [("a.txt", TEXT)], ["556"])
        wait_for(
            lambda: [j.state for j in api.jobs_of_submission(ledger, sid)] == ["done"],
            what="job done after the refusals",
        )
        [job] = api.jobs_of_submission(ledger, sid)
    assert len(fake.refused) == 2
    assert len(fake.dials) == 1
    assert (job.dials, job.tries) == (1, 1)  # a refused order is no call
    assert fake.refused[1] - fake.refused[0] >= 2.5  # 3 s, then
    assert fake.dialled[0] - fake.refused[1] >= 5.5  # 6 s: the wait doubles
    assert "2 in a row, next try in 6 s" in daemon.log.read_text()


def test_inline_notification_when_faxnotify_says_so(
    setup: Callable[..., tuple[Spool, Daemon, FakeIaxmodemd]],
) -> None:
    spool, _daemon, _fake = setup()
    faxnotify = spool.etc / "FaxNotify"
    wait_for(faxnotify.exists, what="FaxNotify")
    faxnotify.write_text(faxnotify.read_text().replace("#INLINE=true", "INLINE=true"))
    with Ledger.open(spool.ledger_path) as ledger:
        api.submit_upload(spool, ledger, [("a.txt", TEXT)], ["300"], notify="alice@example.com")
        wait_for(lambda: len(to(maildir(spool), "alice@example.com")) == 1, what="notification")
    [note] = to(maildir(spool), "alice@example.com")
    types = [p.get_content_type() for p in note.walk()]
    assert "text/html" in types
    assert "image/png" in types
    assert "application/pdf" in types
    html = note.get_body(preferencelist=("html",))
    assert html is not None
    assert "cid:" in html.get_content()
    assert "http" not in html.get_content()


def test_kill_9_of_faxqueued_and_iaxmodemd_loses_and_duplicates_nothing(
    setup: Callable[..., tuple[Spool, Daemon, FakeIaxmodemd]],
) -> None:
    spool, daemon, fake = setup(call_seconds=1.0, queue_retry_other="1")
    numbers = [f"7{i:02d}" for i in range(8)]
    with Ledger.open(spool.ledger_path) as ledger:
        sid = api.submit_upload(spool, ledger, [("a.txt", TEXT)], numbers, notify="a@example.com")
        wait_for(lambda: len(fake.dials) >= 2, what="first dials")
        daemon.kill9()
        daemon.start()
        wait_for(lambda: len(fake.dials) >= 4, what="dials after restart")
        # iaxmodemd dies mid-call: its calls stay 'active'; a new one comes up.
        fake.stop()
        fake2 = FakeIaxmodemd(spool, call_seconds=0.3)
        fake2.start()
        try:
            wait_for(
                lambda: [j.state for j in api.jobs_of_submission(ledger, sid)] == ["done"] * 8,
                timeout=120,
                what="all done",
            )
            jobs = api.jobs_of_submission(ledger, sid)
            done_calls = ledger.query(
                "SELECT job_id, COUNT(*) AS n FROM calls WHERE outcome = 'done' GROUP BY job_id"
            )
            interrupted = ledger.query("SELECT job_id FROM calls WHERE state = 'interrupted'")
        finally:
            fake2.stop()
    assert sorted(j.number for j in jobs) == numbers
    assert {r["job_id"]: r["n"] for r in done_calls} == {j.id: 1 for j in jobs}
    assert interrupted, "the killed iaxmodemd's calls were counted as interrupted attempts"
    for row in interrupted:
        job = next(j for j in jobs if j.id == row["job_id"])
        assert job.dials >= 2


def test_sighup_reloads_the_notification_format(
    setup: Callable[..., tuple[Spool, Daemon, FakeIaxmodemd]],
) -> None:
    spool, daemon, _fake = setup()
    with Ledger.open(spool.ledger_path) as ledger:
        with ledger.transaction() as conn:
            conn.execute(
                "INSERT INTO settings_applied (key, value, applied_at) VALUES (?, ?, ?)",
                ("sys.fax.configure.notify.format", '"inline"', time.time()),
            )
        assert daemon.proc is not None
        wait_for(lambda: "faxqueued running" in daemon.log.read_text(), what="start")
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "settings reloaded" in daemon.log.read_text(), what="reload")
        api.submit_upload(spool, ledger, [("a.txt", TEXT)], ["300"], notify="alice@example.com")
        wait_for(lambda: len(to(maildir(spool), "alice@example.com")) == 1, what="notification")
    [note] = to(maildir(spool), "alice@example.com")
    assert "application/pdf" in [p.get_content_type() for p in note.walk()]
