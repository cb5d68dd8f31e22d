"""End to end with the real programs: iaxmodemd on the loopback trunk and faxqueued.

`faxctl devices add 100`, send a document to 100 → the job ends done, the fax is received on
another line of the same appliance, and both the received fax (PDF with the right page count)
and the sender's notification land in the Maildir.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from appliance_testing import Programs, maildir, wait_for
from faxgate.faxqueued import api
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


@pytest.fixture
def programs(tmp_path: Path) -> Iterator[Callable[..., Programs]]:
    made: list[Programs] = []

    def make(lines: int = 2, **settings: str) -> Programs:
        p = Programs(tmp_path, lines, **settings)
        p.start("iaxmodemd")
        p.start("faxqueued")
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop_all()


def test_send_to_own_extension_is_done_received_and_mailed(
    programs: Callable[..., Programs],
) -> None:
    # One dial: a failed loopback call fails the test at once, with iaxmodemd's reason.
    p = programs(queue_dials="1")
    spool, env = p.spool, p.env
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


@pytest.mark.timeout(900)
def test_kill_9_at_random_moments_while_20_jobs_run(programs: Callable[..., Programs]) -> None:
    """faxqueued and iaxmodemd are killed (-9) and restarted at random moments; every one of the
    20 jobs still ends done exactly once."""
    seed = int(os.environ.get("FAXGATE_TEST_SEED", time.time()))
    rng = random.Random(seed)
    p = programs(
        lines=8, queue_retry_other="2", queue_retry_protocol="2", queue_dials="30", queue_tries="30"
    )
    numbers = [f"{500 + i}" for i in range(20)]
    with Ledger.open(p.spool.ledger_path) as ledger:
        sid = api.submit_upload(
            p.spool, ledger, [("letter.txt", LETTER.encode())], numbers, notify="alice@example.com"
        )

        def states() -> list[str]:
            return [j.state for j in api.jobs_of_submission(ledger, sid)]

        wait_for(lambda: len(states()) == 20, 60, "20 jobs")
        kills = []
        for program in ("faxqueued", "iaxmodemd", "faxqueued", "iaxmodemd"):
            time.sleep(rng.uniform(2.0, 20.0))
            p.kill9(program)
            kills.append((program, states().count("done")))
            time.sleep(rng.uniform(0.0, 2.0))
            p.start(program)
        wait_for(lambda: states() == ["done"] * 20, 600, f"all done (seed {seed}, kills {kills})")
        jobs = api.jobs_of_submission(ledger, sid)
        done_calls = ledger.query(
            "SELECT job_id, COUNT(*) AS n FROM calls WHERE direction = 'out' AND outcome = 'done'"
            " GROUP BY job_id"
        )
        wait_for(
            lambda: not ledger.query("SELECT id FROM queue_notifications WHERE sent_at IS NULL"),
            60,
            "notifications sent",
        )
        done_notes = ledger.query(
            "SELECT job_id, COUNT(*) AS n FROM queue_notifications WHERE kind = 'done'"
            " GROUP BY job_id"
        )
    assert sorted(j.number for j in jobs) == numbers
    assert {r["job_id"]: r["n"] for r in done_calls} == {j.id: 1 for j in jobs}, seed
    assert {r["job_id"]: r["n"] for r in done_notes} == {j.id: 1 for j in jobs}, seed
