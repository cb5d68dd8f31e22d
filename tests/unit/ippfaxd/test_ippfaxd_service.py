"""The printer's operations without HTTP: captured ipptool requests in, IPP responses out."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.ipp.codec import Attribute, AttributeGroup, Message, decode_message, encode_message
from faxgate.ipp.constants import GroupTag, JobState, Operation, Status, ValueTag
from faxgate.ippfaxd.jobs import JobStore
from faxgate.ippfaxd.service import OPEN_JOB_TIMEOUT, Caller, PrinterConfig, PrinterService
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ipp"
CALLER = Caller(address="127.0.0.1", host="printer.example:631")
URI = "ipp://whatever-host:631/printers/sendfax"


@pytest.fixture
def service(spool: Spool, ledger: Ledger) -> PrinterService:
    return PrinterService(spool, JobStore(ledger), PrinterConfig(uuid="urn:uuid:0"), started_at=0.0)


def send(service: PrinterService, raw: bytes) -> Message:
    return decode_message(service.handle(raw, CALLER))


def fixture(name: str) -> bytes:
    return (FIXTURES / f"ipptool-{name}.bin").read_bytes()


@pytest.mark.parametrize(
    ("capture", "status"),
    [
        ("get-printer-attributes-01", Status.CLIENT_ERROR_BAD_REQUEST),  # request-id 0
        ("get-printer-attributes-02", Status.CLIENT_ERROR_BAD_REQUEST),  # no attributes
        ("get-printer-attributes-03", Status.CLIENT_ERROR_BAD_REQUEST),  # no language
        ("get-printer-attributes-04", Status.CLIENT_ERROR_BAD_REQUEST),  # no charset
        ("get-printer-attributes-05", Status.CLIENT_ERROR_BAD_REQUEST),  # wrong order
        ("get-printer-attributes-06", Status.SUCCESSFUL_OK),
        ("get-printer-attributes-07", Status.SERVER_ERROR_VERSION_NOT_SUPPORTED),  # 0.0
        ("get-printer-attributes-08", Status.CLIENT_ERROR_BAD_REQUEST),  # no printer-uri
    ],
)
def test_rfc8011_request_checks(service: PrinterService, capture: str, status: Status) -> None:
    raw = fixture(capture)
    response = send(service, raw)
    assert response.code == status
    assert response.request_id == decode_message(raw).request_id
    charset = response.operation_attributes.attributes[0]
    assert (charset.name, charset.first) == ("attributes-charset", "utf-8")


def test_truncated_request_is_a_bad_request_not_a_crash(service: PrinterService) -> None:
    raw = fixture("print-job-01")
    response = send(service, raw[:40])
    assert response.code == Status.CLIENT_ERROR_BAD_REQUEST
    assert response.request_id == decode_message(raw).request_id


def request(operation: int, *extra: Attribute, data: bytes = b"") -> bytes:
    attributes = [
        Attribute.of("attributes-charset", ValueTag.CHARSET, "utf-8"),
        Attribute.of("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
        Attribute.of("printer-uri", ValueTag.URI, URI),
        Attribute.of("requesting-user-name", ValueTag.NAME, "anna"),
        *extra,
    ]
    return encode_message(
        Message((1, 1), operation, 7, [AttributeGroup(GroupTag.OPERATION, attributes)], data)
    )


def printer_names(response: Message) -> list[str]:
    group = response.group(GroupTag.PRINTER)
    assert group is not None
    return [attribute.name for attribute in group.attributes]


def test_requested_attributes_and_groups(service: PrinterService) -> None:
    keyword = ValueTag.KEYWORD
    one = send(service, request(Operation.GET_PRINTER_ATTRIBUTES,
               Attribute.of("requested-attributes", keyword, "printer-uri-supported")))  # fmt: skip
    assert printer_names(one) == ["printer-uri-supported"]
    group = one.group(GroupTag.PRINTER)
    assert group is not None
    assert group.attributes[0].first == "ipp://printer.example:631/printers/sendfax"

    template = printer_names(send(service, request(Operation.GET_PRINTER_ATTRIBUTES,
                             Attribute.of("requested-attributes", keyword, "job-template"))))  # fmt: skip
    assert "media-supported" in template
    assert "printer-name" not in template

    everything = printer_names(send(service, request(Operation.GET_PRINTER_ATTRIBUTES)))
    assert "media-col-database" not in everything  # only when asked for by name
    assert {"printer-name", "media-supported", "printer-uuid", "mopria-certified"} <= set(
        everything
    )


def job_value(response: Message, name: str) -> object:
    group = response.group(GroupTag.JOB)
    assert group is not None
    attribute = group.get(name)
    assert attribute is not None
    return attribute.first


def test_job_life_cycle_and_its_rules(service: PrinterService, spool: Spool) -> None:
    integer = ValueTag.INTEGER
    created = send(service, request(Operation.CREATE_JOB))
    job_id = job_value(created, "job-id")
    assert job_value(created, "job-state") == JobState.PENDING
    missing_last = send(service, request(Operation.SEND_DOCUMENT,
                        Attribute.of("job-id", integer, job_id), data=b"%!PS\n"))  # fmt: skip
    assert missing_last.code == Status.CLIENT_ERROR_BAD_REQUEST
    sent = send(service, request(
        Operation.SEND_DOCUMENT, Attribute.of("job-id", integer, job_id),
        Attribute.of("last-document", ValueTag.BOOLEAN, True), data=b"%!PS\nshowpage\n"))  # fmt: skip
    assert sent.code == Status.SUCCESSFUL_OK
    assert job_value(sent, "job-state") == JobState.COMPLETED
    assert len(list(spool.incoming.iterdir())) == 1
    cancel = send(service, request(Operation.CANCEL_JOB, Attribute.of("job-id", integer, job_id)))
    assert cancel.code == Status.CLIENT_ERROR_NOT_POSSIBLE
    unknown = send(service, request(Operation.GET_JOB_ATTRIBUTES,
                   Attribute.of("job-id", integer, 999)))  # fmt: skip
    assert unknown.code == Status.CLIENT_ERROR_NOT_FOUND

    jobs = send(service, request(Operation.GET_JOBS, Attribute.of("which-jobs", ValueTag.KEYWORD,
                                                                   "completed")))  # fmt: skip
    groups = jobs.groups_of(GroupTag.JOB)
    assert len(groups) == 1
    assert [a.name for a in groups[0].attributes] == ["job-id", "job-uri"]


def test_cancel_a_job_that_has_no_document_yet(service: PrinterService) -> None:
    created = send(service, request(Operation.CREATE_JOB))
    job = Attribute.of("job-id", ValueTag.INTEGER, job_value(created, "job-id"))
    assert send(service, request(Operation.CANCEL_JOB, job)).code == Status.SUCCESSFUL_OK
    after = send(service, request(Operation.GET_JOB_ATTRIBUTES, job))
    assert job_value(after, "job-state") == JobState.CANCELED


def test_unsupported_format_and_compression(service: PrinterService) -> None:
    wrong = send(service, request(Operation.PRINT_JOB, Attribute.of(
        "document-format", ValueTag.MIME_MEDIA_TYPE, "application/msword"), data=b"x"))  # fmt: skip
    assert wrong.code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED
    assert wrong.group(GroupTag.UNSUPPORTED) is not None
    gzip = send(service, request(Operation.PRINT_JOB, Attribute.of(
        "compression", ValueTag.KEYWORD, "gzip"), data=b"x"))  # fmt: skip
    assert gzip.code == Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED


def test_other_printer_paths_and_operations(service: PrinterService) -> None:
    other = request(Operation.GET_PRINTER_ATTRIBUTES).replace(
        b"/printers/sendfax", b"/printers/xxxxxxx"
    )
    assert send(service, other).code == Status.CLIENT_ERROR_NOT_FOUND
    assert send(service, request(Operation.PAUSE_PRINTER)).code == (
        Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED
    )


def test_job_state_follows_the_submission_and_its_faxes(
    service: PrinterService, ledger: Ledger
) -> None:
    def print_one() -> int:
        response = send(service, request(Operation.PRINT_JOB, data=b"%!PS\nshowpage\n"))
        job_id = job_value(response, "job-id")
        assert isinstance(job_id, int)
        return job_id

    def state_and_message(job_id: int) -> tuple[object, object]:
        response = send(service, request(Operation.GET_JOB_ATTRIBUTES,
                                         Attribute.of("job-id", ValueTag.INTEGER, job_id)))  # fmt: skip
        return job_value(response, "job-state"), job_value(response, "job-state-message")

    def submission_of(job_id: int) -> int:
        row = ledger.query_one("SELECT submission_id FROM ipp_jobs WHERE id = ?", (job_id,))
        assert row is not None
        return int(row[0])

    held, faxed, rejected = print_one(), print_one(), print_one()
    assert state_and_message(held) == (JobState.COMPLETED, "handed to the fax queue")
    with ledger.transaction() as conn:  # what faxqueued's intake and dispatch record
        conn.execute("UPDATE submissions SET state = 'held' WHERE id = ?", (submission_of(held),))
        conn.execute("UPDATE submissions SET state = 'done' WHERE id = ?", (submission_of(faxed),))
        for number, state in (("1", "done"), ("2", "failed"), ("3", "sleeping")):
            conn.execute(
                "INSERT INTO jobs (submission_id, number, state, send_at, kill_at, created_at,"
                " updated_at) VALUES (?, ?, ?, 0, 0, 0, 0)",
                (submission_of(faxed), number, state),
            )
        conn.execute(
            "UPDATE submissions SET state = 'rejected', error = 'no fax number field' WHERE id = ?",
            (submission_of(rejected),),
        )
    state, message = state_and_message(held)
    assert state == JobState.COMPLETED
    assert "waiting for the fax number" in str(message)
    assert state_and_message(faxed) == (JobState.COMPLETED, "3 faxes: 1 sent, 1 failed, 1 waiting")
    assert state_and_message(rejected) == (JobState.ABORTED, "no fax number field")


def test_jobs_left_open_are_aborted_after_the_timeout(spool: Spool, ledger: Ledger) -> None:
    now = [1000.0]
    service = PrinterService(spool, JobStore(ledger, clock=lambda: now[0]),
                             PrinterConfig(uuid="urn:uuid:0"), started_at=0.0,
                             clock=lambda: now[0])  # fmt: skip
    created = send(service, request(Operation.CREATE_JOB))
    job = Attribute.of("job-id", ValueTag.INTEGER, job_value(created, "job-id"))
    now[0] += OPEN_JOB_TIMEOUT - 1
    send(service, request(Operation.GET_JOBS))
    assert job_value(send(service, request(Operation.GET_JOB_ATTRIBUTES, job)), "job-state") == (
        JobState.PENDING
    )
    now[0] += 2
    send(service, request(Operation.GET_PRINTER_ATTRIBUTES))
    after = send(service, request(Operation.GET_JOB_ATTRIBUTES, job))
    assert job_value(after, "job-state") == JobState.ABORTED
    assert job_value(after, "job-state-message") == "no document arrived in time"


def test_print_job_without_a_document_is_refused_without_leaving_a_job(
    service: PrinterService, ledger: Ledger
) -> None:
    assert send(service, request(Operation.PRINT_JOB)).code == Status.CLIENT_ERROR_BAD_REQUEST
    assert ledger.query("SELECT id FROM ipp_jobs") == []
