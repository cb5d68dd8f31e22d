"""IPP jobs in the ledger (table ipp_jobs), so every gunicorn worker sees the same jobs.

A job's document is spooled with `intake.accept` (kind "print") before the client hears
successful-ok; the job row then points at its submission. The state a client sees follows the
submission: once the document is in the fax queue the print job is complete (the printer's
work is done), unless faxqueued recorded an error for the submission (then aborted, with the
error as job-state-message).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from faxgate.ipp.constants import JobState
from faxgate.ipp.semantics import JobView, state_reasons
from faxgate.ippfaxd.document import DocumentStream
from faxgate.spool import intake
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

WhichJobs = Literal["completed", "not-completed", "all"]
FAILED_SUBMISSION_STATES = frozenset({"failed", "rejected", "bad", "error"})
JOINED_SELECT = (
    "SELECT j.*, s.state AS submission_state, s.error AS submission_error,"
    " (SELECT COUNT(*) FROM jobs f WHERE f.submission_id = j.submission_id) AS faxes,"
    " (SELECT COUNT(*) FROM jobs f WHERE f.submission_id = j.submission_id"
    "  AND f.state = 'done') AS faxes_sent,"
    " (SELECT COUNT(*) FROM jobs f WHERE f.submission_id = j.submission_id"
    "  AND f.state IN ('failed', 'cancelled')) AS faxes_failed"
    " FROM ipp_jobs j LEFT JOIN submissions s ON s.id = j.submission_id"
)
NOT_TERMINAL = tuple(int(state) for state in JobState if not state.is_terminal)


@dataclass(frozen=True)
class NewJob:
    name: str
    user_name: str  # as the client sent it (job-originating-user-name)
    owner: str | None  # the appliance user after normalising and usermangle
    document_format: str
    client: str
    attributes: Mapping[str, object]


class JobStore:
    def __init__(self, ledger: Ledger, clock: Callable[[], float] = time.time) -> None:
        self.ledger = ledger
        self.clock = clock

    def create(self, job: NewJob) -> int:
        with self.ledger.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO ipp_jobs (name, user_name, owner, document_format, client,"
                " attributes, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.name,
                    job.user_name,
                    job.owner,
                    job.document_format,
                    job.client,
                    json.dumps(dict(job.attributes), sort_keys=True, default=str),
                    int(JobState.PENDING),
                    self.clock(),
                ),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def spool_document(
        self,
        spool: Spool,
        job_id: int,
        data: DocumentStream,
        params: Mapping[str, object],
        owner: str | None,
        document_name: str,
        declared_format: str,
        sniffed_format: str,
        last: bool,
    ) -> int:
        """Spool the job's document durably and link it; returns the submission id."""
        now = self.clock()
        self._set(job_id, "state = ?, processing_at = ?", int(JobState.PROCESSING), now)

        def link(conn: sqlite3.Connection, submission_id: int) -> None:
            # In accept's own transaction: the submission and the IPP job that answers for it
            # commit together, so a client retrying after an error cannot make a second fax.
            conn.execute(
                "UPDATE ipp_jobs SET submission_id = ?, documents = documents + 1, size = ?,"
                " document_name = ?, document_format = ?, sniffed_format = ?, state = ?,"
                " completed_at = ?,"
                " state_message = ? WHERE id = ?",
                (
                    submission_id,
                    data.size,
                    document_name,
                    declared_format,
                    sniffed_format,
                    int(JobState.COMPLETED if last else JobState.PROCESSING),
                    now if last else None,
                    "handed to the fax queue",
                    job_id,
                ),
            )

        try:
            submission_id = intake.accept(
                spool, self.ledger, "print", data, params, owner, link=link
            )
        except BaseException as exc:
            # Nothing was stored (accept rolls back): the client hears an error, and the job
            # must not look as if it were still being received.
            self.finish(job_id, JobState.ABORTED, f"the document could not be stored: {exc}")
            raise
        return submission_id

    def expire(self, timeout: float) -> int:
        """Abort jobs left open longer than `timeout` seconds; returns how many.

        A Create-Job whose document never came (multiple-operation-time-out, action abort-job),
        or a job whose upload died with its worker (killed mid-request): neither may look
        pending forever. Nothing of them was acknowledged, so nothing is lost.
        """
        cutoff = self.clock() - timeout
        with self.ledger.transaction() as conn:
            cursor = conn.execute(
                "UPDATE ipp_jobs SET state = ?, completed_at = ?, state_message = ?"
                " WHERE submission_id IS NULL AND state IN (?, ?)"
                " AND COALESCE(processing_at, created_at) < ?",
                (
                    int(JobState.ABORTED),
                    self.clock(),
                    "no document arrived in time",
                    int(JobState.PENDING),
                    int(JobState.PROCESSING),
                    cutoff,
                ),
            )
        return cursor.rowcount

    def finish(self, job_id: int, state: JobState, message: str) -> None:
        self._set(
            job_id,
            "state = ?, completed_at = ?, state_message = ?",
            int(state),
            self.clock(),
            message,
        )

    def _set(self, job_id: int, assignments: str, *values: object) -> None:
        with self.ledger.transaction() as conn:
            conn.execute(f"UPDATE ipp_jobs SET {assignments} WHERE id = ?", (*values, job_id))  # noqa: S608

    def row(self, job_id: int) -> sqlite3.Row | None:
        return self.ledger.query_one(JOINED_SELECT + " WHERE j.id = ?", (job_id,))

    def get(self, job_id: int) -> JobView | None:
        row = self.row(job_id)
        return None if row is None else view(row)

    def list_jobs(
        self, which: WhichJobs, user: str | None = None, limit: int | None = None
    ) -> list[JobView]:
        where: list[str] = []
        params: list[object] = []
        if which == "completed":
            where.append(f"j.state NOT IN ({','.join('?' * len(NOT_TERMINAL))})")
            params.extend(NOT_TERMINAL)
        elif which == "not-completed":
            where.append(f"j.state IN ({','.join('?' * len(NOT_TERMINAL))})")
            params.extend(NOT_TERMINAL)
        if user is not None:
            where.append("j.user_name = ?")
            params.append(user)
        clause = (" WHERE " + " AND ".join(where) if where else "") + (
            " ORDER BY j.id DESC" if which == "completed" else " ORDER BY j.id"
        )
        # only placeholders and fixed text are joined into the statement
        sql = JOINED_SELECT + clause
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [view(row) for row in self.ledger.query(sql, tuple(params))]

    def active_ids(self, user: str | None = None) -> list[int]:
        return [job.job_id for job in self.list_jobs("not-completed", user)]

    def queued_count(self) -> int:
        row = self.ledger.query_one(
            f"SELECT COUNT(*) FROM ipp_jobs WHERE state IN ({','.join('?' * len(NOT_TERMINAL))})",  # noqa: S608
            NOT_TERMINAL,
        )
        return int(row[0]) if row else 0


