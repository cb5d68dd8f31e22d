"""The sent and received fax lists: filters, visibility and keyset pagination over the ledger.

Keyset pagination (WHERE (time, id) < (last time, last id) ORDER BY time DESC, id DESC LIMIT n)
costs the same on page 500 as on page 1, where OFFSET would read and drop every earlier row.
The indexes behind it are in migrations/0500_admin.sql.

Visibility: an administrator sees every fax; an ordinary user sees the jobs they own and the
faxes received on fax devices that mail to their address.
"""

from __future__ import annotations

import math
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from faxgate.spool.ledger import Ledger
from faxgate.users import User

PAGE_SIZE = 50
MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer
MAX_PAGE_SIZE = 500
_CURSOR = re.compile(r"\A(\d+(?:\.\d+)?)_(\d+)\Z")
_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")

SENT_STATES = (
    "pending",
    "sleeping",
    "blocked",
    "ready",
    "active",
    "suspended",
    "done",
    "failed",
    "cancelled",
)
RECEIVED_STATES = (
    "received",
    "delivered",
    "bad",
)  # bad: could not be processed (kept for the admin)


class FilterError(ValueError):
    """A filter value cannot be understood (the message says which and why)."""


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after the row with this time and id."""

    at: float
    id: int

    def encode(self) -> str:
        return f"{self.at!r}_{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        if not text:
            return None
        match = _CURSOR.match(text)
        damaged = FilterError("the page cursor is damaged; start again from the first page")
        if match is None:
            raise damaged
        at, row_id = float(match.group(1)), int(match.group(2))
        if row_id > MAX_ROW_ID or not math.isfinite(at):
            raise damaged
        return cls(at, row_id)


def parse_date(text: str, end_of_day: bool = False) -> float | None:
    """A YYYY-MM-DD date in local time as UNIX seconds (its start, or the start of the next day)."""
    if not text:
        return None
    if not _DATE.match(text):
        raise FilterError(f"{text!r} is not a date like 2026-01-31")
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError as exc:
        raise FilterError(f"{text!r} is not a date: {exc}") from None
    try:
        start = time.mktime(day.timetuple())
    except (OverflowError, ValueError):
        raise FilterError(f"{text!r} is too far from today") from None
    return start + 86400.0 if end_of_day else start


@dataclass(frozen=True)
class FaxFilter:
    date_from: str = ""
    date_to: str = ""
    number: str = ""
    user: str = ""
    state: str = ""
    search: str = ""

    def as_params(self) -> dict[str, str]:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "number": self.number,
            "user": self.user,
            "state": self.state,
            "q": self.search,
        }


@dataclass(frozen=True)
class Scope:
    """Whose faxes a request may see: everyone's (admin) or one user's."""

    owner: str | None  # None: every job
    device_ids: tuple[int, ...] | None  # None: every received fax

    @property
    def everything(self) -> bool:
        return self.owner is None and self.device_ids is None


def scope_for(ledger: Ledger, user: User, mail_domain: str) -> Scope:
    if user.role == "admin":
        return Scope(None, None)
    addresses = {f"{user.name}@{mail_domain}".lower()}
    if user.email:
        addresses.add(user.email.lower())
    marks = ",".join("?" * len(addresses))
    rows = ledger.query(
        f"SELECT DISTINCT device_id FROM fax_device_emails WHERE lower(email) IN ({marks})",  # noqa: S608
        tuple(sorted(addresses)),
    )
    return Scope(user.name, tuple(sorted(row[0] for row in rows)))


@dataclass
class Page:
    rows: list[sqlite3.Row]
    next_cursor: str | None
    filters: FaxFilter = field(default_factory=FaxFilter)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _add_common(
    where: list[str],
    args: list[object],
    flt: FaxFilter,
    states: tuple[str, ...],
    state_column: str,
    date_column: str,
    search_columns: tuple[str, ...],
) -> None:
    """The filters both lists share: state, date range and the free-text search."""
    if flt.state:
        if flt.state not in states:
            raise FilterError(f"state must be one of {', '.join(states)}")
        where.append(f"{state_column} = ?")
        args.append(flt.state)
    start, end = parse_date(flt.date_from), parse_date(flt.date_to, end_of_day=True)
    if start is not None:
        where.append(f"{date_column} >= ?")
        args.append(start)
    if end is not None:
        where.append(f"{date_column} < ?")
        args.append(end)
    if flt.search:
        where.append(
            "(" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in search_columns) + ")"
        )
        args.extend([_like(flt.search)] * len(search_columns))


def _sent_where(flt: FaxFilter, scope: Scope) -> tuple[list[str], list[object]]:
    where: list[str] = []
    args: list[object] = []
    if scope.owner is not None:
        where.append("j.owner = ?")
        args.append(scope.owner)
    if flt.user:
        where.append("j.owner = ?")
        args.append(flt.user)
    if flt.number:
        where.append("j.number LIKE ? ESCAPE '\\'")
        args.append(_like(flt.number))
    search = ("j.number", "j.recipient_name", "j.tag", "j.remote_ident", "ifnull(j.last_error, '')")
    _add_common(where, args, flt, SENT_STATES, "j.state", "j.created_at", search)
    return where, args


def _received_where(flt: FaxFilter, scope: Scope) -> tuple[list[str], list[object]]:
    where: list[str] = []
    args: list[object] = []
    if scope.device_ids is not None:
        if not scope.device_ids:
            where.append("0")
        else:
            where.append(f"r.device_id IN ({','.join('?' * len(scope.device_ids))})")
            args.extend(scope.device_ids)
    if flt.user:
        # For received faxes the "user" is the fax device (its extension) the fax went to.
        where.append("r.dnid = ?")
        args.append(flt.user)
    if flt.number:
        where.append("(r.caller_id LIKE ? ESCAPE '\\' OR r.dnid LIKE ? ESCAPE '\\')")
        args.extend([_like(flt.number)] * 2)
    search = ("r.caller_id", "r.remote_ident", "r.dnid")
    _add_common(where, args, flt, RECEIVED_STATES, "r.state", "r.received_at", search)
    return where, args


SENT_SELECT = (
    "SELECT j.id, j.number, j.recipient_name, j.state, j.priority, j.owner, j.tag, j.tries,"
    " j.max_tries, j.pages_total, j.pages_sent, j.line, j.remote_ident, j.last_outcome,"
    " j.last_error, j.created_at, j.updated_at, j.done_at, j.send_at, j.next_try_at,"
    " j.document_id, d.pages AS document_pages"
    " FROM jobs j LEFT JOIN documents d ON d.id = j.document_id"
)
RECEIVED_SELECT = (
    "SELECT r.id, r.dnid, r.caller_id, r.remote_ident, r.pages, r.line, r.bit_rate, r.ecm,"
    " r.duration, r.state, r.received_at, r.device_id, r.thumbnail_path, r.pdf_path,"
    " r.tiff_path, fd.extension AS device_extension, fd.name AS device_name"
    " FROM received_faxes r LEFT JOIN fax_devices fd ON fd.id = r.device_id"
)


def _page(
    ledger: Ledger,
    select: str,
    where: list[str],
    args: list[object],
    time_column: str,
    id_column: str,
    cursor: Cursor | None,
    limit: int,
) -> tuple[list[sqlite3.Row], str | None]:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if cursor is not None:
        where = [*where, f"({time_column}, {id_column}) < (?, ?)"]
        args = [*args, cursor.at, cursor.id]
    sql = select
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {time_column} DESC, {id_column} DESC LIMIT ?"
    rows = ledger.query(sql, (*args, limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = Cursor(last[time_column.split(".")[1]], last["id"]).encode()
    return rows, next_cursor


def sent_page(
    ledger: Ledger, flt: FaxFilter, scope: Scope, cursor: str = "", limit: int = PAGE_SIZE
) -> Page:
    where, args = _sent_where(flt, scope)
    rows, nxt = _page(
        ledger, SENT_SELECT, where, args, "j.created_at", "j.id", Cursor.decode(cursor), limit
    )
    return Page(rows, nxt, flt)


def received_page(
    ledger: Ledger, flt: FaxFilter, scope: Scope, cursor: str = "", limit: int = PAGE_SIZE
) -> Page:
    where, args = _received_where(flt, scope)
    rows, nxt = _page(
        ledger, RECEIVED_SELECT, where, args, "r.received_at", "r.id", Cursor.decode(cursor), limit
    )
    return Page(rows, nxt, flt)


def all_rows(
    ledger: Ledger, kind: str, flt: FaxFilter, scope: Scope, cap: int = 200_000
) -> Iterator[sqlite3.Row]:
    """Every matching row, page by page (for CSV export)."""
    fetch = sent_page if kind == "sent" else received_page
    cursor = ""
    produced = 0
    while produced < cap:
        page = fetch(ledger, flt, scope, cursor, MAX_PAGE_SIZE)
        yield from page.rows
        produced += len(page.rows)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def sent_job(ledger: Ledger, job_id: int, scope: Scope) -> sqlite3.Row | None:
    """One job, or None when it does not exist or is not the user's (no difference shown)."""
    row = ledger.query_one(SENT_SELECT + " WHERE j.id = ?", (job_id,))
    if row is None or (scope.owner is not None and row["owner"] != scope.owner):
        return None
    return row


