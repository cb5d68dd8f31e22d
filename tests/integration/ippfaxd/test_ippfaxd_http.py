"""The printer over real HTTP: a Windows-shaped job, several workers, access policy, Basic auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ipp_documents import postscript
from ippfaxd_helpers import (
    Printer,
    interpret_submission,
    ipp_request,
    mode,
    operation_attributes,
    start_printer,
    stop_printer,
    submissions,
    wait_for_submissions,
)

from faxgate import users
from faxgate.ipp.codec import Attribute, Message
from faxgate.ipp.constants import GroupTag, JobState, Operation, Status, ValueTag
from faxgate.spool.ledger import Ledger

PJL_POSTSCRIPT = (
    b'\x1b%-12345X@PJL JOB NAME="Invoice"\r\n@PJL SET USERNAME="anna"\r\n'
    b"@PJL ENTER LANGUAGE=POSTSCRIPT\r\n"
    + postscript([["@@+FAX:0991 234@@ @@+TAG:Invoice 42@@"]])
    + b"\x1b%-12345X@PJL EOJ\r\n\x1b%-12345X"
)


def attribute(message: Message, group: int, name: str) -> Attribute:
    found = message.group(group)
    assert found is not None
    value = found.get(name)
    assert value is not None, name
    return value


def test_windows_shaped_job_is_accepted(printer: Printer, tmp_path: Path) -> None:
    # Windows' IPP class driver: http:// printer-uri with another host name, Mopria
    # questions, octet-stream PostScript wrapped in PJL, chunked, DOMAIN\user.
    uri = f"http://FAXSERVER.corp.example:{printer.port}/printers/sendfax"
    status, response = ipp_request(printer.port, Operation.GET_PRINTER_ATTRIBUTES, [
        *operation_attributes(uri, "CORP\\anna")[:3],
        Attribute.of("requested-attributes", ValueTag.KEYWORD, "printer-device-id",
                     "mopria-certified", "document-format-preferred", "printer-uuid",
                     "document-format-supported", "media-col-database"),
    ], chunked=True)  # fmt: skip
    assert status == 200
    assert isinstance(response, Message)
    assert response.code == Status.SUCCESSFUL_OK
    assert attribute(response, GroupTag.PRINTER, "mopria-certified").first
    assert attribute(response, GroupTag.PRINTER, "document-format-preferred").first == (
        "application/pdf"
    )
    assert str(attribute(response, GroupTag.PRINTER, "printer-uuid").first).startswith("urn:uuid:")
    formats = [v.data for v in attribute(response, GroupTag.PRINTER,
                                         "document-format-supported").values]  # fmt: skip
    assert {"application/pdf", "application/postscript", "application/octet-stream"} <= set(formats)
    assert len(attribute(response, GroupTag.PRINTER, "media-col-database").values) == 2

    status, response = ipp_request(
        printer.port, Operation.PRINT_JOB,
        operation_attributes(uri, "CORP\\Anna", job_name="Invoice",
                             document_format="application/octet-stream"),
        PJL_POSTSCRIPT, chunked=True, headers={"Host": f"faxserver.corp.example:{printer.port}"},
    )  # fmt: skip
    assert isinstance(response, Message)
    assert response.code == Status.SUCCESSFUL_OK
    assert attribute(response, GroupTag.JOB, "job-state").first == JobState.COMPLETED
    # URIs handed out name the host the client connected to (its Host header)
    job_uri = str(attribute(response, GroupTag.JOB, "job-uri").first)
    assert job_uri.startswith(f"ipp://faxserver.corp.example:{printer.port}/printers/sendfax/")

    [row] = wait_for_submissions(printer.spool, 1)
    assert row["kind"] == "print"
    assert row["owner"] == "anna"
    assert (printer.spool.incoming / row["path"]).read_bytes() == PJL_POSTSCRIPT
    result = interpret_submission(printer.spool, row["id"], mode(2))
    assert isinstance(result, list)
    assert [d.number for d in result[0].destinations] == ["0991234"]
    assert result[0].tag == "Invoice 42"
    assert result[0].owner == "anna"


def test_several_workers_agree_on_jobs(printer: Printer) -> None:
    _, created = ipp_request(printer.port, Operation.CREATE_JOB,
                                  operation_attributes(printer.uri, job_name="two-step"))  # fmt: skip
    assert isinstance(created, Message)
    job_id = attribute(created, GroupTag.JOB, "job-id").first
    # every request is its own connection: gunicorn hands them to both workers
    for _ in range(12):
        _, response = ipp_request(printer.port, Operation.GET_JOB_ATTRIBUTES,
                                  operation_attributes(printer.uri, job_id=job_id))  # fmt: skip
        assert isinstance(response, Message)
        assert response.code == Status.SUCCESSFUL_OK
        assert attribute(response, GroupTag.JOB, "job-state").first == JobState.PENDING
    _, sent = ipp_request(
        printer.port, Operation.SEND_DOCUMENT,
        operation_attributes(printer.uri, job_id=job_id, last_document=True,
                             document_format="application/postscript"),
        postscript([["hello"]]), chunked=True,
    )  # fmt: skip
    assert isinstance(sent, Message)
    assert sent.code == Status.SUCCESSFUL_OK
    _, after = ipp_request(printer.port, Operation.GET_JOB_ATTRIBUTES,
                           operation_attributes(printer.uri, job_id=job_id))  # fmt: skip
    assert isinstance(after, Message)
    assert attribute(after, GroupTag.JOB, "job-state").first == JobState.COMPLETED
    assert len(submissions(printer.spool)) == 1


def test_unknown_printer_path_is_not_found(printer: Printer) -> None:
    uri = f"ipp://127.0.0.1:{printer.port}/printers/other"
    _, response = ipp_request(printer.port, Operation.GET_PRINTER_ATTRIBUTES,
                              operation_attributes(uri))  # fmt: skip
    assert isinstance(response, Message)
    assert response.code == Status.CLIENT_ERROR_NOT_FOUND


@pytest.fixture
def walled_printer(tmp_path: Path) -> Iterator[Printer]:
    started = start_printer(tmp_path, {"FAXGATE_SYS_FAX_CONFIGURE_IPP_NETWORKS": "10.0.0.0/8"})
    yield started
    stop_printer(started.process)


def test_clients_outside_the_allowed_networks_are_forbidden(walled_printer: Printer) -> None:
    status, response = ipp_request(
        walled_printer.port, Operation.PRINT_JOB,
        operation_attributes(walled_printer.uri, document_format="application/postscript"),
        postscript([["@@+FAX:0991@@"]]),
    )  # fmt: skip
    assert status == 200
    assert isinstance(response, Message)
    assert response.code == Status.CLIENT_ERROR_FORBIDDEN
    assert submissions(walled_printer.spool) == []
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"http://127.0.0.1:{walled_printer.port}/printers/sendfax")
    assert caught.value.code == 403


@pytest.fixture
def auth_printer(tmp_path: Path) -> Iterator[Printer]:
    started = start_printer(tmp_path, {"FAXGATE_SYS_FAX_CONFIGURE_IPP_AUTH": "required"})
    with Ledger.open(started.spool.ledger_path) as ledger:
        users.create(ledger, "anna", "correct horse", "user", actor="test")
    yield started
    stop_printer(started.process)


def basic(user: str, password: str) -> dict[str, str]:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_when_required(auth_printer: Printer) -> None:
    port, uri = auth_printer.port, auth_printer.uri
    job = operation_attributes(uri, "someone-else", document_format="application/postscript")
    document = postscript([["@@+FAX:0991@@"]])
    status, _ = ipp_request(port, Operation.PRINT_JOB, job, document)
    assert status == 401
    status, _ = ipp_request(port, Operation.PRINT_JOB, job, document,
                               headers=basic("anna", "wrong password"))  # fmt: skip
    assert status == 401
    status, response = ipp_request(port, Operation.PRINT_JOB, job, document,
                                   headers=basic("anna", "correct horse"))  # fmt: skip
    assert status == 200
    assert isinstance(response, Message)
    assert response.code == Status.SUCCESSFUL_OK
    [row] = submissions(auth_printer.spool)
    assert row["owner"] == "anna"  # the proven user, not requesting-user-name


@pytest.fixture
def small_printer(tmp_path: Path) -> Iterator[Printer]:
    started = start_printer(tmp_path, {"FAXGATE_SYS_FAX_CONFIGURE_IPP_MAXSIZE": "1"})
    yield started
    stop_printer(started.process)


def test_documents_stream_to_the_spool_and_the_size_limit_holds(small_printer: Printer) -> None:
    port, uri = small_printer.port, small_printer.uri
    job = operation_attributes(uri, document_format="application/postscript")
    fits = postscript([["@@+FAX:0991@@"]]) + b"%" + b"x" * 900_000 + b"\n"
    _, response = ipp_request(port, Operation.PRINT_JOB, job, fits, chunked=True)
    assert isinstance(response, Message)
    assert response.code == Status.SUCCESSFUL_OK
    [row] = submissions(small_printer.spool)
    assert (small_printer.spool.incoming / row["path"]).read_bytes() == fits

    too_big = fits + b"%" + b"y" * 300_000 + b"\n"  # just over 1 MB
    _, response = ipp_request(port, Operation.PRINT_JOB, job, too_big, chunked=True)
    assert isinstance(response, Message)
    assert response.code == Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE
    assert len(submissions(small_printer.spool)) == 1  # nothing stored, nothing half-written
    assert len(list(small_printer.spool.incoming.iterdir())) == 1
    assert [p.name for p in small_printer.spool.tmp.iterdir()] == []
    job_id = (
        attribute(response, GroupTag.JOB, "job-id").first if response.group(GroupTag.JOB) else None
    )
    assert job_id is None
    with Ledger.open(small_printer.spool.ledger_path) as ledger:
        states = [r[0] for r in ledger.query("SELECT state FROM ipp_jobs ORDER BY id")]
    assert states == [JobState.COMPLETED, JobState.ABORTED]
