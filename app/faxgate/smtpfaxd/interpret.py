"""What a stored mail means: fax requests, or a rejection that says what to change.

Called by faxqueued's intake in a worker (never in the SMTP session) for submissions of kind
"mail". The recipients come from the submission's params, as decided and promised at RCPT time;
the content comes from the MIME walk. Several recipients make ONE request with several
destinations, so the document is converted once.

faxmail mode 0: a first page with the subject and body (the cover page), then the attachments.
faxmail mode 1: only the attachments; a mail without any that can be faxed is rejected.
Attachments without a converter in the spool's mimetype/ are skipped and named in the
notification.
"""

from __future__ import annotations

import datetime
import logging
import re
from pathlib import Path

from faxgate.convert.errors import UnsupportedTypeError
from faxgate.convert.options import Compression, FaxPageOptions, Resolution
from faxgate.convert.runner import find_converter
from faxgate.errors import ConversionError
from faxgate.mail.addresses import FaxRecipient
from faxgate.mail.doctype import attachment_type
from faxgate.mail.mime_walk import Attachment, WalkedMail, walk_mail
from faxgate.settings import Settings
from faxgate.spool.requests import (
    Destination,
    DocumentPart,
    FaxRequest,
    Interpretation,
    InterpretContext,
    Rejection,
)

log = logging.getLogger("faxqueued.mail")

COVER_MIME_TYPE = "image/tiff"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def interpret(ctx: InterpretContext) -> Interpretation:
    """Turn the stored mail `ctx.raw_path` into fax requests or a rejection."""
    settings = ctx.settings
    mail = walk_mail(ctx.raw_path.read_bytes())
    notify = notification_address(mail, ctx.params, settings)
    recipients = _distinct_numbers(
        [FaxRecipient.from_params(item) for item in _list(ctx.params.get("recipients"))]
    )
    subject_note = f" ({mail.subject!r})" if mail.subject else ""
    if not recipients:
        return Rejection(f"Your mail{subject_note} had no fax recipient.", notify, ctx.owner)
    if mail.problems:
        return Rejection(
            f"Your mail{subject_note} could not be faxed: " + "; ".join(mail.problems) + ".",
            notify,
            ctx.owner,
        )
    attachments, skipped = attachment_parts(mail.attachments, ctx.spool.mimetype, ctx.work_dir)
    skipped = [*mail.notes, *skipped]
    mode = settings.get_int("sys.fax.configure.faxmail.mode")
    parts: list[DocumentPart] = []
    if mode == 0 and not (mail.body_is_blank() and not mail.subject.strip()):
        parts.append(_cover_part(mail, recipients, ctx))
    parts.extend(attachments)
    if not parts:
        return Rejection(_nothing_to_fax(mail, mode, skipped), notify, ctx.owner)
    return [
        FaxRequest(
            # as written: the queue puts the dial prefix in front (and checks the block list)
            destinations=[Destination(number=r.written, name=r.name) for r in recipients],
            parts=parts,
            priority=settings.get_int("sys.fax.configure.queue.priority"),
            max_tries=settings.get_int("sys.fax.configure.queue.tries"),
            tag=mail.subject[:80],
            notify=notify,
            owner=ctx.owner,
            skipped=skipped,
        )
    ]


def notification_address(
    mail: WalkedMail, params: dict[str, object], settings: Settings
) -> str | None:
    """The envelope sender, or Reply-To when configured; None for the null sender (bounces)."""
    if settings.get_bool("sys.fax.configure.faxmail.notify.replyto") and mail.reply_to:
        return mail.reply_to
    sender = str(params.get("mail_from") or "")
    # RFC 5321 6.1: nothing is ever sent back to the null sender, or mail loops could start.
    return sender or None