def received_fax(ledger: Ledger, fax_id: int, scope: Scope) -> sqlite3.Row | None:
    row = ledger.query_one(RECEIVED_SELECT + " WHERE r.id = ?", (fax_id,))
    if row is None:
        return None
    if scope.device_ids is not None and row["device_id"] not in scope.device_ids:
        return None
    return row


def has_table(ledger: Ledger, name: str) -> bool:
    return (
        ledger.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        is not None
    )


def job_calls(ledger: Ledger, job_id: int) -> list[sqlite3.Row]:
    return ledger.query("SELECT * FROM calls WHERE job_id = ? ORDER BY started_at", (job_id,))


def received_calls(ledger: Ledger, fax: sqlite3.Row) -> list[sqlite3.Row]:
    """The inbound call(s) that brought this fax: same line, ended around when it arrived."""
    if fax["line"] is None:
        return []
    return ledger.query(
        "SELECT * FROM calls WHERE direction = 'in' AND line = ? AND started_at <= ?"
        " AND ifnull(ended_at, started_at) >= ? ORDER BY started_at DESC LIMIT 1",
        (fax["line"], fax["received_at"] + 5.0, fax["received_at"] - 600.0),
    )


def job_notifications(ledger: Ledger, job_id: int) -> list[sqlite3.Row]:
    if not has_table(ledger, "queue_notifications"):
        return []
    return ledger.query(
        "SELECT * FROM queue_notifications WHERE job_id = ? ORDER BY created_at", (job_id,)
    )


