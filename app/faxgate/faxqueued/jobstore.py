"""Reading and writing jobs, calls and owed notifications in the ledger.

Every state change that someone must hear about writes its `queue_notifications` row in the
same transaction, so a crash can delay a notification but never lose it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence

from faxgate.faxqueued.scheduling import JobState, JobView, StateChange
from faxgate.spool.ledger import Ledger

WAITING = ("pending", "sleeping", "blocked", "ready")
UNFINISHED = (*WAITING, "active", "suspended")


def job_view(row: sqlite3.Row) -> JobView:
    return JobView(
        id=int(row["id"]),
        number=str(row["number"]),
        state=JobState(row["state"]),
        priority=int(row["priority"]),
        send_at=float(row["send_at"]),
        kill_at=float(row["kill_at"]),
        next_try_at=None if row["next_try_at"] is None else float(row["next_try_at"]),
        tries=int(row["tries"]),
        dials=int(row["dials"]),
        max_tries=int(row["max_tries"]),
        max_dials=int(row["max_dials"]),
        created_at=float(row["created_at"]),
    )


def unfinished_jobs(ledger: Ledger) -> list[JobView]:
    marks = ",".join("?" * len(UNFINISHED))
    rows = ledger.query(f"SELECT * FROM jobs WHERE state IN ({marks})", UNFINISHED)  # noqa: S608
    return [job_view(row) for row in rows]


def add_notification(
    conn: sqlite3.Connection,
    kind: str,
    address: str | None,
    detail: Mapping[str, object],
    job_id: int | None = None,
    submission_id: int | None = None,
    now: float | None = None,
) -> None:
    """Owe a notification (nothing when nobody is to be told)."""
    if not address:
        return
    conn.execute(
        "INSERT INTO queue_notifications (job_id, submission_id, kind, address, detail, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            job_id,
            submission_id,
            kind,
            address,
            json.dumps(dict(detail), sort_keys=True),
            time.time() if now is None else now,
        ),
    )


def apply_changes(ledger: Ledger, changes: Sequence[StateChange], now: float) -> None:
    """Write a scheduler pass's state changes; a job that fails here (kill time) is notified."""
    if not changes:
        return
    with ledger.transaction() as conn:
        for change in changes:
            if change.state is JobState.ACTIVE:
                continue  # dispatch sets active itself, together with the line
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (change.job_id,)).fetchone()
            if row is None or row["state"] not in WAITING:
                continue  # someone (a cancel, a call result) got there first: their word stands
            finished = change.state in (JobState.FAILED, JobState.DONE, JobState.CANCELLED)
            conn.execute(
                "UPDATE jobs SET state = ?, last_error = COALESCE(NULLIF(?, ''), last_error),"
                " updated_at = ?, done_at = CASE WHEN ? THEN ? ELSE done_at END WHERE id = ?",
                (change.state.value, change.reason, now, finished, now, change.job_id),
            )
            if change.state is JobState.FAILED:
                add_notification(
                    conn,
                    "failed",
                    row["notify"],
                    {"reason": change.reason},
                    job_id=change.job_id,
                    now=now,
                )


def mark_dispatched(ledger: Ledger, job_id: int, line: str, now: float) -> bool:
    """Make a waiting job active on `line`; False if it is no longer waiting (e.g. cancelled)."""
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "UPDATE jobs SET state = 'active', line = ?, dispatched_at = ?, updated_at = ?"
            " WHERE id = ? AND state IN ('pending', 'sleeping', 'blocked', 'ready')",
            (line, now, now, job_id),
        )
        return cursor.rowcount == 1


def undo_dispatch(ledger: Ledger, job_id: int, now: float, retry_at: float, reason: str) -> None:
    """A dial order that was refused: no call happened, so nothing is counted."""
    with ledger.transaction() as conn:
        row = conn.execute(
            "SELECT cancel_requested, notify FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        if row is not None and row["cancel_requested"]:
            conn.execute(
                "UPDATE jobs SET state = 'cancelled', line = NULL, done_at = ?, updated_at = ?"
                " WHERE id = ? AND state = 'active'",
                (now, now, job_id),
            )
            add_notification(
                conn, "cancelled", row["notify"], {"reason": "cancelled"}, job_id=job_id, now=now
            )
            return
        conn.execute(
            "UPDATE jobs SET state = 'sleeping', line = NULL, dispatched_at = NULL,"
            " next_try_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND state = 'active'",
            (retry_at, reason, now, job_id),
        )
