"""Delivering received faxes (HylaFAX faxrcvd): PDF + thumbnail, route by extension, mail.

iaxmodemd writes `recvq/faxNNNNNNNN.tif` and a `received_faxes` row in state 'received'.
Here each such fax gets its PDF and first-page thumbnail beside the TIFF, is routed by its
dialled number (DNID) to the fax device with that extension, and is mailed to each of the
device's addresses in the device's format (pdf, tif, inlinegif). A fax for an extension with no
device goes to the faxmaster. The row then becomes 'delivered'. A fax whose TIFF cannot be read
is kept in bad/ (state 'bad') and reported to the faxmaster: never dropped.

The mails are enqueued before the row is marked delivered: a crash in between sends them twice
rather than never.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sqlite3
import time
from pathlib import Path

from PIL import Image

from faxgate.faxqueued import xferfaxlog
from faxgate.faxqueued.jobstore import add_notification
from faxgate.mail import outbox
from faxgate.mail.compose import ReceivedFacts, read_optional, received_fax_mail
from faxgate.settings import Settings
from faxgate.spool.atomic import DiskFullError
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("faxqueued")


def resolve(spool: Spool, stored: str) -> Path:
    """A received fax's path from the ledger: absolute, relative to the spool, or in recvq/."""
    return spool.resolve_stored(stored, spool.recvq)


def png_to_gif(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        out = io.BytesIO()
        image.convert("L").save(out, "GIF")
        return out.getvalue()


def deliver_received(spool: Spool, settings: Settings, ledger: Ledger, limit: int = 20) -> int:
    """Deliver the faxes waiting in state 'received'; returns how many were settled."""
    rows = ledger.query(
        "SELECT * FROM received_faxes WHERE state = 'received' ORDER BY id LIMIT ?", (limit,)
    )
    settled = 0
    for row in rows:
        try:
            deliver_one(spool, settings, ledger, row)
        except DiskFullError as exc:
            # Temporary: the fax stays 'received' and is delivered once there is room.
            log.error("received fax %d waits: %s", row["id"], exc)
            break
        except Exception as exc:
            log.exception("received fax %d cannot be delivered", row["id"])
            keep_bad(spool, settings, ledger, row, str(exc) or type(exc).__name__)
        settled += 1
    return settled


def deliver_one(spool: Spool, settings: Settings, ledger: Ledger, row: sqlite3.Row) -> None:
    from faxgate.convert import received_fax_to_pdf, thumbnail

    tiff = resolve(spool, row["tiff_path"])
    pdf = tiff.with_suffix(".pdf")
    png = tiff.with_suffix(".png")
    pages = received_fax_to_pdf(tiff, pdf)
    try:
        thumbnail(tiff, png)
    except Exception:
        log.exception("received fax %d: no thumbnail", row["id"])
    device = ledger.query_one(
        "SELECT id, extension, name, format FROM fax_devices WHERE extension = ?", (row["dnid"],)
    )
    faxmaster = settings.get_str("sys.fax.configure.mail.faxmaster")
    if device is None:
        addresses, fmt, device_id = [faxmaster], "pdf", None
    else:
        emails = ledger.query(
            "SELECT email FROM fax_device_emails WHERE device_id = ? ORDER BY email",
            (device["id"],),
        )
        addresses = [e["email"] for e in emails] or [faxmaster]
        fmt, device_id = str(device["format"]), int(device["id"])
    facts = ReceivedFacts(
        fax_id=int(row["id"]),
        extension=str(row["dnid"]),
        caller_id=str(row["caller_id"]),
        remote_ident=str(row["remote_ident"]),
        pages=int(row["pages"]) or pages,
        received_at=float(row["received_at"]),
        duration_s=None if row["duration"] is None else float(row["duration"]),
        device_name="" if device is None else str(device["name"]),
        unknown_extension=device is None,
    )
    pdf_bytes = pdf.read_bytes()
    png_bytes = read_optional(png)
    gif = png_to_gif(png_bytes) if (png_bytes is not None and fmt == "inlinegif") else None
    tiff_bytes = tiff.read_bytes() if fmt == "tif" else None
    sender = settings.get_str("sys.fax.configure.mail.sender")
    for address in addresses:
        message = received_fax_mail(facts, sender, address, fmt, pdf_bytes, tiff_bytes, gif)
        outbox.enqueue(spool, message, [address], sender=sender)
    with ledger.transaction() as conn:
        conn.execute(
            "UPDATE received_faxes SET state = 'delivered', pdf_path = ?, thumbnail_path = ?,"
            " device_id = ?, pages = CASE WHEN pages > 0 THEN pages ELSE ? END WHERE id = ?",
            (
                str(pdf.relative_to(spool.root)) if pdf.is_relative_to(spool.root) else str(pdf),
                (str(png.relative_to(spool.root)) if png.is_relative_to(spool.root) else str(png))
                if png.exists()
                else None,
                device_id,
                pages,
                row["id"],
            ),
        )
    with contextlib.suppress(OSError):
        xferfaxlog.append(
            spool.log,
            xferfaxlog.Transfer(
                direction="RECV",
                at=float(row["received_at"]),
                commid=int(row["id"]),
                modem=str(row["line"] or ""),
                jobid=tiff.name,
                number=str(row["dnid"]),
                remote_ident=str(row["remote_ident"]),
                params=int(row["bit_rate"] or 0),
                pages=facts.pages,
                connect_time_s=float(row["duration"] or 0.0),
                cid_number=str(row["caller_id"]),
            ),
        )
    log.info("received fax %d (extension %s) mailed to %s", row["id"], row["dnid"], addresses)


def keep_bad(
    spool: Spool, settings: Settings, ledger: Ledger, row: sqlite3.Row, reason: str
) -> None:
    """Move the fax's files to bad/, mark the row 'bad' and tell the faxmaster."""
    tiff = resolve(spool, row["tiff_path"])
    kept: list[str] = []
    for path in (tiff, tiff.with_suffix(".pdf"), tiff.with_suffix(".png")):
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, spool.bad / path.name)
            kept.append(f"bad/{path.name}")
    with ledger.transaction() as conn:
        conn.execute("UPDATE received_faxes SET state = 'bad' WHERE id = ?", (row["id"],))
        add_notification(
            conn,
            "bad",
            settings.get_str("sys.fax.configure.mail.faxmaster"),
            {
                "reason": f"a received fax could not be delivered: {reason}",
                "files": ", ".join(kept) or "(the fax file is missing)",
                "caller": row["caller_id"],
                "extension": row["dnid"],
            },
            now=time.time(),
        )


