"""RFC 8011 request checks and attribute selection, without I/O.

`check_request(message)` applies the checks every operation shares (section 4.1: version,
request-id, charset and natural language first, a target URI); an operation's own checks live
with its handler. `select(attributes, requested)` honours `requested-attributes` with its group
names (`all`, `printer-description`, `job-template`, `job-description`, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from faxgate.ipp.codec import Attribute, IntRange, Message
from faxgate.ipp.constants import GroupTag, JobState, Status, ValueTag

SUPPORTED_VERSIONS = frozenset({(1, 0), (1, 1), (2, 0), (2, 1), (2, 2)})
SUPPORTED_CHARSETS = frozenset({"utf-8", "us-ascii"})


class IppRequestError(Exception):
    """A request the printer answers with an error status (and an optional message)."""

    def __init__(
        self, status: Status, message: str = "", unsupported: list[Attribute] | None = None
    ):
        super().__init__(message or status.name)
        self.status = status
        self.message = message
        self.unsupported = unsupported or []


def check_request(message: Message) -> None:
    """Raise IppRequestError for a request every operation must refuse."""
    if message.version not in SUPPORTED_VERSIONS:
        raise IppRequestError(
            Status.SERVER_ERROR_VERSION_NOT_SUPPORTED,
            f"IPP version {message.version[0]}.{message.version[1]} is not supported",
        )
    if message.request_id <= 0:
        raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "request-id must be positive")
    if not message.groups or message.groups[0].tag != GroupTag.OPERATION:
        raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "no operation attributes")
    for group in message.groups:
        names = [attribute.name for attribute in group.attributes]
        if len(names) != len(set(names)):
            raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "attribute given twice")
    operation = message.groups[0].attributes
    if len(operation) < 2 or operation[0].name != "attributes-charset":
        raise IppRequestError(
            Status.CLIENT_ERROR_BAD_REQUEST, "attributes-charset must be the first attribute"
        )
    if operation[1].name != "attributes-natural-language":
        raise IppRequestError(
            Status.CLIENT_ERROR_BAD_REQUEST,
            "attributes-natural-language must be the second attribute",
        )
    charset = operation[0]
    if charset.tag != ValueTag.CHARSET or len(charset.values) != 1:
        raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "bad attributes-charset")
    if str(charset.first).lower() not in SUPPORTED_CHARSETS:
        raise IppRequestError(
            Status.CLIENT_ERROR_CHARSET_NOT_SUPPORTED,
            f"charset {charset.first!s} is not supported",
            [charset],
        )
    language = operation[1]
    if language.tag != ValueTag.NATURAL_LANGUAGE or len(language.values) != 1:
        raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "bad attributes-natural-language")
    for group in message.groups_of(GroupTag.JOB):
        page_ranges = group.get("page-ranges")
        if page_ranges is not None:
            check_page_ranges(page_ranges)


def check_page_ranges(attribute: Attribute) -> list[IntRange]:
    """The ranges of a `page-ranges` job attribute, or IppRequestError (RFC 8011 §5.2.7).

    The syntax is 1setOf rangeOfInteger(1:MAX), in ascending order and not overlapping ("so
    that a non-spooling Printer can process the job in a single pass"); other orders are
    refused with client-error-bad-request, as §5.2.7 says. A range that starts at 0 or below
    is a value this printer does not support (client-error-attributes-or-values-not-supported).
    Ranges past the document's last page are fine here: they select what exists.
    """
    ranges: list[IntRange] = []
    for value in attribute.values:
        if value.tag != ValueTag.RANGE_OF_INTEGER or not isinstance(value.data, IntRange):
            raise IppRequestError(
                Status.CLIENT_ERROR_BAD_REQUEST, "page-ranges must be rangeOfInteger values",
                [attribute],
            )  # fmt: skip
        ranges.append(value.data)
    for index, pages in enumerate(ranges):
        if pages.lower < 1:
            raise IppRequestError(
                Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                f"page-ranges {pages.lower}-{pages.upper}: pages are counted from 1",
                [attribute],
            )
        if pages.lower > pages.upper:
            raise IppRequestError(
                Status.CLIENT_ERROR_BAD_REQUEST,
                f"page-ranges {pages.lower}-{pages.upper}: the first page is after the last",
                [attribute],
            )
        if index and pages.lower <= ranges[index - 1].upper:
            before = ranges[index - 1]
            raise IppRequestError(
                Status.CLIENT_ERROR_BAD_REQUEST,
                f"page-ranges {before.lower}-{before.upper},{pages.lower}-{pages.upper}: ranges "
                "must be in ascending order and must not overlap",
                [attribute],
            )
    return ranges


def target_path(message: Message, name: str = "printer-uri") -> str | None:
    """The path of the target URI (host and scheme are ignored: clients use many names)."""
    attribute = message.operation_attributes.get(name)
    if attribute is None:
        return None
    if attribute.tag != ValueTag.URI or len(attribute.values) != 1:
        raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, f"bad {name}")
    return urlsplit(str(attribute.first)).path.rstrip("/") or "/"


def operation_value(message: Message, name: str, *tags: int) -> object | None:
    """The single value of an operation attribute, checked against the allowed tags."""
    attribute = message.operation_attributes.get(name)
    if attribute is None:
        return None
    if (tags and attribute.tag not in tags) or len(attribute.values) != 1:
        raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, f"bad {name}", [attribute])
    return attribute.first


def requested_names(message: Message) -> list[str] | None:
    """The `requested-attributes` keywords, or None when absent."""
    attribute = message.operation_attributes.get("requested-attributes")
    if attribute is None:
        return None
    if any(value.tag != ValueTag.KEYWORD for value in attribute.values):
        raise IppRequestError(Status.CLIENT_ERROR_BAD_REQUEST, "bad requested-attributes")
    return [str(value.data) for value in attribute.values]


def select(
    attributes: Iterable[Attribute],
    requested: list[str] | None,
    groups: Mapping[str, Callable[[str], bool]],
    default: list[str],
) -> list[Attribute]:
    """The attributes `requested` names (or `default` when None), with group names expanded.

    `groups` maps a group keyword (e.g. "job-template") to a predicate on attribute names;
    "all" selects everything except attributes only given when asked for by name
    (media-col-database, as in PWG 5100.7).
    """
    wanted = default if requested is None else requested
    chosen: list[Attribute] = []
    names = set(wanted)
    for attribute in attributes:
        name = attribute.name
        if name in names:
            chosen.append(attribute)
        elif name == "media-col-database":
            continue
        elif "all" in names or any(
            group in names and belongs(name) for group, belongs in groups.items()
        ):
            chosen.append(attribute)
    return chosen


# ---------------------------------------------------------------------------------------------
# jobs


@dataclass(frozen=True)
class JobView:
    """A print job as the ledger knows it, for job attributes."""

    job_id: int
    name: str
    user: str
    state: JobState
    created_at: float
    processing_at: float | None = None
    completed_at: float | None = None
    reasons: tuple[str, ...] = ("none",)
    message: str = ""
    document_format: str = "application/octet-stream"
    k_octets: int = 0
    documents: int = 0
    extra: dict[str, str] = field(default_factory=dict)


JOB_DESCRIPTION_NAMES = frozenset(
    {
        "job-id", "job-uri", "job-printer-uri", "job-more-info", "job-name",
        "job-originating-user-name", "job-state", "job-state-reasons", "job-state-message",
        "number-of-documents", "time-at-creation", "time-at-processing", "time-at-completed",
        "job-printer-up-time", "date-time-at-creation", "date-time-at-processing",
        "date-time-at-completed", "job-k-octets", "document-format", "job-uuid",
        "number-of-intervening-jobs", "job-impressions-completed",
    }
)  # fmt: skip
JOB_TEMPLATE_NAMES = frozenset({"copies", "media", "sides", "job-priority", "print-quality"})
JOB_STATUS_NAMES = frozenset(
    {"job-id", "job-uri", "job-state", "job-state-reasons", "job-state-message"}
)
JOB_GROUPS: dict[str, Callable[[str], bool]] = {
    "job-description": lambda name: name in JOB_DESCRIPTION_NAMES,
    "job-template": lambda name: name in JOB_TEMPLATE_NAMES,
    "job-status": lambda name: name in JOB_STATUS_NAMES,
}


def job_attributes(
    job: JobView, printer_uri: str, more_info: str, started_at: float, now: float
) -> list[Attribute]:
    """Every attribute of `job`; `started_at` is when the service started (for up-time)."""
    a = Attribute.of
    T = ValueTag

    def since_start(name: str, moment: float | None) -> Attribute:
        if moment is None:
            return a(name, T.NO_VALUE, None)
        return a(name, T.INTEGER, max(0, int(moment - started_at)))

    def date(name: str, moment: float | None) -> Attribute:
        if moment is None:
            return a(name, T.NO_VALUE, None)
        return a(name, T.DATE_TIME, dt.datetime.fromtimestamp(int(moment), dt.UTC))

    return [
        a("job-id", T.INTEGER, job.job_id),
        a("job-uri", T.URI, f"{printer_uri}/{job.job_id}"),
        a("job-printer-uri", T.URI, printer_uri),
        a("job-more-info", T.URI, more_info),
        a("job-name", T.NAME, job.name),
        a("job-originating-user-name", T.NAME, job.user),
        a("job-state", T.ENUM, int(job.state)),
        a("job-state-reasons", T.KEYWORD, *job.reasons),
        a("job-state-message", T.TEXT, job.message),
        a("number-of-documents", T.INTEGER, job.documents),
        a("document-format", T.MIME_MEDIA_TYPE, job.document_format),
        a("job-k-octets", T.INTEGER, job.k_octets),
        a("number-of-intervening-jobs", T.INTEGER, 0),
        since_start("time-at-creation", job.created_at),
        since_start("time-at-processing", job.processing_at),
        since_start("time-at-completed", job.completed_at),
        a("job-printer-up-time", T.INTEGER, max(1, int(now - started_at))),
        date("date-time-at-creation", job.created_at),
        date("date-time-at-processing", job.processing_at),
        date("date-time-at-completed", job.completed_at),
        a("copies", T.INTEGER, 1),
        a("sides", T.KEYWORD, "one-sided"),
        a("job-priority", T.INTEGER, 50),
    ]


def state_reasons(state: JobState) -> tuple[str, ...]:
    """The job-state-reasons keyword that goes with a state of ours."""
    return {
        JobState.PENDING: ("job-incoming",),
        JobState.PENDING_HELD: ("job-hold-until-specified",),
        JobState.PROCESSING: ("job-printing",),
        JobState.PROCESSING_STOPPED: ("job-stopped",),
        JobState.CANCELED: ("job-canceled-by-user",),
        JobState.ABORTED: ("aborted-by-system",),
        JobState.COMPLETED: ("job-completed-successfully",),
    }[state]
