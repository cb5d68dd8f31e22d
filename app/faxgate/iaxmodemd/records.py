"""The ledger rows iaxmodemd writes: `calls` (one per call) and `received_faxes`.

A call's row is written when the call starts (state 'active') and completed when it ends, so a
call cut short by the death of iaxmodemd stays visible: at start-up the rows still 'active' are
marked 'interrupted' (faxqueued treats them as a failed try). A received fax is first written to
`recvq/faxNNNNNNNN.tif` atomically (numbered from `recvq/seqf`, HylaFAX's counter file), then its
`received_faxes` row is inserted — the row never points at a missing file.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from faxgate.faxengine import CallReport
from faxgate.spool.atomic import fsync_directory
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

INTERRUPTED_MESSAGE = "The fax line program (iaxmodemd) stopped during the call."


@dataclass(frozen=True)
class CallStart:
    """What is known when a call starts."""

    direction: str  # 'out' or 'in'
    line: str
    number: str  # dialled number (out) or DNID (in)
    job_id: int | None = None


@dataclass(frozen=True)
class CallEnd:
    """How a call ended, in the ledger's words."""

    outcome: str  # done busy no_answer no_fax protocol_failure remote_refused local_error
    message: str
    reached_handshake: bool
    pages: int
    remote_ident: str
    bit_rate: int | None
    ecm: bool | None
    resolution: str | None

    @classmethod
    def from_report(cls, report: CallReport) -> CallEnd:
        return cls(
            outcome=report.outcome.value,
            message=report.message,
            reached_handshake=report.remote_ident != "" or report.pages > 0,
            pages=report.pages,
            remote_ident=report.remote_ident,
            bit_rate=report.bit_rate or None,
            ecm=report.ecm if report.pages else None,
            resolution=report.resolution or None,
        )


def job_exists(ledger: Ledger, job_id: int) -> bool:
    return ledger.query_one("SELECT 1 FROM jobs WHERE id = ?", (job_id,)) is not None


def start_call(ledger: Ledger, start: CallStart, session_log: Path | None = None) -> int:
    """Insert the call's row (state 'active'); its id."""
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO calls (job_id, direction, line, number, state, session_log, started_at)"
            " VALUES (?, ?, ?, ?, 'active', ?, ?)",
            (
                start.job_id,
                start.direction,
                start.line,
                start.number,
                str(session_log) if session_log else None,
                time.time(),
            ),
        )
        call_id = cursor.lastrowid
    assert call_id is not None
    return call_id


def set_session_log(ledger: Ledger, call_id: int, session_log: Path) -> None:
    with ledger.transaction() as conn:
        conn.execute("UPDATE calls SET session_log = ? WHERE id = ?", (str(session_log), call_id))


def end_call(ledger: Ledger, call_id: int, end: CallEnd) -> None:
    """Complete the call's row (state 'ended')."""
    with ledger.transaction() as conn:
        conn.execute(
            "UPDATE calls SET state = 'ended', outcome = ?, message = ?, reached_handshake = ?,"
            " pages = ?, remote_ident = ?, bit_rate = ?, ecm = ?, resolution = ?, ended_at = ?"
            " WHERE id = ?",
            (
                end.outcome,
                end.message,
                1 if end.reached_handshake else 0,
                end.pages,
                end.remote_ident,
                end.bit_rate,
                None if end.ecm is None else int(end.ecm),
                end.resolution,
                time.time(),
                call_id,
            ),
        )


def mark_interrupted(ledger: Ledger) -> int:
    """Rows left 'active' by an iaxmodemd that died: 'interrupted'. How many there were."""
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "UPDATE calls SET state = 'interrupted', outcome = 'local_error', message = ?,"
            " ended_at = ? WHERE state = 'active'",
            (INTERRUPTED_MESSAGE, time.time()),
        )
        return cursor.rowcount


def next_fax_number(spool: Spool) -> int:
    """The next received-fax number from `recvq/seqf` (HylaFAX's counter), under a file lock."""
    seqf = spool.recvq / "seqf"
    fd = os.open(seqf, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.read(fd, 32).decode("ascii", "replace").strip()
        current = int(raw) if raw.isdigit() else 0
        # Never reuse a number whose file exists (a seqf lost or restored from a backup).
        number = current + 1
        while (spool.recvq / fax_file_name(number)).exists():
            number += 1
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, f"{number}\n".encode())
        os.fsync(fd)
        return number
    finally:
        os.close(fd)


def fax_file_name(number: int) -> str:
    return f"fax{number:08d}.tif"


@dataclass(frozen=True)
class ReceivedFax:
    """A fax received on a line, as the `received_faxes` row holds it."""

    dnid: str
    caller_id: str
    remote_ident: str
    pages: int
    line: str
    bit_rate: int | None
    ecm: bool | None
    duration: float


def keep_in_bad(spool: Spool, partial: Path) -> Path | None:
    """Move a reception that could not be stored (or was cut off) to bad/ for the admin."""
    target = spool.bad / partial.name
    try:
        os.replace(partial, target)
    except FileNotFoundError:
        return None
    return target


def sweep_partial_receptions(spool: Spool) -> list[Path]:
    """At start: receptions a killed iaxmodemd left in tmp/ go to bad/ (never deleted)."""
    kept = [keep_in_bad(spool, path) for path in sorted(spool.tmp.glob("receiving-*.tif"))]
    return [path for path in kept if path is not None]


def store_received(ledger: Ledger, spool: Spool, partial: Path, fax: ReceivedFax) -> Path:
    """Move the fax engine's TIFF into recvq/ atomically and insert its row; the final path."""
    target = spool.recvq / fax_file_name(next_fax_number(spool))
    # A rename within the spool's file system, not a copy: it needs no free space, so a fax
    # received onto a nearly full disk is still stored.
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, target)
    fsync_directory(spool.recvq)
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO received_faxes (tiff_path, dnid, caller_id, remote_ident, pages, line,"
            " bit_rate, ecm, duration, state, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?)",
            (
                str(target),
                fax.dnid,
                fax.caller_id,
                fax.remote_ident,
                fax.pages,
                fax.line,
                fax.bit_rate,
                None if fax.ecm is None else int(fax.ecm),
                fax.duration,
                time.time(),
            ),
        )
    return target
