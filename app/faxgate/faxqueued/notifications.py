"""Sending the notifications the ledger owes (queue_notifications rows) through the outbox.

The format is plain text, or *inline* (HTML with the first page shown and the fax attached as
PDF) when sys.fax.configure.notify.format is "inline" or `INLINE=true` is set in
`<spool>/etc/FaxNotify`, as the vendor documentation describes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from email.message import EmailMessage
from pathlib import Path

from faxgate.errors import SpoolError
from faxgate.mail import outbox
from faxgate.mail.compose import JobFacts, inline_notification, plain_notification
from faxgate.settings import Settings
from faxgate.spool.atomic import write_atomic
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("faxqueued")

FAXNOTIFY_NAME = "FaxNotify"
DEFAULT_FAXNOTIFY = """\
# FaxNotify: the format of fax job notifications.
#
# By default a notification is a plain-text mail. Remove the # in front of the next line to
# get an HTML mail instead, with the first page of the fax shown inline and the whole fax
# attached as PDF (the same as setting sys.fax.configure.notify.format to "inline").
#INLINE=true
"""


def ensure_faxnotify(spool: Spool) -> Path:
    """Create etc/FaxNotify with the INLINE line commented out, unless it exists."""
    path = spool.etc / FAXNOTIFY_NAME
    if not path.exists():
        write_atomic(path, DEFAULT_FAXNOTIFY.encode(), mode=0o644, tmp_dir=spool.tmp)
    return path


def faxnotify_inline(text: str) -> bool:
    """Whether a FaxNotify text switches the inline format on (INLINE=true, not commented)."""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        name, equals, value = line.partition("=")
        if equals and name.strip().upper() == "INLINE":
            return value.strip().strip("\"'").lower() in ("true", "yes", "1", "on")
    return False


def inline_wanted(spool: Spool, settings: Settings) -> bool:
    if settings.get_str("sys.fax.configure.notify.format") == "inline":
        return True
    try:
        return faxnotify_inline((spool.etc / FAXNOTIFY_NAME).read_text(errors="replace"))
    except FileNotFoundError:
        return False


def facts_of(row: sqlite3.Row, job: sqlite3.Row | None) -> JobFacts:
    detail = json.loads(row["detail"] or "{}")
    if not isinstance(detail, dict):
        detail = {}
    skipped = detail.pop("skipped", None)
    if skipped is None and job is not None:
        skipped = json.loads(job["skipped"] or "[]")
    known = {
        "reason",
        "next_try_at",
        "pages_sent",
        "remote_ident",
        "duration",
        "tries",
        "dials",
        "tag",
        "numbers",
        "kind",
    }
    extra: dict[str, object] = {k: v for k, v in detail.items() if k not in known}
    if detail.get("numbers"):
        extra["numbers"] = ", ".join(str(n) for n in detail["numbers"])
    return JobFacts(
        kind=str(row["kind"]),
        job_id=None if job is None else int(job["id"]),
        tag=str(detail.get("tag") or (job["tag"] if job is not None else "") or ""),
        number="" if job is None else str(job["number"]),
        recipient_name="" if job is None else str(job["recipient_name"]),
        pages_sent=int(detail.get("pages_sent", job["pages_sent"] if job is not None else 0)),
        pages_total=0 if job is None else int(job["pages_total"]),
        remote_ident=str(detail.get("remote_ident") or (job["remote_ident"] if job else "") or ""),
        duration_s=float(detail["duration"]) if detail.get("duration") is not None else None,
        reason=str(detail.get("reason") or ""),
        tries=int(detail.get("tries", job["tries"] if job is not None else 0)),
        dials=int(detail.get("dials", job["dials"] if job is not None else 0)),
        next_try_at=float(detail["next_try_at"]) if detail.get("next_try_at") else None,
        skipped=[str(s) for s in skipped or []],
        extra=extra,
    )


def document_previews(spool: Spool, document_path: Path) -> tuple[bytes | None, bytes | None]:
    """(PNG of the first page, PDF) of a fax document, made in tmp/ and not kept."""
    from faxgate.convert import received_fax_to_pdf, thumbnail

    stem = f"notify-{document_path.stem}-{time.monotonic_ns()}"
    png = spool.tmp / f"{stem}.png"
    pdf = spool.tmp / f"{stem}.pdf"
    try:
        try:
            thumbnail(document_path, png)
            image = png.read_bytes()
        except Exception:
            log.exception("no first-page preview for %s", document_path.name)
            image = None
        try:
            received_fax_to_pdf(document_path, pdf)
            document = pdf.read_bytes()
        except Exception:
            log.exception("no PDF for %s", document_path.name)
            document = None
        return image, document
    finally:
        for path in (png, pdf):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def send_owed(spool: Spool, settings: Settings, ledger: Ledger, limit: int = 50) -> int:
    """Compose and enqueue the owed notifications; returns how many went to the outbox."""
    rows = ledger.query(
        "SELECT * FROM queue_notifications WHERE sent_at IS NULL ORDER BY id LIMIT ?", (limit,)
    )
    sender = settings.get_str("sys.fax.configure.mail.sender")
    inline = inline_wanted(spool, settings)
    requeued = settings.get_bool("sys.fax.configure.notify.requeued")
    sent = 0
    for row in rows:
        if row["kind"] == "requeued" and not requeued:
            _settle(ledger, row["id"])  # no mail: the final result will still be mailed
            continue
        try:
            message = compose(spool, ledger, row, sender, inline)
        except Exception:
            # A notification that cannot be made must not block the others (nor loop forever).
            log.exception("notification %d could not be composed; dropped", row["id"])
            message = None
        if message is not None:
            try:
                outbox.enqueue(spool, message, [row["address"]], sender=sender)
            except SpoolError as exc:
                # Disk full or the like: keep it owed and try again on a later pass.
                log.error("notification %d waits: cannot write to the outbox: %s", row["id"], exc)
                break
            except outbox.MailError as exc:
                log.error("notification %d dropped: %s", row["id"], exc)
        _settle(ledger, row["id"])
        sent += 1
    return sent


def _settle(ledger: Ledger, notification_id: int) -> None:
    """Mark a notification as no longer owed."""
    with ledger.transaction() as conn:
        conn.execute(
            "UPDATE queue_notifications SET sent_at = ? WHERE id = ?",
            (time.time(), notification_id),
        )


def compose(
    spool: Spool, ledger: Ledger, row: sqlite3.Row, sender: str, inline: bool
) -> EmailMessage:
    job = None
    if row["job_id"] is not None:
        job = ledger.query_one("SELECT * FROM jobs WHERE id = ?", (row["job_id"],))
    facts = facts_of(row, job)
    if inline and job is not None and job["document_id"] is not None:
        doc = ledger.query_one("SELECT path FROM documents WHERE id = ?", (job["document_id"],))
        if doc is not None and (spool.docq / doc["path"]).exists():
            image, pdf = document_previews(spool, spool.docq / doc["path"])
            first = (image, "png") if image is not None else None
            return inline_notification(facts, sender, row["address"], first, pdf)
    return plain_notification(facts, sender, row["address"])
