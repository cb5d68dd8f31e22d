"""The sendfax printer's operations: one IPP request in, one IPP response out.

No HTTP here: the falcon resource hands over the body and who asked (`Caller`); this module
decodes, checks (RFC 8011), acts on the ledger and the spool, and encodes the answer. A job's
document is durably spooled (`intake.accept`) before the response says successful-ok.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from faxgate.convert.sniff import sniff_mime_type
from faxgate.errors import SpoolError
from faxgate.ipp import semantics
from faxgate.ipp.codec import (
    Attribute,
    AttributeGroup,
    IntRange,
    IppDecodeError,
    LanguageString,
    Message,
    Resolution,
    decode_message,
)
from faxgate.ipp.codec import encode_message as encode
from faxgate.ipp.constants import GroupTag, JobState, Operation, Status, ValueTag
from faxgate.ipp.printer import DOCUMENT_FORMATS, PrinterDescription, is_job_template
from faxgate.ipp.printer import printer_attributes as all_printer_attributes
from faxgate.ipp.semantics import IppRequestError, JobView
from faxgate.ippfaxd.document import DocumentStream, DocumentTooLarge
from faxgate.ippfaxd.jobs import JobStore, NewJob, WhichJobs
from faxgate.ippfaxd.usernames import appliance_user
from faxgate.spool import intake
from faxgate.spool.atomic import is_disk_full
from faxgate.spool.layout import Spool

log = logging.getLogger("ippfaxd")

PRINTER_PATH = "/printers/sendfax"
ICON_PATHS = ("/icons/printer.png",)
# multiple-operation-time-out (advertised, action abort-job): a job without its document
# after this long is aborted; longer than gunicorn's request timeout, so no live upload is hit.
OPEN_JOB_TIMEOUT = 900
T = ValueTag


@dataclass(frozen=True)
class Caller:
    """Who sent the request and how they reached us."""

    address: str
    host: str  # host[:port] the client used, for the URIs we hand out
    authenticated_user: str | None = None


@dataclass(frozen=True)
class PrinterConfig:
    """What the service needs from the settings (built once per worker, again on reload)."""

    uuid: str
    name: str = "Fax"
    location: str = ""
    more_info: str = ""  # empty: http://<host>:<admin port>/
    admin_port: int = 8080
    authentication: str = "requesting-user-name"
    usermangle_search: str = ""
    usermangle_replace: str = ""
    max_size: int = 200 * 1024 * 1024


class PrinterService:
    def __init__(
        self,
        spool: Spool,
        store: JobStore,
        config: PrinterConfig,
        started_at: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spool = spool
        self.store = store
        self.config = config
        self.started_at = started_at
        self.clock = clock
        self.document = DocumentStream.of(b"", 0)  # the current request's document

    # -- entry point --------------------------------------------------------------------------

    def handle(self, body: bytes, caller: Caller, rest: Iterable[bytes] = ()) -> bytes:
        """The encoded response to the encoded request `body`.

        `body` holds at least the whole attribute section; `rest` is the remainder of the
        request body (the document's tail), read only while the document is being stored.
        """
        try:
            request = decode_message(body)
        except IppDecodeError as exc:
            log.info("bad IPP request from %s: %s", caller.address, exc)
            return encode(
                error_response(header_of(body), Status.CLIENT_ERROR_BAD_REQUEST, str(exc))
            )
        self.document = DocumentStream(request.data, rest, self.config.max_size)
        try:
            semantics.check_request(request)
            response = self.dispatch(request, caller)
        except IppRequestError as exc:
            response = error_response(request, exc.status, exc.message, exc.unsupported)
        except Exception as exc:
            # A full disk or ledger is temporary: server-error-busy makes the client retry.
            if not (isinstance(exc, SpoolError) or is_disk_full(exc)):
                raise
            log.error("cannot spool a print job from %s: %s", caller.address, exc)
            response = error_response(request, Status.SERVER_ERROR_BUSY, str(exc))
        return encode(response)

    def forbidden(self, body: bytes, reason: str) -> bytes:
        return encode(error_response(header_of(body), Status.CLIENT_ERROR_FORBIDDEN, reason))

    def dispatch(self, request: Message, caller: Caller) -> Message:
        handlers: dict[int, Callable[[Message, Caller], Message]] = {
            Operation.PRINT_JOB: self.print_job,
            Operation.VALIDATE_JOB: self.validate_job,
            Operation.CREATE_JOB: self.create_job,
            Operation.SEND_DOCUMENT: self.send_document,
            Operation.CLOSE_JOB: self.close_job,
            Operation.CANCEL_JOB: self.cancel_job,
            Operation.CANCEL_MY_JOBS: self.cancel_my_jobs,
            Operation.GET_JOB_ATTRIBUTES: self.get_job_attributes,
            Operation.GET_JOBS: self.get_jobs,
            Operation.GET_PRINTER_ATTRIBUTES: self.get_printer_attributes,
            Operation.IDENTIFY_PRINTER: self.identify_printer,
        }
        handler = handlers.get(request.code)
        self.check_target(request, job_operation=request.code in JOB_TARGET_OPERATIONS)
        if handler is None:
            raise IppRequestError(
                Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED,
                f"operation 0x{request.code:04x} is not supported",
            )
        return handler(request, caller)

    # -- targets, users, URIs -----------------------------------------------------------------

    def check_target(self, request: Message, job_operation: bool) -> None:
        path = semantics.target_path(request, "printer-uri")
        if path is None and job_operation:
            job_path = semantics.target_path(request, "job-uri")
            if job_path is not None:
                if job_path.rsplit("/", 1)[0] != PRINTER_PATH:
                    raise IppRequestError(Status.CLIENT_ERROR_NOT_FOUND, "no such job")
                return
        if path is None:
            raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "printer-uri is missing")
        if path != PRINTER_PATH:
            raise IppRequestError(
                Status.CLIENT_ERROR_NOT_FOUND, f"there is no printer at {path}; use {PRINTER_PATH}"
            )

    def printer_uri(self, caller: Caller) -> str:
        return f"ipp://{caller.host}{PRINTER_PATH}"

    def more_info(self, caller: Caller) -> str:
        if self.config.more_info:
            return self.config.more_info
        host = caller.host.rsplit(":", 1)[0] if not caller.host.endswith("]") else caller.host
        return f"http://{host}:{self.config.admin_port}/"

    def requesting_user(self, request: Message, caller: Caller) -> str:
        if caller.authenticated_user:
            return caller.authenticated_user
        value = semantics.operation_value(
            request, "requesting-user-name", T.NAME, T.NAME_WITH_LANGUAGE
        )
        text = getattr(value, "text", value)
        return str(text) if text else "anonymous"

    def job_id(self, request: Message) -> int:
        value = semantics.operation_value(request, "job-id", T.INTEGER)
        if value is None:
            uri = semantics.target_path(request, "job-uri")
            if uri is not None and uri.rsplit("/", 1)[-1].isdigit():
                return int(uri.rsplit("/", 1)[-1])
            raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "job-id is missing")
        assert isinstance(value, int)
        return value

    def existing_job(self, request: Message) -> JobView:
        job = self.store.get(self.job_id(request))
        if job is None:
            raise IppRequestError(Status.CLIENT_ERROR_NOT_FOUND, "no such job")
        return job

    # -- job creation -------------------------------------------------------------------------

    def check_job_request(self, request: Message, with_document: bool) -> str:
        """Operation checks shared by Print-Job, Validate-Job, Create-Job; the declared format."""
        fmt = semantics.operation_value(request, "document-format", T.MIME_MEDIA_TYPE)
        declared = str(fmt) if fmt is not None else "application/octet-stream"
        if with_document and declared not in DOCUMENT_FORMATS:
            raise IppRequestError(
                Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                f"document format {declared} is not supported",
                [Attribute.of("document-format", T.MIME_MEDIA_TYPE, declared)],
            )
        compression = semantics.operation_value(request, "compression", T.KEYWORD)
        if compression not in (None, "none"):
            raise IppRequestError(
                Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED,
                f"compression {compression} is not supported",
                [Attribute.of("compression", T.KEYWORD, str(compression))],
            )
        for name, tags in (("job-name", (T.NAME, T.NAME_WITH_LANGUAGE)),
                           ("ipp-attribute-fidelity", (T.BOOLEAN,)),
                           ("document-name", (T.NAME, T.NAME_WITH_LANGUAGE))):  # fmt: skip
            semantics.operation_value(request, name, *tags)
        job_group = request.group(GroupTag.JOB)
        if job_group is not None:
            for attribute in job_group.attributes:
                if attribute.tag in (T.NO_VALUE, T.UNKNOWN) or not attribute.values:
                    raise IppRequestError(
                        Status.CLIENT_ERROR_BAD_REQUEST, f"{attribute.name} has no value"
                    )
        return declared

    def new_job(self, request: Message, caller: Caller, declared: str) -> int:
        user = self.requesting_user(request, caller)
        name = semantics.operation_value(request, "job-name")
        owner = appliance_user(user, self.config.usermangle_search, self.config.usermangle_replace)
        job_group = request.group(GroupTag.JOB)
        attributes = {
            attribute.name: [plain(value.data) for value in attribute.values]
            for attribute in (job_group.attributes if job_group else [])
            if attribute.name in KEPT_JOB_ATTRIBUTES
        }
        return self.store.create(
            NewJob(
                name=str(getattr(name, "text", name)) if name is not None else "Untitled",
                user_name=user,
                owner=owner,
                document_format=declared,
                client=caller.address,
                attributes=attributes,
            )
        )

    def spool_job(
        self, request: Message, caller: Caller, job_id: int, declared: str, last: bool
    ) -> None:
        document = self.document
        head = document.head()
        if not head:
            raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "the request has no document")
        sniffed = sniff_mime_type(head)
        row = self.store.row(job_id)
        assert row is not None
        document_name = semantics.operation_value(request, "document-name")
        params: dict[str, object] = {
            "ipp_job_id": job_id,
            "job_name": row["name"],
            "user_name": row["user_name"],
            "declared_format": declared,
            "mime_type": sniffed,
            "document_name": str(getattr(document_name, "text", document_name) or ""),
            "client": caller.address,
            "job_attributes": json.loads(row["attributes"]),
        }
        try:
            submission = self.store.spool_document(
                self.spool, job_id, document, params, row["owner"],
                params["document_name"] if isinstance(params["document_name"], str) else "",
                declared, sniffed, last,
            )  # fmt: skip
        except DocumentTooLarge as exc:
            raise IppRequestError(
                Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE,
                f"the document is larger than the {self.config.max_size // 2**20} MB allowed",
            ) from exc
        intake.poke(self.spool)
        log.info(
            "job %d from %s (user %r → %s, %s, %d bytes) spooled as submission %d",
            job_id, caller.address, row["user_name"], row["owner"], sniffed,
            document.size, submission,
        )  # fmt: skip

    def print_job(self, request: Message, caller: Caller) -> Message:
        declared = self.check_job_request(request, with_document=True)
        if not self.document.head(1):  # refuse before a job exists that could never complete
            raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "the request has no document")
        job_id = self.new_job(request, caller, declared)
        self.spool_job(request, caller, job_id, declared, last=True)
        return self.job_response(request, caller, job_id)

    def validate_job(self, request: Message, caller: Caller) -> Message:
        self.check_job_request(request, with_document=True)
        return response_for(request, Status.SUCCESSFUL_OK)

    def create_job(self, request: Message, caller: Caller) -> Message:
        declared = self.check_job_request(request, with_document=False)
        job_id = self.new_job(request, caller, declared)
        return self.job_response(request, caller, job_id)

    def send_document(self, request: Message, caller: Caller) -> Message:
        job = self.existing_job(request)
        last = semantics.operation_value(request, "last-document", T.BOOLEAN)
        if last is None:
            raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "last-document is missing")
        declared = self.check_job_request(request, with_document=True)
        if job.state.is_terminal and job.documents == 0:
            raise IppRequestError(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is no longer open")
        if job.documents > 0:
            if self.document.head(1):
                raise IppRequestError(
                    Status.SERVER_ERROR_MULTIPLE_DOCUMENT_JOBS_NOT_SUPPORTED,
                    "a fax job takes one document",
                )
            if last:
                self.store.finish(job.job_id, JobState.COMPLETED, "handed to the fax queue")
        else:
            self.spool_job(request, caller, job.job_id, declared, last=bool(last))
        return self.job_response(request, caller, job.job_id)

    def close_job(self, request: Message, caller: Caller) -> Message:
        job = self.existing_job(request)
        if not job.state.is_terminal:
            if job.documents:
                self.store.finish(job.job_id, JobState.COMPLETED, "handed to the fax queue")
            else:
                self.store.finish(job.job_id, JobState.ABORTED, "closed without a document")
        return self.job_response(request, caller, job.job_id)

    # -- cancel -------------------------------------------------------------------------------

    def cancel_job(self, request: Message, caller: Caller) -> Message:
        job = self.existing_job(request)
        if job.state.is_terminal or job.documents:
            raise IppRequestError(
                Status.CLIENT_ERROR_NOT_POSSIBLE,
                "the job is finished or already in the fax queue (cancel the fax there)",
            )
        self.store.finish(job.job_id, JobState.CANCELED, "canceled by the user")
        return response_for(request, Status.SUCCESSFUL_OK)

    def cancel_my_jobs(self, request: Message, caller: Caller) -> Message:
        user = self.requesting_user(request, caller)
        for job_id in self.store.active_ids(user):
            job = self.store.get(job_id)
            if job is not None and not job.documents:
                self.store.finish(job_id, JobState.CANCELED, "canceled by the user")
        return response_for(request, Status.SUCCESSFUL_OK)

    # -- queries ------------------------------------------------------------------------------

    def job_response(self, request: Message, caller: Caller, job_id: int) -> Message:
        job = self.store.get(job_id)
        assert job is not None
        wanted = ["job-id", "job-uri", "job-state", "job-state-reasons", "job-state-message",
                  "number-of-intervening-jobs"]  # fmt: skip
        response = response_for(request, Status.SUCCESSFUL_OK)
        response.groups.append(
            AttributeGroup(GroupTag.JOB, self.job_attributes(job, caller, wanted))
        )
        return response

    def job_attributes(
        self, job: JobView, caller: Caller, requested: list[str] | None
    ) -> list[Attribute]:
        attributes = semantics.job_attributes(
            job, self.printer_uri(caller), self.more_info(caller), self.started_at, self.clock()
        )
        return semantics.select(attributes, requested, semantics.JOB_GROUPS, ["all"])

    def get_job_attributes(self, request: Message, caller: Caller) -> Message:
        job = self.existing_job(request)
        response = response_for(request, Status.SUCCESSFUL_OK)
        attributes = self.job_attributes(job, caller, semantics.requested_names(request))
        response.groups.append(AttributeGroup(GroupTag.JOB, attributes))
        return response

    def get_jobs(self, request: Message, caller: Caller) -> Message:
        self.store.expire(OPEN_JOB_TIMEOUT)
        which = semantics.operation_value(request, "which-jobs", T.KEYWORD) or "not-completed"
        if which not in WHICH:
            raise IppRequestError(
                Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                f"which-jobs {which} is not supported",
                [Attribute.of("which-jobs", T.KEYWORD, str(which))],
            )
        limit = semantics.operation_value(request, "limit", T.INTEGER)
        mine = semantics.operation_value(request, "my-jobs", T.BOOLEAN)
        user = self.requesting_user(request, caller) if mine else None
        requested = semantics.requested_names(request) or ["job-id", "job-uri"]
        jobs = self.store.list_jobs(
            WHICH[WHICH.index(str(which))],
            user,
            limit if isinstance(limit, int) and limit > 0 else None,
        )
        response = response_for(request, Status.SUCCESSFUL_OK)
        for job in jobs:
            response.groups.append(
                AttributeGroup(GroupTag.JOB, self.job_attributes(job, caller, requested))
            )
        return response

    def identify_printer(self, request: Message, caller: Caller) -> Message:
        # A virtual printer has no panel to flash; the admin sees who asked in the log.
        log.info(
            "Identify-Printer from %s (%s)", caller.address, self.requesting_user(request, caller)
        )
        return response_for(request, Status.SUCCESSFUL_OK)

    def spool_free_percent(self) -> int:
        try:
            usage = shutil.disk_usage(self.spool.root)
        except OSError:
            return 0
        return int(100 * usage.free / usage.total) if usage.total else 0

    def get_printer_attributes(self, request: Message, caller: Caller) -> Message:
        semantics.operation_value(request, "document-format", T.MIME_MEDIA_TYPE)
        self.store.expire(OPEN_JOB_TIMEOUT)  # so queued-job-count counts live jobs only
        description = PrinterDescription(
            uri=self.printer_uri(caller),
            uuid=self.config.uuid,
            more_info=self.more_info(caller),
            name=self.config.name,
            location=self.config.location,
            authentication=self.config.authentication,
            up_time=int(self.clock() - self.started_at) + 1,
            queued_job_count=self.store.queued_count(),
            now=dt.datetime.fromtimestamp(int(self.clock()), dt.UTC),
            started=dt.datetime.fromtimestamp(int(self.started_at), dt.UTC),
            icon_uris=tuple(f"http://{caller.host}{path}" for path in ICON_PATHS),
            spool_free_percent=self.spool_free_percent(),
        )
        groups = {
            "printer-description": lambda name: not is_job_template(name),
            "job-template": is_job_template,
        }
        attributes = semantics.select(
            all_printer_attributes(description),
            semantics.requested_names(request),
            groups,
            ["all"],
        )
        response = response_for(request, Status.SUCCESSFUL_OK)
        response.groups.append(AttributeGroup(GroupTag.PRINTER, attributes))
        return response


JOB_TARGET_OPERATIONS = frozenset(
    {
        Operation.SEND_DOCUMENT,
        Operation.CLOSE_JOB,
        Operation.CANCEL_JOB,
        Operation.GET_JOB_ATTRIBUTES,
    }
)
WHICH: tuple[WhichJobs, ...] = ("completed", "not-completed", "all")


# Job template attributes kept with the job (the rest make no difference to a fax).
KEPT_JOB_ATTRIBUTES = frozenset({"page-ranges", "media", "printer-resolution", "job-priority"})


def plain(data: object) -> str:
    """A job attribute value as text: page ranges as "3-5", resolutions as "204x196dpi"."""
    if isinstance(data, IntRange):
        return f"{data.lower}-{data.upper}"
    if isinstance(data, Resolution):
        return f"{data.x}x{data.y}{'dpi' if data.units == Resolution.DPI else 'dpcm'}"
    if isinstance(data, LanguageString):
        return data.text
    return str(data)


def response_for(request: Message, status: Status, message: str = "") -> Message:
    operation = AttributeGroup(
        GroupTag.OPERATION,
        [
            Attribute.of("attributes-charset", T.CHARSET, "utf-8"),
            Attribute.of("attributes-natural-language", T.NATURAL_LANGUAGE, "en"),
        ],
    )
    if message:
        operation.add(Attribute.of("status-message", T.TEXT, message[:255]))
    version = request.version if request.version in semantics.SUPPORTED_VERSIONS else (1, 1)
    return Message(version=version, code=int(status), request_id=request.request_id,
                   groups=[operation])  # fmt: skip


def error_response(
    request: Message, status: Status, message: str, unsupported: list[Attribute] | None = None
) -> Message:
    response = response_for(request, status, message)
    if unsupported:
        response.groups.append(AttributeGroup(GroupTag.UNSUPPORTED, list(unsupported)))
    return response


def header_of(body: bytes) -> Message:
    """Version and request id of a body too broken to decode (for the error response)."""
    if len(body) >= 8:
        major, minor, _, request_id = struct.unpack(">BBHi", body[:8])
        return Message(version=(major, minor), code=0, request_id=request_id)
    return Message(version=(1, 1), code=0, request_id=0)
