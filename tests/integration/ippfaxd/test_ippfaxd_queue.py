"""From the printer into the real fax queue: faxqueued's intake runs our interpreter.

A serial letter printed over IPP is claimed and processed by `faxgate.faxqueued.intake` exactly
as the daemon's worker does (conversion included): three fax jobs with their page counts,
priorities, tags and notification addresses; mode 1 keeps a pending print job for its user.
"""

from __future__ import annotations

from ipp_documents import postscript
from ippfaxd_helpers import (
    Printer,
    ipp_request,
    mode,
    operation_attributes,
)

from faxgate import appliance
from faxgate.faxqueued import intake as queue_intake
from faxgate.ipp.codec import Message
from faxgate.ipp.constants import Operation, Status
from faxgate.settings import load_settings
from faxgate.spool.ledger import Ledger

SERIAL_LETTER = [
    ["@@+FAX:0991 111@@ @@+TAG:Invoice 1@@ @@+PRIO:100@@", "Dear customer one,"],
    ["page two of letter one"],
    ["@@+FAX:0992222@@ @@+NOTIFY:erp@example.com@@"],
    ["@@+FAX:0993333@@ @@+PRIO:250@@"],
    ["page two of letter three"],
    ["page three of letter three"],
]


def print_and_process(printer: Printer, pages: list[list[str]], gateway_mode: int) -> str:
    _, response = ipp_request(
        printer.port, Operation.PRINT_JOB,
        operation_attributes(printer.uri, "CORP\\anna", job_name="letters",
                             document_format="application/postscript"),
        postscript(pages), chunked=True,
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