def device_emails(ledger: Ledger, device_id: int | None) -> list[str]:
    if device_id is None:
        return []
    rows = ledger.query(
        "SELECT email FROM fax_device_emails WHERE device_id = ? ORDER BY email", (device_id,)
    )
    return [row[0] for row in rows]


def document_path(ledger: Ledger, document_id: int | None) -> str | None:
    if document_id is None:
        return None
    row = ledger.query_one("SELECT path FROM documents WHERE id = ?", (document_id,))
    return None if row is None else str(row[0])


SESSION_LOG_LIMIT = 256 * 1024


def session_log_text(spool_root: Path, stored: str | None) -> str:
    """A call's session log: iaxmodemd records the path of its file in log/ (the text is shown;
    a path outside the spool, or text stored directly, is shown as it is)."""
    if not stored:
        return ""
    path = Path(stored)
    if not path.is_absolute():
        path = spool_root / "log" / path
    try:
        resolved = path.resolve()
        if spool_root.resolve() in resolved.parents and resolved.is_file():
            with resolved.open("rb") as stream:
                return stream.read(SESSION_LOG_LIMIT).decode("utf-8", "replace")
    except OSError:
        pass
    return stored


def calls_with_logs(spool_root: Path, calls: list[sqlite3.Row]) -> list[dict[str, object]]:
    """Call rows as dicts with `log_text`, the session log itself."""
    return [
        {**dict(call), "log_text": session_log_text(spool_root, call["session_log"])}
        for call in calls
    ]
