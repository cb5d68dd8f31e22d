"""Queue actions from the admin and the API: cancel, retry now, priority, suspend, resume.

They change the job row in one transaction (with its audit entry) and wake faxqueued, which
picks up the new state on its next pass. A running call is not cancelled here directly: `cancel_requested` asks
faxqueued to abort it (and iaxmodemd is told at once, best effort).
"""

from __future__ import annotations

import json
import socket
from typing import Any

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.spool.audit import record
from faxgate.spool.intake import poke
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

WAITING = ("pending", "sleeping", "blocked", "ready")
UNFINISHED = (*WAITING, "active", "suspended")
ACTIONS = ("cancel", "retry", "priority", "suspend", "resume")


class QueueActionError(FaxgateError):
    """The action does not fit the job's state (the message says why)."""


def _job(ledger: Ledger, job_id: int, owner: str | None) -> Any:
    row = ledger.query_one("SELECT id, state, owner, priority FROM jobs WHERE id = ?", (job_id,))
    if row is None or (owner is not None and row["owner"] != owner):
        raise NotFoundError(f"there is no job {job_id}")
    return row


def _has_column(ledger: Ledger, table: str, column: str) -> bool:
    return any(row[1] == column for row in ledger.query(f"PRAGMA table_info({table})"))


def _abort_call(spool: Spool, job_id: int) -> None:
    """Tell iaxmodemd to hang up the job's call (faxqueued does it too; this is just faster)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(spool.iaxmodemd_socket))
            sock.sendall(json.dumps({"op": "abort", "job": job_id}).encode() + b"\n")
    except OSError:
        pass


def perform(
    spool: Spool,
    ledger: Ledger,
    job_id: int,
    action: str,
    actor: str,
    now: float,
    owner: str | None = None,
    priority: int | None = None,
) -> str:
    """Do `action` on a job (only the owner's when `owner` is set); returns what happened."""
    if action not in ACTIONS:
        raise QueueActionError(f"unknown action {action!r}")
    job = _job(ledger, job_id, owner)
    state = job["state"]
    with ledger.transaction() as conn:
        if action == "cancel":
            if state in (*WAITING, "suspended"):
                conn.execute(
                    "UPDATE jobs SET state = 'cancelled', done_at = ?, updated_at = ?,"
                    " last_error = 'cancelled by ' || ? WHERE id = ?",
                    (now, now, actor, job_id),
                )
                result = f"job {job_id} cancelled"
            elif state == "active":
                if not _has_column(ledger, "jobs", "cancel_requested"):
                    raise QueueActionError("this queue cannot cancel a running call yet")
                conn.execute(
                    "UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?",
                    (now, job_id),
                )
                result = f"job {job_id}: the call is being stopped"
            else:
                raise QueueActionError(f"job {job_id} is {state} already")
        elif action == "retry":
            if state not in WAITING:
                raise QueueActionError(f"job {job_id} is {state}: only waiting jobs can be retried")
            conn.execute(
                "UPDATE jobs SET next_try_at = ?, send_at = min(send_at, ?), updated_at = ?"
                " WHERE id = ?",
                (now, now, now, job_id),
            )
            result = f"job {job_id} will be tried now"
        elif action == "priority":
            if priority is None or not 0 <= priority <= 255:
                raise QueueActionError("a priority is a number from 0 (first) to 255 (last)")
            if state not in UNFINISHED:
                raise QueueActionError(f"job {job_id} is {state} already")
            conn.execute(
                "UPDATE jobs SET priority = ?, updated_at = ? WHERE id = ?", (priority, now, job_id)
            )
            result = f"job {job_id} has priority {priority}"
        elif action == "suspend":
            if state not in WAITING:
                raise QueueActionError(
                    f"job {job_id} is {state}: only waiting jobs can be suspended"
                )
            conn.execute(
                "UPDATE jobs SET state = 'suspended', updated_at = ? WHERE id = ?", (now, job_id)
            )
            result = f"job {job_id} suspended"
        else:
            if state != "suspended":
                raise QueueActionError(f"job {job_id} is {state}, not suspended")
            conn.execute(
                "UPDATE jobs SET state = 'pending', updated_at = ? WHERE id = ?", (now, job_id)
            )
            result = f"job {job_id} resumed"
        record(conn, actor, f"job.{action}", {"job": job_id, "priority": priority})
    if action == "cancel" and state == "active":
        _abort_call(spool, job_id)
    poke(spool)
    return result


def unfinished_jobs(ledger: Ledger, owner: str | None, limit: int = 500) -> list[Any]:
    """Active and waiting jobs, the order the queue serves them (active first)."""
    marks = ",".join("?" * len(UNFINISHED))
    owner_clause = " AND owner = ?" if owner is not None else ""
    # Only placeholders are joined in; the values travel as parameters.
    sql = f"SELECT * FROM jobs WHERE state IN ({marks}){owner_clause} ORDER BY state != 'active', priority, send_at, id LIMIT ?"  # noqa: S608
    args: tuple[object, ...] = (*UNFINISHED, *((owner,) if owner is not None else ()), limit)
    return ledger.query(sql, args)
