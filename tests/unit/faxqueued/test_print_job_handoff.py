"""Sending a held print job (client hand-off): once, and held again when it cannot be sent."""

from __future__ import annotations

import time

import pytest

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxqueued import api
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


def hold(spool: Spool, ledger: Ledger) -> int:
    (spool.docq / "print-1-job.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO pending_print_jobs (owner, title, path, mime_type, created_at)"
            " VALUES ('alice', 'Invoice', 'print-1-job.pdf', 'application/pdf', ?)",
            (time.time(),),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def test_a_held_job_is_sent_once(spool: Spool, ledger: Ledger) -> None:
    held = hold(spool, ledger)
    submission = api.send_print_job(spool, ledger, held, ["0991234"], actor="alice")
    row = ledger.query_one("SELECT owner, kind FROM submissions WHERE id = ?", (submission,))
    assert row is not None
    assert (row["owner"], row["kind"]) == ("alice", "upload")
    with pytest.raises(NotFoundError):  # a second click finds nothing to send
        api.send_print_job(spool, ledger, held, ["0991234"], actor="alice")
    assert len(ledger.query("SELECT * FROM submissions")) == 1
    assert not (spool.docq / "print-1-job.pdf").exists()


def test_a_job_that_cannot_be_sent_stays_held(spool: Spool, ledger: Ledger) -> None:
    held = hold(spool, ledger)
    with pytest.raises(FaxgateError, match="not allowed"):
        api.send_print_job(spool, ledger, held, ["112"], actor="alice")
    assert [p.id for p in api.list_print_jobs(ledger)] == [held]
    assert (spool.docq / "print-1-job.pdf").exists()
    assert ledger.query("SELECT * FROM submissions") == []