def view(row: sqlite3.Row) -> JobView:
    """The job as IPP shows it, its state following the submission."""
    state = JobState(row["state"])
    message = row["state_message"]
    if state is JobState.COMPLETED:
        if row["submission_state"] in FAILED_SUBMISSION_STATES:
            state = JobState.ABORTED
            message = row["submission_error"] or "the fax queue could not use this print job"
        else:
            message = fax_progress(row)
    return JobView(
        job_id=row["id"],
        name=row["name"],
        user=row["user_name"],
        state=state,
        created_at=row["created_at"],
        processing_at=row["processing_at"],
        completed_at=row["completed_at"],
        reasons=state_reasons(state),
        message=message,
        document_format=row["sniffed_format"] or row["document_format"],
        k_octets=(row["size"] + 1023) // 1024,
        documents=row["documents"],
    )


def fax_progress(row: sqlite3.Row) -> str:
    """job-state-message of a handed-over job: what became of it in the fax queue."""
    submission_state = row["submission_state"]
    if submission_state == "held":
        return "waiting for the fax number: complete it in the fax server's web interface"
    if submission_state != "done":
        return "handed to the fax queue"
    total, sent, failed = row["faxes"], row["faxes_sent"], row["faxes_failed"]
    waiting = total - sent - failed
    parts = [f"{sent} sent"] + ([f"{failed} failed"] if failed else [])
    parts += [f"{waiting} waiting"] if waiting else []
    return f"{total} fax{'es' if total != 1 else ''}: {', '.join(parts)}"
