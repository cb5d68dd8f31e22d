"""What a print job means: faxes, a rejection, or a pending job for its user (kind "print").

faxqueued calls `interpret(ctx)` in a worker for each accepted print submission. The gateway
mode (`sys.fax.configure.faxprint.mode`) decides:

1. no control fields are searched: the job waits for its user (client hand-off);
2. control fields are required: without a usable FAX field the job is rejected, and the
   notification says why;
3. fields are searched; without any FAX field the job waits for its user.

A document with several FAX fields becomes one FaxRequest per field with its page range (the
ERP serial letter). IPP page-ranges select the pages searched and sent; a held job carries them
and only those pages are faxed when its user sends it. Every decision is appended as one line
to `<spool>/log/sendfax.log`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from faxgate.controlfields import FieldMatchers, SectionsFound, find_sections
from faxgate.convert import extract_page_texts
from faxgate.errors import ConversionError
from faxgate.settings import Settings
from faxgate.spool.requests import (
    Destination,
    DocumentPart,
    FaxRequest,
    Interpretation,
    InterpretContext,
    PendingPrintJob,
    Rejection,
    format_pages,
)

P = "sys.fax.configure.faxprint."
PJL_UEL = b"\x1b%-12345X"
DECISION_LOG = "sendfax.log"
EXAMPLE_FIELD = "@@+FAX:0991234@@"


def matchers(settings: Settings) -> FieldMatchers:
    return FieldMatchers(
        fax=settings.matcher(P + "matcher.fax"),
        tag=settings.matcher(P + "matcher.jobtag"),
        priority=settings.matcher(P + "matcher.priority"),
        notify=settings.matcher(P + "matcher.notify"),
    )


def default_notify(settings: Settings, owner: str | None) -> str:
    """faxprint.notify: the faxmaster, or user@<mail domain> of the user who printed."""
    faxmaster = settings.get_str("sys.fax.configure.mail.faxmaster")
    if settings.get_str(P + "notify") == "user" and owner:
        return f"{owner}@{settings.get_str('sys.fax.configure.mail.domain')}"
    return faxmaster


def without_pjl(data: bytes) -> bytes:
    """The document inside a PJL envelope (Windows PostScript drivers wrap jobs in one)."""
    if not data.startswith(PJL_UEL):
        return data
    starts = [at for at in (data.find(b"%!"), data.find(b"%PDF-")) if at >= 0]
    if not starts:
        return data
    body = data[min(starts) :]
    end = body.find(PJL_UEL)  # the first UEL after the document ends it
    return body[:end] if end > 0 else body


def document_of(ctx: InterpretContext, mime_type: str) -> Path:
    """The printable document: the raw file, or an unwrapped copy in the work directory."""
    with ctx.raw_path.open("rb") as stream:
        head = stream.read(len(PJL_UEL))
    if head != PJL_UEL:
        return ctx.raw_path
    suffix = ".pdf" if mime_type == "application/pdf" else ".ps"
    unwrapped = ctx.work_dir / f"print-{ctx.submission_id}{suffix}"
    unwrapped.write_bytes(without_pjl(ctx.raw_path.read_bytes()))
    return unwrapped


def page_ranges(params: dict[str, object]) -> list[tuple[int, int]]:
    """Every IPP page-ranges value ("1-2", "5-5"), in page order; empty: the whole document.

    ippfaxd refuses ranges that are out of order or overlap (RFC 8011 §5.2.7) before a job is
    accepted; a stored job from elsewhere is still made sensible here: bad values are left out,
    the rest sorted and overlapping or touching ranges joined, so no page is sent twice.
    """
    attributes = params.get("job_attributes")
    if not isinstance(attributes, dict):
        return []
    values = attributes.get("page-ranges")
    if not isinstance(values, list):
        return []
    ranges: list[tuple[int, int]] = []
    for value in values:
        lower, _, upper = str(value).partition("-")
        if lower.isdigit() and upper.isdigit() and 0 < int(lower) <= int(upper):
            ranges.append((int(lower), int(upper)))
    joined: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if joined and first <= joined[-1][1] + 1:
            joined[-1] = (joined[-1][0], max(joined[-1][1], last))
        else:
            joined.append((first, last))
    return joined


def selected_pages(ranges: list[tuple[int, int]], page_count: int) -> list[int]:
    """The document's page numbers the ranges select, in order (past the last page: nothing)."""
    if not ranges:
        return list(range(1, page_count + 1))
    return [page for lower, upper in ranges for page in range(lower, min(upper, page_count) + 1)]


def runs(pages: list[int]) -> list[tuple[int, int]]:
    """Consecutive page numbers as (first, last) runs: [1, 2, 5] -> [(1, 2), (5, 5)]."""
    found: list[tuple[int, int]] = []
    for page in pages:
        if found and page == found[-1][1] + 1:
            found[-1] = (found[-1][0], page)
        else:
            found.append((page, page))
    return found


