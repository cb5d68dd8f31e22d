"""Building the mails faxqueued sends: job notifications and received faxes.

Pure functions from facts to `EmailMessage`s (no I/O besides reading the attachment files they
are given), so the texts can be tested on their own. Text is plain words for a person who does
not know fax jargon; HTML mails carry their images inline (cid:) and link nothing external.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

SUBJECTS: dict[str, str] = {
    "done": "Fax to {number} sent",
    "failed": "Fax to {number} failed",
    "requeued": "Fax to {number} not sent yet, will try again",
    "cancelled": "Fax to {number} cancelled",
    "rejected": "Fax not sent: {reason_short}",
    "skipped": "Fax: some documents were not sent",
    "bad": "Fax server: a submission could not be processed",
}


@dataclass(frozen=True)
class JobFacts:
    """What a notification says about a job (missing facts are left out of the text)."""

    kind: str  # done, failed, requeued, cancelled, rejected, skipped, bad
    job_id: int | None = None
    tag: str = ""
    number: str = ""
    recipient_name: str = ""
    pages_sent: int = 0
    pages_total: int = 0
    remote_ident: str = ""
    duration_s: float | None = None
    reason: str = ""
    tries: int = 0
    dials: int = 0
    next_try_at: float | None = None
    skipped: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def notification_lines(facts: JobFacts) -> list[tuple[str, str]]:
    """(label, value) rows of a notification, in reading order."""
    rows: list[tuple[str, str]] = []
    if facts.job_id is not None:
        rows.append(("Job", str(facts.job_id)))
    if facts.tag:
        rows.append(("Tag", facts.tag))
    if facts.number:
        to = f"{facts.recipient_name} ({facts.number})" if facts.recipient_name else facts.number
        rows.append(("To", to))
    if facts.pages_total:
        rows.append(("Pages sent", f"{facts.pages_sent} of {facts.pages_total}"))
    if facts.remote_ident:
        rows.append(("Receiving fax", facts.remote_ident))
    if facts.duration_s is not None:
        rows.append(("Call duration", _duration(facts.duration_s)))
    if facts.dials:
        rows.append(("Calls made", f"{facts.dials} (of which {facts.tries} reached the fax)"))
    if facts.reason:
        rows.append(("Reason" if facts.kind != "done" else "Result", facts.reason))
    if facts.next_try_at is not None:
        rows.append(("Next try", _when(facts.next_try_at)))
    for note in facts.skipped:
        rows.append(("Not sent", note))
    for key, value in sorted(facts.extra.items()):
        rows.append((key.replace("_", " ").capitalize(), str(value)))
    return rows


def headline(facts: JobFacts) -> str:
    number = facts.number or "?"
    return {
        "done": f"Your fax to {number} was sent.",
        "failed": f"Your fax to {number} could not be sent. The fax server gave up.",
        "requeued": f"Your fax to {number} was not sent yet. The fax server will try again.",
        "cancelled": f"Your fax to {number} was cancelled.",
        "rejected": "Your fax was not sent: the fax server could not accept it.",
        "skipped": "Your fax is being sent, but some documents were left out.",
        "bad": "A submission to the fax server could not be processed and was kept in bad/.",
    }.get(facts.kind, f"Fax job update: {facts.kind}")


def subject_of(facts: JobFacts) -> str:
    short = facts.reason.split(";")[0][:60] if facts.reason else "see the details"
    template = SUBJECTS.get(facts.kind, "Fax job {kind}")
    subject = template.format(number=facts.number or "?", reason_short=short, kind=facts.kind)
    return f"{subject} [{facts.tag}]" if facts.tag else subject


def plain_notification(facts: JobFacts, sender: str, to: str) -> EmailMessage:
    """The default notification: plain text."""
    message = _base(sender, to, subject_of(facts))
    width = max((len(label) for label, _v in notification_lines(facts)), default=0)
    body = [headline(facts), ""]
    body += [f"{label + ':':<{width + 1}} {value}" for label, value in notification_lines(facts)]
    message.set_content("\n".join(body) + "\n\n-- \nfaxgate fax server\n")
    return message


def inline_notification(
    facts: JobFacts,
    sender: str,
    to: str,
    first_page: tuple[bytes, str] | None,
    pdf: bytes | None,
) -> EmailMessage:
    """The inline format: HTML with the first page shown (PNG or GIF) and the fax as PDF."""
    message = plain_notification(facts, sender, to)
    rows = "".join(
        f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in notification_lines(facts)
    )
    _add_html(message, f"<p>{html.escape(headline(facts))}</p><table>{rows}</table>", first_page)
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename="fax.pdf")
    return message


@dataclass(frozen=True)
class ReceivedFacts:
    fax_id: int
    extension: str
    caller_id: str
    remote_ident: str
    pages: int
    received_at: float
    duration_s: float | None = None
    device_name: str = ""
    unknown_extension: bool = False


def received_lines(facts: ReceivedFacts) -> list[tuple[str, str]]:
    rows = [
        ("From fax", facts.remote_ident or "(no identity sent)"),
        ("Caller", facts.caller_id or "(unknown)"),
        ("Received", _when(facts.received_at)),
        ("Pages", str(facts.pages)),
        ("Dialled extension", facts.extension or "(none)"),
    ]
    if facts.duration_s is not None:
        rows.append(("Call duration", _duration(facts.duration_s)))
    return rows


def received_subject(facts: ReceivedFacts) -> str:
    who = facts.remote_ident or facts.caller_id or "unknown sender"
    prefix = "Fax for unknown extension" if facts.unknown_extension else "Fax"
    return f"{prefix} {facts.extension or '-'} from {who}, {facts.pages} page(s)"


def received_fax_mail(
    facts: ReceivedFacts,
    sender: str,
    to: str,
    fmt: str,
    pdf: bytes | None,
    tiff: bytes | None,
    first_page_gif: bytes | None,
) -> EmailMessage:
    """A received fax for a device address: format pdf, tif or inlinegif."""
    message = _base(sender, to, received_subject(facts))
    intro = "A fax was received"
    if facts.unknown_extension:
        intro += " for an extension that has no fax device (sent to the faxmaster)"
    width = max(len(label) for label, _v in received_lines(facts))
    text = [intro + ".", ""] + [
        f"{label + ':':<{width + 1}} {value}" for label, value in received_lines(facts)
    ]
    message.set_content("\n".join(text) + "\n\n-- \nfaxgate fax server\n")
    stem = f"fax{facts.fax_id:08d}"
    if fmt == "inlinegif":
        rows = "".join(
            f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
            for label, value in received_lines(facts)
        )
        image = (first_page_gif, "gif") if first_page_gif is not None else None
        _add_html(message, f"<p>{html.escape(intro)}.</p><table>{rows}</table>", image)
    if fmt == "tif" and tiff is not None:
        message.add_attachment(tiff, maintype="image", subtype="tiff", filename=f"{stem}.tif")
    elif pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{stem}.pdf")
    return message


def _base(sender: str, to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Auto-Submitted"] = "auto-generated"
    return message


def _add_html(message: EmailMessage, body: str, image: tuple[bytes, str] | None) -> None:
    if image is None:
        message.add_alternative(f"<html><body>{body}</body></html>", subtype="html")
        return
    data, subtype = image
    cid = make_msgid(domain="faxgate.invalid")
    page = f"<p><img src='cid:{cid[1:-1]}' alt='first page of the fax'></p>"
    message.add_alternative(f"<html><body>{body}{page}</body></html>", subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        data, maintype="image", subtype=subtype, cid=cid, filename=f"page1.{subtype}"
    )


def read_optional(path: Path | None) -> bytes | None:
    if path is None or not path.exists():
        return None
    return path.read_bytes()
