"""From the printer into the real fax queue: faxqueued's intake runs our interpreter.

A serial letter printed over IPP is claimed and processed by `faxgate.faxqueued.intake` exactly
as the daemon's worker does (conversion included): three fax jobs with their page counts,
priorities, tags and notification addresses; mode 1 keeps a pending print job for its user; a job
with two page ranges is faxed as exactly the pages they select, with control fields and as a held
job its user sends later.
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
from faxgate.faxqueued import api
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


def reference_pages(printer: Printer) -> list[FaxPage]:
    """The letter's six pages as faxed when printed whole (its jobs are removed again)."""
    assert print_and_process(printer, SERIAL_LETTER, 2) == "done"
    whole = fax_pages_of_jobs(printer.spool)
    page = [*whole["0991111"], *whole["0992222"], *whole["0993333"]]  # pages 1..6
    assert len(page) == 6
    with Ledger.open(printer.spool.ledger_path) as ledger, ledger.transaction() as conn:
        conn.execute("DELETE FROM jobs")
    return page


def test_two_page_ranges_fax_exactly_the_pages_they_select(printer: Printer) -> None:
    page = reference_pages(printer)

    # page-ranges 1-2,5-5: letter one, then page 5, which follows it in what was printed (the
    # field on page 4 was not printed): one fax of three pages, in order.
    assert print_and_process(printer, SERIAL_LETTER, 2, [(1, 2), (5, 5)]) == "done"
    assert fax_pages_of_jobs(printer.spool) == {"0991111": [page[0], page[1], page[4]]}
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [job] = ledger.query("SELECT pages_total FROM jobs")
        params = ledger.query("SELECT params FROM submissions ORDER BY id")[-1]["params"]
    assert job["pages_total"] == 3
    assert json.loads(params)["job_attributes"]["page-ranges"] == ["1-2", "5-5"]


def test_a_held_job_with_two_page_ranges_is_sent_as_exactly_those_pages(printer: Printer) -> None:
    page = reference_pages(printer)
    # mode 1: no fields are searched, the job waits for anna with the pages she printed
    assert print_and_process(printer, SERIAL_LETTER, 1, [(1, 2), (5, 5)]) == "held"
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [held] = api.list_print_jobs(ledger, "anna")
        assert held.pages == "1-2,5-5"
        api.send_print_job(printer.spool, ledger, held.id, ["0994444"], actor="anna")
        [sent] = queue_intake.claim(ledger, 10)
    assert sent.kind == "upload"
    assert queue_intake.process(printer.spool, load_settings(environ=mode(1)), sent) == "done"
    assert fax_pages_of_jobs(printer.spool) == {"0994444": [page[0], page[1], page[4]]}
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [job] = ledger.query("SELECT pages_total, owner, skipped FROM jobs")
        assert api.list_print_jobs(ledger) == []
    assert (job["pages_total"], job["owner"], job["skipped"]) == (3, "anna", "[]")


def send_held(printer: Printer) -> str:
    """Send the one held job to 0994444 and process it as faxqueued does; its end state."""
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [held] = api.list_print_jobs(ledger)
        api.send_print_job(printer.spool, ledger, held.id, ["0994444"], actor="anna")
        [sent] = queue_intake.claim(ledger, 10)
    return queue_intake.process(printer.spool, load_settings(environ=mode(1)), sent)


def test_a_held_job_ranges_past_its_last_page_are_found_when_it_is_sent(printer: Printer) -> None:
    assert print_and_process(printer, SERIAL_LETTER, 1, [(6, 6), (9, 9)]) == "held"
    assert send_held(printer) == "done"
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [job] = ledger.query("SELECT pages_total, skipped FROM jobs")
    assert job["pages_total"] == 1
    assert "pages 9-9 asked, it has 6" in job["skipped"]

    assert print_and_process(printer, SERIAL_LETTER, 1, [(8, 9)]) == "held"
    assert send_held(printer) == "rejected"
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [submission] = ledger.query("SELECT error FROM submissions ORDER BY id DESC LIMIT 1")
    assert "nothing could be faxed" in submission["error"]


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