def parts_for(document: DocumentPart, pages: list[int]) -> list[DocumentPart]:
    """One part per run of consecutive pages, all from the same file, in order."""
    return [
        DocumentPart(document.path, document.mime_type, document.description, first, last)
        for first, last in runs(pages)
    ]


def describe_pages(pages: list[int]) -> str:
    return ",".join(f"{first}-{last}" for first, last in runs(pages))


def interpret(ctx: InterpretContext) -> Interpretation:
    """The decision for one print submission (see the module docstring)."""
    settings = ctx.settings
    mode = settings.get_int(P + "mode")
    mime_type = str(ctx.params.get("mime_type") or "application/octet-stream")
    title = str(ctx.params.get("job_name") or ctx.params.get("document_name") or "print job")
    notify = default_notify(settings, ctx.owner)
    document = DocumentPart(document_of(ctx, mime_type), mime_type, description=title)
    ranges = page_ranges(ctx.params)
    # A held job keeps the whole file and the ranges: its pages are picked when it is sent.
    pending = PendingPrintJob(ctx.owner, document, title, notify, pages=tuple(ranges))

    if mode == 1:
        detail = "mode 1: waits for its user to give the number" + held_pages(pending)
        log_decision(ctx, mode, "pending", detail)
        return pending
    try:
        texts = extract_page_texts(document.path, mime_type, temp_root=ctx.work_dir)
    except ConversionError as exc:
        texts = []
        reading_problem = f"its text could not be read ({exc})"
    else:
        reading_problem = "" if texts else f"it holds no text that can be read ({mime_type})"
    # Only the selected pages are searched; `pages[i]` is the document page of searched page i+1.
    pages = selected_pages(ranges, len(texts))
    if texts and not pages:
        asked = ",".join(f"{lower}-{upper}" for lower, upper in ranges)
        reading_problem = f"the pages asked for ({asked}) are past its last page ({len(texts)})"
    found = find_sections([texts[page - 1] for page in pages], matchers(settings))

    if found.fax_fields == 0:
        if mode == 3:
            log_decision(
                ctx, mode, "pending", "no FAX field: waits for its user" + held_pages(pending)
            )
            return pending
        reason = no_field_reason(title, reading_problem)
        log_decision(ctx, mode, "rejected", reason)
        return Rejection(reason=reason, notify=notify, owner=ctx.owner)
    if found.problems:
        reason = problems_reason(title, found)
        log_decision(ctx, mode, "rejected", reason)
        return Rejection(reason=reason, notify=notify, owner=ctx.owner)

    section_pages = [
        pages[section.first_page - 1 : section.last_page] for section in found.sections
    ]
    requests = [
        FaxRequest(
            destinations=[Destination(number) for number in section.numbers],
            # A section that spans a gap between ranges (pages 2 and 5) is several parts.
            parts=parts_for(document, chosen),
            priority=section.priority
            if section.priority is not None
            else settings.get_int(P + "priority"),
            max_tries=settings.get_int(P + "tries"),
            tag=section.tag or title,
            notify=section.notify or notify,
            owner=ctx.owner,
        )
        for section, chosen in zip(found.sections, section_pages, strict=True)
    ]
    for request, section, chosen in zip(requests, found.sections, section_pages, strict=True):
        log_decision(
            ctx, mode, "fax",
            f"pages {describe_pages(chosen)} to {','.join(section.numbers)} priority "
            f"{request.priority} tag {request.tag!r} notify {request.notify}",
        )  # fmt: skip
    return requests


def held_pages(pending: PendingPrintJob) -> str:
    """The pages a held job will fax, for its decision line ("" when all of them)."""
    selected = format_pages(pending.pages)
    return f" (pages {selected})" if selected else ""


def no_field_reason(title: str, reading_problem: str) -> str:
    why = f": {reading_problem}" if reading_problem else ""
    return (
        f"The print job {title!r} was not faxed because it has no fax number field{why}. "
        f"This fax printer needs a control field with the number in the document, written like "
        f"{EXAMPLE_FIELD} (it may be printed in white). Add the field and print again, or ask "
        f"the administrator about the print gateway mode."
    )


def problems_reason(title: str, found: SectionsFound) -> str:
    listed = "; ".join(problem.message for problem in found.problems)
    return (
        f"The print job {title!r} was not faxed because some control fields are not usable: "
        f"{listed}. Correct them and print the document again; nothing of it was sent."
    )


def log_decision(ctx: InterpretContext, mode: int, decision: str, detail: str) -> None:
    """One line per decision in log/sendfax.log (as the vendor's sendfax.log)."""
    fields = {
        "submission": str(ctx.submission_id),
        "ipp-job": str(ctx.params.get("ipp_job_id", "")),
        "user": str(ctx.params.get("user_name", "")),
        "owner": ctx.owner or "",
        "mode": str(mode),
        "decision": decision,
    }
    text = " ".join(f"{key}={value}" for key, value in fields.items())
    detail = detail.replace("\n", " ")
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text} {detail}\n".encode()
    path = ctx.spool.log / DECISION_LOG
    # O_APPEND with one write per line: lines from parallel workers never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
