"""Queue actions from the admin and the API: cancel, retry now, priority, suspend, resume.

The work is faxqueued's (`faxgate.faxqueued.api`, which records the audit entry and wakes the
queue); this module adds who may do it: an ordinary user only acts on their own jobs, and a job
of someone else looks the same as one that does not exist.
"""

from __future__ import annotations

import sqlite3

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxqueued import api
from faxgate.settings import Settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

UNFINISHED = ("pending", "sleeping", "blocked", "ready", "active", "suspended")
ACTIONS = ("cancel", "retry", "priority", "suspend", "resume")


class QueueActionError(FaxgateError):
    """The action is unknown or its value is wrong (the message says why)."""


def check_owner(ledger: Ledger, job_id: int, owner: str | None) -> None:
    row = ledger.query_one("SELECT owner FROM jobs WHERE id = ?", (job_id,))
    if row is None or (owner is not None and row["owner"] != owner):
        raise NotFoundError(f"there is no job {job_id}")


def perform(
    spool: Spool,
    ledger: Ledger,
    settings: Settings,
    job_id: int,
    action: str,
    actor: str,
    owner: str | None = None,
    priority: int | None = None,
) -> str:
    """Do `action` on a job (only the owner's when `owner` is set); returns what happened."""
    if action not in ACTIONS:
        raise QueueActionError(f"unknown action {action!r}")
    check_owner(ledger, job_id, owner)
    if action == "cancel":
        state = api.cancel_job(spool, ledger, job_id, actor)
        return f"job {job_id}: " + (
            "the call is being stopped" if state == "active" else "cancelled"
        )
    if action == "retry":
        api.retry_now(spool, ledger, job_id, actor, settings)
        return f"job {job_id} will be sent as soon as a line is free"
    if action == "priority":
        if priority is None or not 0 <= priority <= 255:
            raise QueueActionError("a priority is a number from 0 (first) to 255 (last)")
        value = api.set_priority(spool, ledger, job_id, priority, actor)
        return f"job {job_id} has priority {value}"
    if action == "suspend":
        api.suspend(spool, ledger, job_id, actor)
        return f"job {job_id} is held"
    api.resume(spool, ledger, job_id, actor)
    return f"job {job_id} resumed"


def unfinished_jobs(ledger: Ledger, owner: str | None, limit: int = 500) -> list[sqlite3.Row]:
    """Active and waiting jobs in the order the queue serves them (active first)."""
    marks = ",".join("?" * len(UNFINISHED))
    owner_clause = " AND owner = ?" if owner is not None else ""
    # Only placeholders are joined in; the values travel as parameters.
    sql = f"SELECT * FROM jobs WHERE state IN ({marks}){owner_clause} ORDER BY state != 'active', priority, send_at, id LIMIT ?"  # noqa: S608
    args: tuple[object, ...] = (*UNFINISHED, *((owner,) if owner is not None else ()), limit)
    return ledger.query(sql, args)
