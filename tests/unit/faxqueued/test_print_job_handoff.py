"""Sending a held print job (client hand-off): once, held again when it cannot be sent, and
with only the pages it was printed with (IPP page-ranges)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxqueued import api, intake
from faxgate.settings import load_settings
from faxgate.spool import intake as spool_intake
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import (
    Destination,
    DocumentPart,
    FaxRequest,
    InterpretContext,
    PageRanges,
    PendingPrintJob,
    format_pages,
    parse_pages,
)


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


def test_page_ranges_are_stored_as_text_and_read_back() -> None:
    assert format_pages(((1, 2), (5, 5))) == "1-2,5-5"
    assert format_pages(()) is None
    assert parse_pages("1-2,5-5") == ((1, 2), (5, 5))
    assert parse_pages(None) == ()
    assert parse_pages("0-2, x,4-1, 7-9") == ((7, 9),)


def hold_through_intake(
    spool: Spool, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, pages: PageRanges
) -> int:
    """A print submission the interpreter holds with `pages`, processed as faxqueued does."""

    def held(ctx: InterpretContext) -> PendingPrintJob:
        document = DocumentPart(ctx.raw_path, "application/pdf")
        return PendingPrintJob("alice", document, "Letters", "alice@x", pages=pages)

    monkeypatch.setattr(intake, "load_interpreter", lambda kind: held)
    spool_intake.accept(spool, ledger, "print", b"%PDF-1.4 letters", {}, owner="alice")
    [claimed] = intake.claim(ledger, 1)
    assert intake.process(spool, load_settings(spool, ledger), claimed) == "held"
    [info] = api.list_print_jobs(ledger)
    return info.id


def test_a_held_job_keeps_its_pages_and_sends_only_them(
    spool: Spool, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_through_intake(spool, ledger, monkeypatch, ((1, 2), (5, 5)))
    [info] = api.list_print_jobs(ledger)
    assert info.pages == "1-2,5-5"
    assert info.as_dict()["pages"] == "1-2,5-5"
    # the whole file is kept: the pages are picked when it is converted for sending
    assert (spool.docq / info.path).read_bytes() == b"%PDF-1.4 letters"
    submission = api.send_print_job(spool, ledger, held, ["0991234"], actor="alice")
    row = ledger.query_one("SELECT kind, params FROM submissions WHERE id = ?", (submission,))
    assert row is not None
    assert row["kind"] == "upload"
    assert json.loads(row["params"])["pages"] == ["1-2,5-5"]


def test_a_held_job_held_again_keeps_its_pages(
    spool: Spool, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_through_intake(spool, ledger, monkeypatch, ((3, 4),))
    with pytest.raises(FaxgateError, match="not allowed"):
        api.send_print_job(spool, ledger, held, ["112"], actor="alice")
    assert [(p.id, p.pages) for p in api.list_print_jobs(ledger)] == [(held, "3-4")]


def test_a_held_job_without_pages_sends_the_whole_file(
    spool: Spool, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_through_intake(spool, ledger, monkeypatch, ())
    assert [p.pages for p in api.list_print_jobs(ledger)] == [None]
    submission = api.send_print_job(spool, ledger, held, ["0991234"], actor="alice")
    row = ledger.query_one("SELECT params FROM submissions WHERE id = ?", (submission,))
    assert row is not None
    assert "pages" not in json.loads(row["params"])


def upload(params: dict[str, object]) -> intake.Submission:
    return intake.Submission(1, "upload", "x", json.dumps(params), None)


def test_upload_parts_are_narrowed_to_their_pages() -> None:
    a = DocumentPart(Path("a.pdf"), "application/pdf", "a")
    b = DocumentPart(Path("b.ps"), "application/postscript", "b")
    request = FaxRequest([Destination("0991234")], [a, b], priority=100, max_tries=3)
    [narrowed] = intake.selected_pages(upload({"pages": ["1-2,5-5", None]}), [request])
    assert narrowed.parts == [
        DocumentPart(Path("a.pdf"), "application/pdf", "a", 1, 2),
        DocumentPart(Path("a.pdf"), "application/pdf", "a", 5, 5),
        b,
    ]
    assert narrowed.destinations == request.destinations
    # no pages named (or not an upload): the parts as they are
    for submission in (
        upload({}),
        upload({"pages": [None]}),
        intake.Submission(1, "print", "x", '{"pages": ["1-1"]}', None),
    ):
        assert intake.selected_pages(submission, [request]) == [request]