UNRECORDED_MIN_AGE_S = 300.0


def sweep_unrecorded(
    spool: Spool, settings: Settings, ledger: Ledger, now: float | None = None
) -> list[Path]:
    """Fax files in recvq/ that no row names (iaxmodemd died between file and row): to bad/.

    The faxmaster is told, so a fax received just before a crash is kept and seen, not lost.
    """
    moment = time.time() if now is None else now
    known = {
        Path(row["tiff_path"]).name for row in ledger.query("SELECT tiff_path FROM received_faxes")
    }
    moved: list[Path] = []
    for path in sorted(spool.recvq.glob("fax*.tif")):
        if path.name in known:
            continue
        with contextlib.suppress(FileNotFoundError):
            if moment - path.stat().st_mtime < UNRECORDED_MIN_AGE_S:
                continue
            os.replace(path, spool.bad / path.name)
            moved.append(spool.bad / path.name)
    if moved:
        with ledger.transaction() as conn:
            add_notification(
                conn,
                "bad",
                settings.get_str("sys.fax.configure.mail.faxmaster"),
                {
                    "reason": "received faxes without a record (the line program stopped while "
                    "storing them); they are kept for you",
                    "files": ", ".join(f"bad/{p.name}" for p in moved),
                },
                now=moment,
            )
        log.warning("moved %d unrecorded received faxes to bad/", len(moved))
    return moved