def attachment_parts(
    attachments: list[Attachment], mimetype_dir: Path, work_dir: Path
) -> tuple[list[DocumentPart], list[str]]:
    """Files for the attachments that can be faxed, and plain-words notes for the others."""
    parts: list[DocumentPart] = []
    skipped: list[str] = []
    for index, attachment in enumerate(attachments, start=1):
        name = attachment.filename
        if not attachment.data:
            skipped.append(f"{name}: the attachment is empty")
            continue
        mime_type = attachment_type(attachment.data, attachment.declared_type, name)
        try:
            find_converter(mimetype_dir, mime_type)
        except UnsupportedTypeError:
            skipped.append(
                f"{name}: files of type {mime_type} cannot be faxed by this server (send it as PDF)"
            )
            continue
        except ConversionError as exc:
            skipped.append(f"{name}: {exc}")
            continue
        path = work_dir / f"attachment-{index:03d}-{_safe_name(name)}"
        path.write_bytes(attachment.data)
        parts.append(DocumentPart(path=path, mime_type=mime_type, description=name))
    return parts, skipped


def _cover_part(
    mail: WalkedMail, recipients: list[FaxRecipient], ctx: InterpretContext
) -> DocumentPart:
    """The first page(s): subject and body, made once for all recipients."""
    body_html, body_text = _body(mail)
    if len(recipients) == 1:
        to_name, number = recipients[0].name, recipients[0].written
    else:
        to_name = ", ".join(r.name or r.written for r in recipients)
        number = f"{len(recipients)} recipients"
    received = ctx.params.get("received_at")
    when = (
        datetime.datetime.fromtimestamp(float(received)).astimezone()
        if isinstance(received, int | float)
        else datetime.datetime.now().astimezone()
    )
    out = ctx.work_dir / "cover.tif"
    try:
        from faxgate.convert.cover import cover_page

        cover_page(
            mail.subject, mail.from_header or mail.sender, to_name, number, when,
            body_text=body_text, body_html=body_html, out_tiff=out,
            options=_page_options(ctx.settings),
        )  # fmt: skip
        return DocumentPart(path=out, mime_type=COVER_MIME_TYPE, description="subject and text")
    except (ImportError, ConversionError, ValueError, OSError) as exc:
        # The body is still faxed, as a text document through the normal converter.
        log.warning("cover page failed (%s); faxing the body as text", exc)
        text = out.with_suffix(".txt")
        text.write_text(f"Subject: {mail.subject}\n\n{_plain_body(mail)}", encoding="utf-8")
        return DocumentPart(path=text, mime_type="text/plain", description="subject and text")


def _page_options(settings: Settings) -> FaxPageOptions:
    return FaxPageOptions(
        resolution=Resolution(settings.get_str("sys.fax.configure.convert.resolution")),
        compression=Compression(settings.get_str("sys.fax.configure.convert.compression")),
    )


def _body(mail: WalkedMail) -> tuple[str | None, str | None]:
    """(html, text): one of them, the body fragments joined in reading order."""
    if mail.body_kind == "html":
        pieces = [
            f.text if f.kind == "html" else "<pre>" + _escape(f.text) + "</pre>" for f in mail.body
        ]
        return "\n".join(pieces), None
    return None, _plain_body(mail)


def _plain_body(mail: WalkedMail) -> str:
    return "\n".join(f.text for f in mail.body if f.kind == "plain").strip("\n")


def _nothing_to_fax(mail: WalkedMail, mode: int, skipped: list[str]) -> str:
    subject = f" ({mail.subject!r})" if mail.subject else ""
    if mode == 1:
        reason = (
            f"Your mail{subject} has no attachment that can be faxed. This fax server sends only "
            "the attachments of a mail: attach the document to fax, as PDF."
        )
    else:
        reason = f"Your mail{subject} is empty: there is no text and no attachment to fax."
    if skipped:
        reason += " Not faxed: " + "; ".join(skipped) + "."
    return reason


def _distinct_numbers(recipients: list[FaxRecipient]) -> list[FaxRecipient]:
    """One destination per dialled number: two addresses for one fax machine send one fax."""
    seen: set[str] = set()
    distinct: list[FaxRecipient] = []
    for recipient in recipients:
        if recipient.number not in seen:
            seen.add(recipient.number)
            distinct.append(recipient)
    return distinct


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_name(name: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", name).strip("._") or "file"
    return cleaned[-80:]


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
