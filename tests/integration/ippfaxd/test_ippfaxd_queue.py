"""From the printer into the real fax queue: faxqueued's intake runs our interpreter.

A serial letter printed over IPP is claimed and processed by `faxgate.faxqueued.intake` exactly
as the daemon's worker does (conversion included): three fax jobs with their page counts,
priorities, tags and notification addresses; mode 1 keeps a pending print job for its user; a job
with two page ranges is faxed as exactly the pages they select.
"""

from __future__ import annotations

import json

from ipp_documents import postscript
from ippfaxd_helpers import (
    Printer,
    ipp_request,
    mode,
    operation_attributes,
)

from faxgate import appliance
from faxgate.convert.tiffio import FaxPage, read_fax_pages
from faxgate.faxqueued import intake as queue_intake
from faxgate.ipp.codec import Attribute, IntRange, Message
from faxgate.ipp.constants import Operation, Status, ValueTag
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

SERIAL_LETTER = [
    ["@@+FAX:0991 111@@ @@+TAG:Invoice 1@@ @@+PRIO:100@@", "Dear customer one,"],
    ["page two of letter one"],
    ["@@+FAX:0992222@@ @@+NOTIFY:erp@example.com@@"],
    ["@@+FAX:0993333@@ @@+PRIO:250@@"],
    ["page two of letter three"],
    ["page three of letter three"],
]


def print_and_process(
    printer: Printer,
    pages: list[list[str]],
    gateway_mode: int,
    page_ranges: list[tuple[int, int]] | None = None,
) -> str:
    job_attributes = None
    if page_ranges:
        job_attributes = [Attribute.of("page-ranges", ValueTag.RANGE_OF_INTEGER,
                                       *(IntRange(a, b) for a, b in page_ranges))]  # fmt: skip
    _, response = ipp_request(
        printer.port, Operation.PRINT_JOB,
        operation_attributes(printer.uri, "CORP\\anna", job_name="letters",
                             document_format="application/postscript"),
        postscript(pages), chunked=True, job_attributes=job_attributes,
    )  # fmt: skip
    assert isinstance(response, Message)
    assert response.code == Status.SUCCESSFUL_OK
    settings = load_settings(environ=mode(gateway_mode))
    # the shipped converters, as `python -m faxgate init` puts them into the spool
    printer.spool.seed_mimetype(appliance.rootfs_dir() / "usr/lib/faxgate/mimetype")
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [submission] = queue_intake.claim(ledger, 10)
    return queue_intake.process(printer.spool, settings, submission)


def test_serial_letter_becomes_three_queued_fax_jobs(printer: Printer) -> None:
    assert print_and_process(printer, SERIAL_LETTER, 2) == "done"
    with Ledger.open(printer.spool.ledger_path) as ledger:
        jobs = ledger.query(
            "SELECT number, priority, tag, notify, owner, pages_total, max_tries FROM jobs"
            " ORDER BY id"
        )
    assert [(j["number"], j["pages_total"]) for j in jobs] == [
        ("0991111", 2), ("0992222", 1), ("0993333", 3)
    ]  # fmt: skip
    assert [j["priority"] for j in jobs] == [100, 200, 250]
    assert [j["tag"] for j in jobs] == ["Invoice 1", "letters", "letters"]
    assert [j["notify"] for j in jobs] == [
        "faxmaster@localhost", "erp@example.com", "faxmaster@localhost"
    ]  # fmt: skip
    assert {j["owner"] for j in jobs} == {"anna"}
    assert {j["max_tries"] for j in jobs} == {3}


def test_mode_1_keeps_a_pending_print_job(printer: Printer) -> None:
    assert print_and_process(printer, SERIAL_LETTER, 1) == "held"
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [held] = ledger.query("SELECT owner, title, path, mime_type FROM pending_print_jobs")
        assert ledger.query("SELECT id FROM jobs") == []
    assert (held["owner"], held["title"]) == ("anna", "letters")
    assert held["mime_type"] == "application/postscript"
    assert (printer.spool.docq / held["path"]).read_bytes().startswith(b"%!PS")


def test_mode_2_without_fields_is_rejected_with_a_notification(printer: Printer) -> None:
    assert print_and_process(printer, [["a letter without fields"]], 2) == "rejected"
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [submission] = ledger.query("SELECT state, error FROM submissions")
        owed = ledger.query("SELECT * FROM queue_notifications")
    assert submission["state"] == "rejected"
    assert "no fax number field" in submission["error"]
    assert len(owed) == 1


def fax_pages_of_jobs(spool: Spool) -> dict[str, list[FaxPage]]:
    """The coded pages each queued job will send, by number."""
    with Ledger.open(spool.ledger_path) as ledger:
        rows = ledger.query(
            "SELECT j.number, d.path FROM jobs j JOIN documents d ON d.id = j.document_id"
            " ORDER BY j.id"
        )
    return {row["number"]: read_fax_pages(spool.docq / row["path"]) for row in rows}


def test_two_page_ranges_fax_exactly_the_pages_they_select(printer: Printer) -> None:
    # The same letter printed whole first: its faxes are the reference pages.
    assert print_and_process(printer, SERIAL_LETTER, 2) == "done"
    whole = fax_pages_of_jobs(printer.spool)
    page = [*whole["0991111"], *whole["0992222"], *whole["0993333"]]  # pages 1..6
    assert len(page) == 6
    with Ledger.open(printer.spool.ledger_path) as ledger, ledger.transaction() as conn:
        conn.execute("DELETE FROM jobs")

    # page-ranges 1-2,5-5: letter one, then page 5, which follows it in what was printed (the
    # field on page 4 was not printed): one fax of three pages, in order.
    assert print_and_process(printer, SERIAL_LETTER, 2, [(1, 2), (5, 5)]) == "done"
    assert fax_pages_of_jobs(printer.spool) == {"0991111": [page[0], page[1], page[4]]}
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [job] = ledger.query("SELECT pages_total FROM jobs")
        params = ledger.query("SELECT params FROM submissions ORDER BY id")[-1]["params"]
    assert job["pages_total"] == 3
    assert json.loads(params)["job_attributes"]["page-ranges"] == ["1-2", "5-5"]


def test_page_ranges_out_of_order_are_refused_by_the_printer(printer: Printer) -> None:
    _, response = ipp_request(
        printer.port, Operation.PRINT_JOB,
        operation_attributes(printer.uri, "anna", document_format="application/postscript"),
        postscript(SERIAL_LETTER),
        job_attributes=[Attribute.of("page-ranges", ValueTag.RANGE_OF_INTEGER,
                                     IntRange(5, 5), IntRange(1, 2))],
    )  # fmt: skip
    assert isinstance(response, Message)
    assert response.code == Status.CLIENT_ERROR_BAD_REQUEST
    with Ledger.open(printer.spool.ledger_path) as ledger:
        assert ledger.query("SELECT id FROM submissions") == []
