"""The sendfax printer's description: what it tells IPP clients it is and supports.

Pure: `printer_attributes(description, ...)` builds the attribute list from a small dataclass, so
the daemon, tests and docs see the same set. The values are chosen for a fax (one-sided, black and
white, A4/Letter with non-zero margins, 204×98 and 204×196 dpi) and for the clients that query
them: ipptool's conformance files, CUPS `everywhere` (needs application/pdf and media-supported),
macOS, and Windows' IPP class driver (Mopria attributes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from faxgate.ipp.codec import Attribute, Collection, IntRange, Resolution, Value
from faxgate.ipp.constants import Operation, PrinterState, ValueTag

T = ValueTag

DOCUMENT_FORMATS: tuple[str, ...] = (
    "application/octet-stream",
    "application/pdf",
    "application/postscript",
    "image/pwg-raster",
    "image/jpeg",
    "text/plain",
)

SUPPORTED_OPERATIONS: tuple[Operation, ...] = (
    Operation.PRINT_JOB,
    Operation.VALIDATE_JOB,
    Operation.CREATE_JOB,
    Operation.SEND_DOCUMENT,
    Operation.CANCEL_JOB,
    Operation.GET_JOB_ATTRIBUTES,
    Operation.GET_JOBS,
    Operation.GET_PRINTER_ATTRIBUTES,
    Operation.CANCEL_MY_JOBS,
    Operation.CLOSE_JOB,
    Operation.IDENTIFY_PRINTER,
)

IPP_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "2.0")

# (keyword, x, y) in hundredths of millimetres (PWG 5101.1)
MEDIA_SIZES: tuple[tuple[str, int, int], ...] = (
    ("iso_a4_210x297mm", 21000, 29700),
    ("na_letter_8.5x11in", 21590, 27940),
)
MARGIN = 423  # 4.23 mm: zero margins made CUPS turn A4 jobs into Letter
FAX_RESOLUTIONS: tuple[Resolution, ...] = (Resolution(204, 98), Resolution(204, 196))
# PWG raster input is scaled to fax resolution; these are the square resolutions clients render at.
RASTER_RESOLUTIONS: tuple[Resolution, ...] = (Resolution(150, 150), Resolution(300, 300))

# Printer attributes that the requested-attributes group "job-template" names (RFC 8011 5.2).
JOB_TEMPLATE_PREFIXES: tuple[str, ...] = (
    "copies-", "finishings-", "job-hold-until-", "job-priority-", "job-sheets-", "media-",
    "media-col-", "multiple-document-handling-", "number-up-", "orientation-requested-",
    "page-ranges-", "print-quality-", "printer-resolution-", "sides-", "print-color-mode-",
    "output-bin-", "print-scaling-", "print-content-optimize-",
)  # fmt: skip


@dataclass(frozen=True)
class PrinterDescription:
    """What varies between installations and moments."""

    uri: str  # ipp://host:port/printers/sendfax as the client reached us
    uuid: str  # urn:uuid:...
    more_info: str  # http URL of the admin's page about the printer
    name: str = "sendfax"
    info: str = "Print to fax"
    location: str = ""
    make_and_model: str = "faxgate print-to-fax gateway"
    authentication: str = "requesting-user-name"  # or "basic"
    up_time: int = 1  # seconds since the service started, > 0
    queued_job_count: int = 0
    accepting: bool = True
    state: PrinterState = PrinterState.IDLE
    natural_language: str = "en"
    now: dt.datetime | None = None  # printer-current-time; None: unknown
    started: dt.datetime | None = None  # state and config change date-time
    icon_uris: tuple[str, ...] = ()
    spool_free_percent: int = 100  # reported as the printer's one "supply"


def is_job_template(name: str) -> bool:
    return name.startswith(JOB_TEMPLATE_PREFIXES) and (
        name.endswith(("-default", "-supported", "-ready", "-database"))
    )


def device_id() -> str:
    """IEEE 1284 device id, as Windows and Mopria ask for it."""
    return (
        "MFG:faxgate;MDL:Print to Fax;CMD:PDF,PS,PWGRASTER,JPEG;CLS:PRINTER;"
        "DES:faxgate print-to-fax gateway;"
    )


def media_col(keyword: str, x: int, y: int) -> Collection:
    size = Collection(
        (Attribute.of("x-dimension", T.INTEGER, x), Attribute.of("y-dimension", T.INTEGER, y))
    )
    return Collection(
        (
            Attribute("media-size", [Value(T.BEGIN_COLLECTION, size)]),
            Attribute.of("media-size-name", T.KEYWORD, keyword),
            Attribute.of("media-top-margin", T.INTEGER, MARGIN),
            Attribute.of("media-bottom-margin", T.INTEGER, MARGIN),
            Attribute.of("media-left-margin", T.INTEGER, MARGIN),
            Attribute.of("media-right-margin", T.INTEGER, MARGIN),
            Attribute.of("media-source", T.KEYWORD, "main"),
            Attribute.of("media-type", T.KEYWORD, "stationery"),
        )
    )


def _date(name: str, moment: dt.datetime | None) -> Attribute:
    if moment is None:
        return Attribute.of(name, T.UNKNOWN, None)
    return Attribute.of(name, T.DATE_TIME, moment)


def _collections(name: str, items: list[Collection]) -> Attribute:
    return Attribute(name, [Value(T.BEGIN_COLLECTION, item) for item in items])


def printer_attributes(description: PrinterDescription) -> list[Attribute]:
    """Every printer attribute the sendfax printer reports."""
    d = description
    a = Attribute.of
    media_names = [keyword for keyword, _, _ in MEDIA_SIZES]
    media_cols = [media_col(*size) for size in MEDIA_SIZES]
    size_only = [
        Collection(
            (
                Attribute(
                    "media-size",
                    [
                        Value(
                            T.BEGIN_COLLECTION,
                            Collection(
                                (
                                    a("x-dimension", T.INTEGER, x),
                                    a("y-dimension", T.INTEGER, y),
                                )
                            ),
                        )
                    ],
                ),
            )
        )
        for _, x, y in MEDIA_SIZES
    ]
    return [
        # --- printer description (RFC 8011 5.4)
        a("printer-uri-supported", T.URI, d.uri),
        a("uri-security-supported", T.KEYWORD, "none"),
        a("uri-authentication-supported", T.KEYWORD, d.authentication),
        a("printer-name", T.NAME, d.name),
        a("printer-location", T.TEXT, d.location),
        a("printer-info", T.TEXT, d.info),
        a("printer-more-info", T.URI, d.more_info),
        a("printer-make-and-model", T.TEXT, d.make_and_model),
        a("printer-uuid", T.URI, d.uuid),
        a("printer-device-id", T.TEXT, device_id()),
        a("printer-state", T.ENUM, int(d.state)),
        a("printer-state-reasons", T.KEYWORD, "none"),
        a("printer-state-message", T.TEXT, "Ready to fax" if d.accepting else "Not accepting jobs"),
        a("printer-is-accepting-jobs", T.BOOLEAN, d.accepting),
        a("printer-up-time", T.INTEGER, max(1, d.up_time)),
        a("printer-state-change-time", T.INTEGER, 1),
        a("printer-config-change-time", T.INTEGER, 1),
        a("printer-kind", T.KEYWORD, "document"),
        a("printer-geo-location", T.UNKNOWN, None),
        a("printer-organization", T.TEXT, ""),
        a("printer-organizational-unit", T.TEXT, ""),
        a("queued-job-count", T.INTEGER, d.queued_job_count),
        a("operations-supported", T.ENUM, *(int(op) for op in SUPPORTED_OPERATIONS)),
        a("charset-configured", T.CHARSET, "utf-8"),
        a("charset-supported", T.CHARSET, "utf-8", "us-ascii"),
        a("natural-language-configured", T.NATURAL_LANGUAGE, d.natural_language),
        a("generated-natural-language-supported", T.NATURAL_LANGUAGE, d.natural_language),
        a("document-format-default", T.MIME_MEDIA_TYPE, "application/octet-stream"),
        a("document-format-supported", T.MIME_MEDIA_TYPE, *DOCUMENT_FORMATS),
        a("document-format-preferred", T.MIME_MEDIA_TYPE, "application/pdf"),
        a("pdl-override-supported", T.KEYWORD, "attempted"),
        a("ipp-versions-supported", T.KEYWORD, *IPP_VERSIONS),
        a("ipp-features-supported", T.KEYWORD, "ipp-everywhere"),
        a("compression-supported", T.KEYWORD, "none"),
        a("color-supported", T.BOOLEAN, False),
        a("job-ids-supported", T.BOOLEAN, True),
        a("multiple-document-jobs-supported", T.BOOLEAN, False),
        a("multiple-operation-time-out", T.INTEGER, 900),  # ippfaxd.service.OPEN_JOB_TIMEOUT
        a("multiple-operation-time-out-action", T.KEYWORD, "abort-job"),
        a("job-k-octets-supported", T.RANGE_OF_INTEGER, IntRange(0, 200_000)),
        a("pages-per-minute", T.INTEGER, 1),
        a("mopria-certified", T.TEXT, "1.3"),
        a("which-jobs-supported", T.KEYWORD, "completed", "not-completed", "all"),
        a(
            "job-creation-attributes-supported",
            T.KEYWORD,
            "copies",
            "media",
            "media-col",
            "sides",
            "print-quality",
            "printer-resolution",
            "print-color-mode",
            "orientation-requested",
            "job-priority",
        ),
        a("printer-get-attributes-supported", T.KEYWORD, "document-format"),
        _date("printer-current-time", d.now),
        _date("printer-state-change-date-time", d.started),
        _date("printer-config-change-date-time", d.started),
        a("printer-icons", T.URI, *d.icon_uris)
        if d.icon_uris
        else a("printer-icons", T.NO_VALUE, None),
        a("preferred-attributes-supported", T.BOOLEAN, False),
        a("overrides-supported", T.KEYWORD, "document-number", "pages"),
        a("identify-actions-default", T.KEYWORD, "display"),
        a("print-rendering-intent-default", T.KEYWORD, "auto"),
        a("print-rendering-intent-supported", T.KEYWORD, "auto"),
        # A fax has no toner: the one "supply" is the spool's free disk space, which is what
        # runs out and stops jobs being accepted.
        a(
            "printer-supply",
            T.OCTET_STRING,
            (
                "index=1;class=receptacleThatIsFilled;type=other;unit=percent;maxcapacity=100;"
                f"level={max(0, min(100, d.spool_free_percent))};"
            ).encode(),
        ),
        a("printer-supply-description", T.TEXT, "Free space in the fax spool"),
        a("printer-supply-info-uri", T.URI, d.more_info),
        a("identify-actions-supported", T.KEYWORD, "display"),
        a("landscape-orientation-requested-preferred", T.ENUM, 4),
        a("pwg-raster-document-resolution-supported", T.RESOLUTION, *RASTER_RESOLUTIONS),
        a("pwg-raster-document-sheet-back", T.KEYWORD, "normal"),
        a("pwg-raster-document-type-supported", T.KEYWORD, "black_1", "sgray_8"),
        a("job-password-encryption-supported", T.KEYWORD, "none"),
        # --- job template defaults and supported values (RFC 8011 5.2, PWG 5100.7)
        a("copies-default", T.INTEGER, 1),
        a("copies-supported", T.RANGE_OF_INTEGER, IntRange(1, 1)),
        a("finishings-default", T.ENUM, 3),
        a("finishings-supported", T.ENUM, 3),
        a("job-priority-default", T.INTEGER, 50),
        a("job-priority-supported", T.INTEGER, 100),
        a("job-sheets-default", T.KEYWORD, "none"),
        a("job-sheets-supported", T.KEYWORD, "none"),
        a("media-default", T.KEYWORD, media_names[0]),
        a("media-ready", T.KEYWORD, *media_names),
        a("media-supported", T.KEYWORD, *media_names),
        _collections("media-col-default", media_cols[:1]),
        _collections("media-col-ready", media_cols),
        _collections("media-col-database", media_cols),
        a(
            "media-col-supported",
            T.KEYWORD,
            "media-bottom-margin",
            "media-left-margin",
            "media-right-margin",
            "media-size",
            "media-size-name",
            "media-source",
            "media-top-margin",
            "media-type",
        ),
        _collections("media-size-supported", size_only),
        a("media-bottom-margin-supported", T.INTEGER, MARGIN),
        a("media-top-margin-supported", T.INTEGER, MARGIN),
        a("media-left-margin-supported", T.INTEGER, MARGIN),
        a("media-right-margin-supported", T.INTEGER, MARGIN),
        a("media-source-supported", T.KEYWORD, "main"),
        a("media-type-supported", T.KEYWORD, "stationery"),
        a("multiple-document-handling-default", T.KEYWORD, "separate-documents-uncollated-copies"),
        a(
            "multiple-document-handling-supported",
            T.KEYWORD,
            "separate-documents-uncollated-copies",
        ),
        a("number-up-default", T.INTEGER, 1),
        a("number-up-supported", T.INTEGER, 1),
        a("orientation-requested-default", T.ENUM, 3),
        a("orientation-requested-supported", T.ENUM, 3, 4),
        # face-down: with face-up CUPS reverses the page order, and a fax is read page 1 first
        a("output-bin-default", T.KEYWORD, "face-down"),
        a("output-bin-supported", T.KEYWORD, "face-down"),
        a("page-ranges-supported", T.BOOLEAN, True),
        a("print-color-mode-default", T.KEYWORD, "monochrome"),
        a("print-color-mode-supported", T.KEYWORD, "monochrome"),
        a("print-content-optimize-default", T.KEYWORD, "auto"),
        a("print-content-optimize-supported", T.KEYWORD, "auto"),
        a("print-quality-default", T.ENUM, 4),
        a("print-quality-supported", T.ENUM, 4, 5),
        a("print-scaling-default", T.KEYWORD, "auto"),
        a("print-scaling-supported", T.KEYWORD, "auto", "fit", "none"),
        a("printer-resolution-default", T.RESOLUTION, FAX_RESOLUTIONS[1]),
        a("printer-resolution-supported", T.RESOLUTION, *FAX_RESOLUTIONS),
        a("sides-default", T.KEYWORD, "one-sided"),
        a("sides-supported", T.KEYWORD, "one-sided"),
    ]
