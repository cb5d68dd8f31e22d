"""Every page range of an IPP job counts: the printer keeps them all, the interpreter searches
and faxes exactly the pages they select (pages past the end select nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faxgate.ipp.codec import (
    Attribute,
    AttributeGroup,
    IntRange,
    Message,
    decode_message,
    encode_message,
)
from faxgate.ipp.constants import GroupTag, Operation, Status, ValueTag
from faxgate.ippfaxd.interpret import (
    describe_pages,
    interpret,
    page_ranges,
    parts_for,
    runs,
    selected_pages,
)
from faxgate.ippfaxd.jobs import JobStore
from faxgate.ippfaxd.service import Caller, PrinterConfig, PrinterService
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import DocumentPart, InterpretContext, PendingPrintJob

CALLER = Caller(address="127.0.0.1", host="printer.example:631")


def stored(*values: str) -> dict[str, object]:
    return {"job_attributes": {"page-ranges": list(values)}}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, []),
        ({"job_attributes": {}}, []),
        (stored("3-4"), [(3, 4)]),
        (stored("1-2", "5-5"), [(1, 2), (5, 5)]),
        # not from ippfaxd (it refuses these): sorted and joined, no page twice
        (stored("5-5", "1-2"), [(1, 2), (5, 5)]),
        (stored("1-4", "3-6", "9-9"), [(1, 6), (9, 9)]),
        (stored("1-2", "3-3"), [(1, 3)]),
        (stored("0-2", "x", "4-1", "7-8"), [(7, 8)]),
    ],
)
def test_page_ranges_are_all_read(
    params: dict[str, object], expected: list[tuple[int, int]]
) -> None:
    assert page_ranges(params) == expected


def test_selected_pages_follow_the_ranges_and_stop_at_the_last_page() -> None:
    assert selected_pages([], 3) == [1, 2, 3]
    assert selected_pages([(1, 2), (5, 5)], 6) == [1, 2, 5]
    assert selected_pages([(2, 3), (5, 99)], 6) == [2, 3, 5, 6]
    assert selected_pages([(7, 9)], 6) == []


def test_pages_become_one_part_per_run() -> None:
    assert runs([1, 2, 5]) == [(1, 2), (5, 5)]
    assert runs([4]) == [(4, 4)]
    assert runs([]) == []
    assert describe_pages([1, 2, 5, 7, 8]) == "1-2,5-5,7-8"
    document = DocumentPart(Path("/x.pdf"), "application/pdf", "letters")
    assert parts_for(document, [1, 2, 5]) == [
        DocumentPart(Path("/x.pdf"), "application/pdf", "letters", 1, 2),
        DocumentPart(Path("/x.pdf"), "application/pdf", "letters", 5, 5),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [(stored("1-2", "5-5"), ((1, 2), (5, 5))), (stored("3-4"), ((3, 4),)), ({}, ())],
)
def test_a_held_job_keeps_the_whole_file_and_every_range(
    spool: Spool,
    tmp_path: Path,
    params: dict[str, object],
    expected: tuple[tuple[int, int], ...],
) -> None:
    raw = tmp_path / "job.prn"
    raw.write_bytes(b"%PDF-1.4 not read in mode 1")
    ctx = InterpretContext(
        spool=spool,
        settings=load_settings(environ={"FAXGATE_SYS_FAX_CONFIGURE_FAXPRINT_MODE": "1"}),
        submission_id=1, kind="print", raw_path=raw, owner="anna", work_dir=tmp_path,
        params={"mime_type": "application/pdf", "job_name": "letters", **params},
    )  # fmt: skip
    held = interpret(ctx)
    assert isinstance(held, PendingPrintJob)
    # the file whole (in mode 1 nobody counted its pages); the ranges say what is faxed
    assert held.document == DocumentPart(raw, "application/pdf", "letters")
    assert held.pages == expected
    decision = (spool.log / "sendfax.log").read_text()
    assert decision.endswith(" (pages 1-2,5-5)\n") == (len(expected) == 2)


@pytest.fixture
def service(spool: Spool, ledger: Ledger) -> PrinterService:
    return PrinterService(spool, JobStore(ledger), PrinterConfig(uuid="urn:uuid:0"), started_at=0.0)


def job_request(operation: int, pairs: list[tuple[int, int]], data: bytes = b"") -> bytes:
    operation_group = AttributeGroup(GroupTag.OPERATION, [
        Attribute.of("attributes-charset", ValueTag.CHARSET, "utf-8"),
        Attribute.of("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
        Attribute.of("printer-uri", ValueTag.URI, "ipp://localhost/printers/sendfax"),
        Attribute.of("requesting-user-name", ValueTag.NAME, "anna"),
    ])  # fmt: skip
    job = AttributeGroup(GroupTag.JOB, [Attribute.of(
        "page-ranges", ValueTag.RANGE_OF_INTEGER, *(IntRange(a, b) for a, b in pairs))])  # fmt: skip
    return encode_message(Message((2, 0), operation, 3, [operation_group, job], data))


def send(service: PrinterService, raw: bytes) -> Message:
    return decode_message(service.handle(raw, CALLER))


def test_the_printer_keeps_every_range_with_the_job(service: PrinterService, spool: Spool) -> None:
    response = send(service, job_request(Operation.PRINT_JOB, [(1, 2), (5, 5)], b"%!PS\n"))
    assert response.code == Status.SUCCESSFUL_OK
    with Ledger.open(spool.ledger_path) as ledger:
        [row] = ledger.query("SELECT params FROM submissions")
    assert json.loads(row["params"])["job_attributes"]["page-ranges"] == ["1-2", "5-5"]
    assert page_ranges(json.loads(row["params"])) == [(1, 2), (5, 5)]


@pytest.mark.parametrize("operation", [Operation.VALIDATE_JOB, Operation.PRINT_JOB])
def test_ranges_out_of_order_are_refused_before_a_job_exists(
    service: PrinterService, spool: Spool, operation: int
) -> None:
    response = send(service, job_request(operation, [(5, 5), (1, 2)], b"%!PS\n"))
    assert response.code == Status.CLIENT_ERROR_BAD_REQUEST
    unsupported = response.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert unsupported.get("page-ranges") is not None
    with Ledger.open(spool.ledger_path) as ledger:
        assert ledger.query("SELECT id FROM ipp_jobs") == []


def test_the_printer_says_it_supports_page_ranges(service: PrinterService) -> None:
    response = send(service, encode_message(Message((2, 0), Operation.GET_PRINTER_ATTRIBUTES, 4, [
        AttributeGroup(GroupTag.OPERATION, [
            Attribute.of("attributes-charset", ValueTag.CHARSET, "utf-8"),
            Attribute.of("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
            Attribute.of("printer-uri", ValueTag.URI, "ipp://localhost/printers/sendfax"),
            Attribute.of("requested-attributes", ValueTag.KEYWORD, "page-ranges-supported"),
        ])])))  # fmt: skip
    printer = response.group(GroupTag.PRINTER)
    assert printer is not None
    supported = printer.get("page-ranges-supported")
    assert supported is not None
    assert (supported.tag, supported.first) == (ValueTag.BOOLEAN, True)
