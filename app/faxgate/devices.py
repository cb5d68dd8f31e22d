"""Fax devices: an extension whose received faxes are mailed to one or more addresses.

A personal device belongs to one person, a group device is shared (several addresses or a
group mailbox). The format is how the fax is attached: pdf (default), tif, or inlinegif (an
HTML mail with the first page shown and the PDF attached).
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from typing import Literal

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.spool.audit import record
from faxgate.spool.ledger import Ledger

DeviceFormat = Literal["pdf", "tif", "inlinegif"]
DeviceKind = Literal["personal", "group"]
FORMATS: tuple[DeviceFormat, ...] = ("pdf", "tif", "inlinegif")
_EXTENSION = re.compile(r"\A[0-9]{1,20}\Z")
_EMAIL = re.compile(r"\A[^@\s]+@[^@\s]+\Z")


class DeviceError(FaxgateError):
    """A fax device could not be created or changed."""


@dataclass(frozen=True)
class FaxDevice:
    id: int
    extension: str
    name: str
    kind: DeviceKind
    format: DeviceFormat
    emails: list[str]


def _check(extension: str, emails: list[str], fmt: str) -> None:
    if not _EXTENSION.match(extension):
        raise DeviceError(f"extension {extension!r} must be digits only (e.g. 100)")
    if not emails:
        raise DeviceError("a fax device needs at least one e-mail address")
    for email in emails:
        if not _EMAIL.match(email):
            raise DeviceError(f"{email!r} is not an e-mail address")
    if fmt not in FORMATS:
        raise DeviceError(f"format {fmt!r} must be one of {', '.join(FORMATS)}")


def add(
    ledger: Ledger,
    extension: str,
    emails: list[str],
    actor: str,
    fmt: str = "pdf",
    name: str = "",
    kind: str | None = None,
) -> FaxDevice:
    _check(extension, emails, fmt)
    kind = kind or ("group" if len(emails) > 1 else "personal")
    if kind not in ("personal", "group"):
        raise DeviceError(f"kind {kind!r} must be personal or group")
    try:
        with ledger.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO fax_devices (extension, name, kind, format, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (extension, name, kind, fmt, time.time()),
            )
            device_id = cursor.lastrowid
            conn.executemany(
                "INSERT INTO fax_device_emails (device_id, email) VALUES (?, ?)",
                [(device_id, email) for email in dict.fromkeys(emails)],
            )
            record(
                conn, actor, "device.add", {"extension": extension, "emails": emails, "format": fmt}
            )
    except sqlite3.IntegrityError:
        raise DeviceError(f"extension {extension} has a fax device already") from None
    return get(ledger, extension)


def update(
    ledger: Ledger,
    extension: str,
    actor: str,
    emails: list[str] | None = None,
    fmt: str | None = None,
    name: str | None = None,
    kind: str | None = None,
) -> FaxDevice:
    current = get(ledger, extension)
    new_emails = emails if emails is not None else current.emails
    new_format = fmt or current.format
    _check(extension, new_emails, new_format)
    with ledger.transaction() as conn:
        conn.execute(
            "UPDATE fax_devices SET format = ?, name = ?, kind = ? WHERE id = ?",
            (new_format, current.name if name is None else name, kind or current.kind, current.id),
        )
        conn.execute("DELETE FROM fax_device_emails WHERE device_id = ?", (current.id,))
        conn.executemany(
            "INSERT INTO fax_device_emails (device_id, email) VALUES (?, ?)",
            [(current.id, email) for email in dict.fromkeys(new_emails)],
        )
        record(conn, actor, "device.update", {"extension": extension})
    return get(ledger, extension)


def remove(ledger: Ledger, extension: str, actor: str) -> None:
    with ledger.transaction() as conn:
        if conn.execute("DELETE FROM fax_devices WHERE extension = ?", (extension,)).rowcount == 0:
            raise NotFoundError(f"there is no fax device with extension {extension}")
        record(conn, actor, "device.remove", {"extension": extension})


def _emails(ledger: Ledger, device_id: int) -> list[str]:
    rows = ledger.query(
        "SELECT email FROM fax_device_emails WHERE device_id = ? ORDER BY email", (device_id,)
    )
    return [row["email"] for row in rows]


def get(ledger: Ledger, extension: str) -> FaxDevice:
    row = ledger.query_one("SELECT * FROM fax_devices WHERE extension = ?", (extension,))
    if row is None:
        raise NotFoundError(f"there is no fax device with extension {extension}")
    return FaxDevice(
        row["id"],
        row["extension"],
        row["name"],
        row["kind"],
        row["format"],
        _emails(ledger, row["id"]),
    )


def find(ledger: Ledger, extension: str) -> FaxDevice | None:
    """The device of `extension`, or None (inbound routing: unknown → faxmaster)."""
    try:
        return get(ledger, extension)
    except NotFoundError:
        return None


def list_all(ledger: Ledger) -> list[FaxDevice]:
    rows = ledger.query("SELECT extension FROM fax_devices ORDER BY length(extension), extension")
    return [get(ledger, row["extension"]) for row in rows]
