"""What a submission means: the contract between the gateways and faxqueued's intake.

A gateway stores raw work with `intake.accept()`. Later faxqueued's intake calls the gateway's
`interpret(context)` (in a worker, never inside the SMTP/IPP session) which reads the raw data
and says what to do with it:

- `FaxRequest`s: documents to fax to destinations (a print job with three FAX fields is three
  requests with their page ranges; a mail to ten recipients is one request with ten destinations,
  converted once),
- a `Rejection`: nothing can be sent; the notification explains why in plain words,
- a `PendingPrintJob`: a print job without control fields that waits for its user (client hand-off).

Interpreters: `faxgate.smtpfaxd.interpret.interpret` (kind "mail"),
`faxgate.ippfaxd.interpret.interpret` (kind "print"), `faxgate.faxqueued.upload.interpret`
(kind "upload").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from faxgate.settings import Settings
from faxgate.spool.layout import Spool


@dataclass(frozen=True)
class DocumentPart:
    """One document to fax, in the order it is sent (cover/body page first)."""

    path: Path
    mime_type: str
    description: str = ""  # e.g. the attachment's file name, for notifications
    first_page: int | None = None  # 1-based, inclusive; None: from the start
    last_page: int | None = None  # None: to the end


@dataclass(frozen=True)
class Destination:
    number: str  # normalised: digits only (international numbers written with 00)
    name: str = ""  # recipient's name for the cover page and lists


@dataclass(frozen=True)
class FaxRequest:
    destinations: list[Destination]
    parts: list[DocumentPart]
    priority: int
    max_tries: int
    tag: str = ""
    notify: str | None = None  # address for status notifications; None: nobody
    owner: str | None = None  # appliance user the job belongs to
    skipped: list[str] = field(default_factory=list)  # plain-words notes of parts not faxed
    cover_text: str = ""


@dataclass(frozen=True)
class Rejection:
    reason: str  # plain words: what was wrong and what to change
    notify: str | None
    owner: str | None = None


PageRanges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class PendingPrintJob:
    """A print job that waits for its user to give the number (print gateway modes 1 and 3).

    `document` is the whole printed file; `pages` the ranges of it to fax (IPP page-ranges,
    ascending, 1-based and inclusive; they may run past the last page), empty for all of it.
    The file is kept whole because in mode 1 nobody has counted its pages yet.
    """

    owner: str | None
    document: DocumentPart
    title: str = ""
    notify: str | None = None
    pages: PageRanges = ()


def format_pages(pages: PageRanges) -> str | None:
    """Page ranges as stored with a held job: "1-2,5-5"; None for every page."""
    return ",".join(f"{first}-{last}" for first, last in pages) or None


def parse_pages(text: str | None) -> PageRanges:
    """The ranges `format_pages` wrote; pieces that are not "first-last" are left out."""
    ranges: list[tuple[int, int]] = []
    for piece in (text or "").split(","):
        first, _, last = piece.strip().partition("-")
        if first.isdigit() and last.isdigit() and 0 < int(first) <= int(last):
            ranges.append((int(first), int(last)))
    return tuple(ranges)


Interpretation = list[FaxRequest] | Rejection | PendingPrintJob


@dataclass(frozen=True)
class InterpretContext:
    """Everything an interpreter may use."""

    spool: Spool
    settings: Settings
    submission_id: int
    kind: str
    raw_path: Path  # the accepted data in incoming/
    params: dict[str, object]
    owner: str | None
    work_dir: Path  # a private directory under tmp/ for files the interpreter makes

    @staticmethod
    def decode_params(text: str) -> dict[str, object]:
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("submission params must be a JSON object")
        return value
