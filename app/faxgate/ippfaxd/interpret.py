"""What a print job means: faxes, a rejection, or a pending job for its user (kind "print").

faxqueued calls `interpret(ctx)` in a worker for each accepted print submission. The gateway
mode (`sys.fax.configure.faxprint.mode`) decides:

1. no control fields are searched: the job waits for its user (client hand-off);
2. control fields are required: without a usable FAX field the job is rejected, and the
   notification says why;
3. fields are searched; without any FAX field the job waits for its user.

A document with several FAX fields becomes one FaxRequest per field with its page range (the
ERP serial letter). Every decision is appended as one line to `<spool>/log/sendfax.log`.
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


def page_range(params: dict[str, object]) -> tuple[int, int] | None:
    """The first IPP page-ranges value ("2-5"), when the client asked for some pages only."""
    attributes = params.get("job_attributes")
    if not isinstance(attributes, dict):
        return None
    ranges = attributes.get("page-ranges")
    if not isinstance(ranges, list) or not ranges:
        return None
    lower, _, upper = str(ranges[0]).partition("-")
    if lower.isdigit() and upper.isdigit() and 0 < int(lower) <= int(upper):
        return int(lower), int(upper)
    return None


def interpret(ctx: InterpretContext) -> Interpretation:
    """The decision for one print submission (see the module docstring)."""
    settings = ctx.settings
    mode = settings.get_int(P + "mode")
    mime_type = str(ctx.params.get("mime_type") or "application/octet-stream")
    title = str(ctx.params.get("job_name") or ctx.params.get("document_name") or "print job")
    notify = default_notify(settings, ctx.owner)
    document = DocumentPart(document_of(ctx, mime_type), mime_type, description=title)
    selected = page_range(ctx.params)
    if selected is not None:
        document = DocumentPart(document.path, mime_type, title, selected[0], selected[1])
    pending = PendingPrintJob(owner=ctx.owner, document=document, title=title, notify=notify)

    if mode == 1:
        log_decision(ctx, mode, "pending", "mode 1: waits for its user to give the number")
        return pending
    try:
        texts = extract_page_texts(document.path, mime_type, temp_root=ctx.work_dir)
    except ConversionError as exc:
        texts = []
        reading_problem = f"its text could not be read ({exc})"
    else:
        reading_problem = "" if texts else f"it holds no text that can be read ({mime_type})"
    if selected is not None:
        texts = texts[selected[0] - 1 : selected[1]]
    found = find_sections(texts, matchers(settings))

    if found.fax_fields == 0:
        if mode == 3:
            log_decision(ctx, mode, "pending", "no FAX field: waits for its user")
            return pending
        reason = no_field_reason(title, reading_problem)
        log_decision(ctx, mode, "rejected", reason)
        return Rejection(reason=reason, notify=notify, owner=ctx.owner)
    if found.problems:
        reason = problems_reason(title, found)
        log_decision(ctx, mode, "rejected", reason)
        return Rejection(reason=reason, notify=notify, owner=ctx.owner)

    offset = selected[0] - 1 if selected is not None else 0
    requests = [
        FaxRequest(
            destinations=[Destination(number) for number in section.numbers],
            parts=[
                DocumentPart(
                    document.path,
                    mime_type,
                    description=title,
                    first_page=section.first_page + offset,
                    last_page=section.last_page + offset,
                )
            ],
            priority=section.priority
            if section.priority is not None
            else settings.get_int(P + "priority"),
            max_tries=settings.get_int(P + "tries"),
            tag=section.tag or title,
            notify=section.notify or notify,
            owner=ctx.owner,
        )
        for section in found.sections
    ]
    for request, section in zip(requests, found.sections, strict=True):
        log_decision(
            ctx, mode, "fax",
            f"pages {section.first_page + offset}-{section.last_page + offset} to "
            f"{','.join(section.numbers)} priority {request.priority} tag {request.tag!r} "
            f"notify {request.notify}",
        )  # fmt: skip
    return requests


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
