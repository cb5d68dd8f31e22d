"""The queue's API for faxctl and the web admin: plain functions over the spool and the ledger.

Changes go straight to the ledger (faxqueued reads it every second) and poke faxqueued so it
acts at once. Every change is recorded in the audit log with its actor.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxqueued import retention
from faxgate.faxqueued.dispatch import ModemUnavailable, request_blocking
from faxgate.faxqueued.jobstore import WAITING, add_notification
from faxgate.faxqueued.retention import CleanupSummary
from faxgate.faxqueued.scheduling import QueuePolicy, clamp_priority, new_job_times
from faxgate.faxqueued.upload import pack_files
from faxgate.numbers import dial_number
from faxgate.settings import Settings, load_settings
from faxgate.spool import intake
from faxgate.spool.audit import record
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


class JobStateError(FaxgateError):
    """The job is not in a state that allows this (e.g. cancelling a finished job)."""


@dataclass(frozen=True)
class CallInfo:
    id: int
    line: str
    state: str
    outcome: str | None
    message: str | None
    pages: int
    remote_ident: str
    started_at: float
    ended_at: float | None


@dataclass(frozen=True)
class JobInfo:
    id: int
    number: str
    recipient_name: str
    state: str
    priority: int
    tag: str
    owner: str | None
    notify: str | None
    tries: int
    max_tries: int
    dials: int
    max_dials: int
    pages_sent: int
    pages_total: int
    send_at: float
    kill_at: float
    next_try_at: float | None
    line: str | None
    remote_ident: str | None
    last_outcome: str | None
    last_error: str | None
    created_at: float
    done_at: float | None
    submission_id: int | None
    skipped: list[str] = field(default_factory=list)
    calls: list[CallInfo] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ReceivedInfo:
    id: int
    received_at: float
    dnid: str
    caller_id: str
    remote_ident: str
    pages: int
    line: str | None
    state: str
    device_id: int | None
    tiff_path: str
    pdf_path: str | None
    thumbnail_path: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class PrintJobInfo:
    id: int
    owner: str | None
    title: str
    notify: str | None
    path: str
    mime_type: str
    created_at: float
    pages: str | None = None  # the pages it will fax ("1-2,5-5", IPP page-ranges); None: all

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _job_info(row: sqlite3.Row, calls: list[CallInfo] | None = None) -> JobInfo:
    return JobInfo(
        id=row["id"],
        number=row["number"],
        recipient_name=row["recipient_name"],
        state=row["state"],
        priority=row["priority"],
        tag=row["tag"],
        owner=row["owner"],
        notify=row["notify"],
        tries=row["tries"],
        max_tries=row["max_tries"],
        dials=row["dials"],
        max_dials=row["max_dials"],
        pages_sent=row["pages_sent"],
        pages_total=row["pages_total"],
        send_at=row["send_at"],
        kill_at=row["kill_at"],
        next_try_at=row["next_try_at"],
        line=row["line"],
        remote_ident=row["remote_ident"],
        last_outcome=row["last_outcome"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        done_at=row["done_at"],
        submission_id=row["submission_id"],
        skipped=json.loads(row["skipped"] or "[]"),
        calls=calls or [],
    )


def submit_upload(
    spool: Spool,
    ledger: Ledger,
    files: Sequence[Path | tuple[str, bytes]],
    numbers: Sequence[str],
    priority: int | None = None,
    notify: str | None = None,
    tag: str = "",
    owner: str | None = None,
    send_at: float | None = None,
    kill_after: float | None = None,
    pages: Sequence[str | None] = (),
) -> int:
    """Queue documents for fax numbers; returns the submission id (jobs follow within seconds).

    `send_at` (UNIX time) is the time-to-send, `kill_after` the seconds after it until the job
    fails if not sent (default sys.fax.configure.queue.killtime). `pages` names the pages to
    fax of each file, in order ("1-2,5-5"; None or missing: all of it).

    Raises FaxgateError for a bad number or no document before anything is stored.
    """
    # Checked here too (the queue's intake has the last word), so a blocked or malformed number
    # is refused before anything is stored and the person sees why at once.
    settings = load_settings(spool, ledger)
    cleaned = [
        dial_number(
            n,
            blocked=settings.get_list("sys.fax.configure.dial.blocked"),
        ).written
        for n in numbers
    ]
    if not cleaned:
        raise FaxgateError("give at least one fax number")
    contents = [(f.name, f.read_bytes()) if isinstance(f, Path) else f for f in files]
    if not contents:
        raise FaxgateError("give at least one document to fax")
    params: dict[str, object] = {
        "numbers": cleaned,
        "names": [name for name, _data in contents],
        "tag": tag,
    }
    if priority is not None:
        params["priority"] = clamp_priority(int(priority))
    if notify:
        params["notify"] = notify
    if send_at is not None:
        params["send_at"] = float(send_at)
    if kill_after is not None:
        params["kill_after"] = float(kill_after)
    if any(pages):
        params["pages"] = list(pages)
    submission_id = intake.accept(spool, ledger, "upload", pack_files(contents), params, owner)
    intake.poke(spool)
    return submission_id


def jobs_of_submission(ledger: Ledger, submission_id: int) -> list[JobInfo]:
    rows = ledger.query("SELECT * FROM jobs WHERE submission_id = ? ORDER BY id", (submission_id,))
    return [_job_info(r) for r in rows]


def submission_state(ledger: Ledger, submission_id: int) -> tuple[str, str | None]:
    row = ledger.query_one("SELECT state, error FROM submissions WHERE id = ?", (submission_id,))
    if row is None:
        raise NotFoundError(f"there is no submission {submission_id}")
    return str(row["state"]), row["error"]


def list_jobs(
    ledger: Ledger, states: Sequence[str] | None = None, owner: str | None = None, limit: int = 500
) -> list[JobInfo]:
    sql = "SELECT * FROM jobs WHERE 1 = 1"
    params: list[object] = []
    if states:
        sql += f" AND state IN ({','.join('?' * len(states))})"
        params += list(states)
    if owner is not None:
        sql += " AND owner = ?"
        params.append(owner)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return [_job_info(r) for r in ledger.query(sql, tuple(params))]


def get_job(ledger: Ledger, job_id: int) -> JobInfo:
    row = ledger.query_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
    if row is None:
        raise NotFoundError(f"there is no job {job_id}")
    calls = [
        CallInfo(
            c["id"],
            c["line"],
            c["state"],
            c["outcome"],
            c["message"],
            c["pages"],
            c["remote_ident"],
            c["started_at"],
            c["ended_at"],
        )
        for c in ledger.query("SELECT * FROM calls WHERE job_id = ? ORDER BY id", (job_id,))
    ]
    return _job_info(row, calls)


def _require(conn: sqlite3.Connection, job_id: int) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no job {job_id}")
    return row


def cancel_job(spool: Spool, ledger: Ledger, job_id: int, actor: str) -> str:
    """Cancel a job: at once when waiting; a running call is aborted and ends it. New state."""
    now = time.time()
    with ledger.transaction() as conn:
        row = _require(conn, job_id)
        state = row["state"]
        if state in ("done", "failed", "cancelled"):
            raise JobStateError(f"job {job_id} is already {state}")
        if state == "active":
            conn.execute(
                "UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?", (now, job_id)
            )
        else:
            conn.execute(
                "UPDATE jobs SET state = 'cancelled', done_at = ?, updated_at = ?,"
                " last_error = 'cancelled' WHERE id = ?",
                (now, now, job_id),
            )
            add_notification(
                conn,
                "cancelled",
                row["notify"],
                {"reason": f"cancelled by {actor}"},
                job_id=job_id,
                now=now,
            )
        record(conn, actor, "job.cancel", {"job": job_id, "state": state})
    if state == "active":
        with contextlib.suppress(ModemUnavailable):
            request_blocking(spool.iaxmodemd_socket, {"op": "abort", "job": job_id})
        intake.poke(spool)
        return "active"
    intake.poke(spool)
    return "cancelled"


def retry_now(
    spool: Spool, ledger: Ledger, job_id: int, actor: str, settings: Settings | None = None
) -> str:
    """Send a waiting job now, or give a failed/cancelled job a fresh set of tries."""
    now = time.time()
    with ledger.transaction() as conn:
        row = _require(conn, job_id)
        if row["state"] in WAITING or row["state"] == "suspended":
            conn.execute(
                "UPDATE jobs SET state = 'ready', next_try_at = NULL, send_at = MIN(send_at, ?),"
                " updated_at = ? WHERE id = ?",
                (now, now, job_id),
            )
        elif row["state"] in ("failed", "cancelled"):
            policy = QueuePolicy.from_settings(settings) if settings else QueuePolicy()
            send_at, kill_at = new_job_times(now, policy)
            conn.execute(
                "UPDATE jobs SET state = 'ready', tries = 0, dials = 0, next_try_at = NULL,"
                " cancel_requested = 0, send_at = ?, kill_at = ?, done_at = NULL,"
                " last_error = NULL, updated_at = ? WHERE id = ?",
                (send_at, kill_at, now, job_id),
            )
        else:
            raise JobStateError(f"job {job_id} is {row['state']}: nothing to retry")
        record(conn, actor, "job.retry", {"job": job_id})
    intake.poke(spool)
    return "ready"


def set_priority(spool: Spool, ledger: Ledger, job_id: int, priority: int, actor: str) -> int:
    value = clamp_priority(priority)
    with ledger.transaction() as conn:
        row = _require(conn, job_id)
        if row["state"] in ("done", "failed", "cancelled"):
            raise JobStateError(f"job {job_id} is already {row['state']}")
        conn.execute(
            "UPDATE jobs SET priority = ?, updated_at = ? WHERE id = ?",
            (value, time.time(), job_id),
        )
        record(conn, actor, "job.priority", {"job": job_id, "priority": value})
    intake.poke(spool)
    return value


def suspend(spool: Spool, ledger: Ledger, job_id: int, actor: str) -> None:
    """Hold a waiting job (not one whose call is running)."""
    with ledger.transaction() as conn:
        row = _require(conn, job_id)
        if row["state"] not in WAITING:
            raise JobStateError(f"job {job_id} is {row['state']}: only waiting jobs can be held")
        conn.execute(
            "UPDATE jobs SET state = 'suspended', updated_at = ? WHERE id = ?",
            (time.time(), job_id),
        )
        record(conn, actor, "job.suspend", {"job": job_id})


def resume(spool: Spool, ledger: Ledger, job_id: int, actor: str) -> None:
    with ledger.transaction() as conn:
        row = _require(conn, job_id)
        if row["state"] != "suspended":
            raise JobStateError(f"job {job_id} is {row['state']}, not suspended")
        # 'pending': the scheduler works out on its next pass whether it is ready or sleeping.
        conn.execute(
            "UPDATE jobs SET state = 'pending', updated_at = ? WHERE id = ?", (time.time(), job_id)
        )
        record(conn, actor, "job.resume", {"job": job_id})
    intake.poke(spool)


def list_received(ledger: Ledger, limit: int = 200) -> list[ReceivedInfo]:
    rows = ledger.query("SELECT * FROM received_faxes ORDER BY id DESC LIMIT ?", (limit,))
    return [
        ReceivedInfo(
            r["id"],
            r["received_at"],
            r["dnid"],
            r["caller_id"],
            r["remote_ident"],
            r["pages"],
            r["line"],
            r["state"],
            r["device_id"],
            r["tiff_path"],
            r["pdf_path"],
            r["thumbnail_path"],
        )
        for r in rows
    ]


def cleanup_now(spool: Spool, ledger: Ledger, settings: Settings, actor: str) -> CleanupSummary:
    """Run the cleanup job now (what the schedule would do); returns what it removed."""
    summary = retention.cleanup(spool, ledger, settings.get_int("sys.fax.configure.retention.days"))
    with ledger.transaction() as conn:
        record(conn, actor, "queue.cleanup", summary.as_dict())
    return summary


def cleanup_schedule(ledger: Ledger, settings: Settings) -> dict[str, object]:
    """The job "Clean up fax server": its schedule, last and next run."""
    now = time.time()
    return {
        "name": "Clean up fax server",
        "schedule": settings.get_str("sys.fax.configure.retention.schedule"),
        "days": settings.get_int("sys.fax.configure.retention.days"),
        "last_run": retention.last_run(ledger),
        "next_run": retention.next_run(settings, now),
    }


def list_print_jobs(ledger: Ledger, owner: str | None = None) -> list[PrintJobInfo]:
    sql = "SELECT * FROM pending_print_jobs"
    params: tuple[object, ...] = ()
    if owner is not None:
        sql += " WHERE owner = ?"
        params = (owner,)
    rows = ledger.query(sql + " ORDER BY id", params)
    return [
        PrintJobInfo(
            r["id"],
            r["owner"],
            r["title"],
            r["notify"],
            r["path"],
            r["mime_type"],
            r["created_at"],
            r["pages"],
        )
        for r in rows
    ]


def send_print_job(
    spool: Spool,
    ledger: Ledger,
    print_job_id: int,
    numbers: Sequence[str],
    actor: str,
    priority: int | None = None,
    notify: str | None = None,
    tag: str = "",
) -> int:
    """Fax a held print job to `numbers`; returns the new submission id. The held job is gone.

    Only the pages it was printed with are faxed (its IPP page-ranges, kept with it)."""
    # Claim the held job first (delete its row in one transaction), so a double click or two
    # admins at once cannot fax it twice: the second one finds no held job.
    with ledger.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM pending_print_jobs WHERE id = ?", (print_job_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"there is no held print job {print_job_id}")
        conn.execute("DELETE FROM pending_print_jobs WHERE id = ?", (print_job_id,))
        record(conn, actor, "printjob.send", {"id": print_job_id, "numbers": list(numbers)})
    path = spool.docq / row["path"]
    try:
        submission = submit_upload(
            spool,
            ledger,
            [(row["title"] or path.name, path.read_bytes())],
            numbers,
            priority,
            notify or row["notify"],
            tag or row["title"],
            row["owner"],
            pages=[row["pages"]],
        )
    except BaseException:
        # Not sent (a bad number, a full disk): the job is held again, as it was.
        with ledger.transaction() as conn:
            hold_again(conn, row)
        raise
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return submission


def hold_again(conn: sqlite3.Connection, row: sqlite3.Row) -> None:
    """Put a claimed held job's row back as it was, its pages too."""
    conn.execute(
        "INSERT INTO pending_print_jobs (id, submission_id, owner, title, notify, path,"
        " mime_type, pages, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row["id"],
            row["submission_id"],
            row["owner"],
            row["title"],
            row["notify"],
            row["path"],
            row["mime_type"],
            row["pages"],
            row["created_at"],
        ),
    )


def delete_print_job(spool: Spool, ledger: Ledger, print_job_id: int, actor: str) -> None:
    with ledger.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM pending_print_jobs WHERE id = ?", (print_job_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"there is no held print job {print_job_id}")
        conn.execute("DELETE FROM pending_print_jobs WHERE id = ?", (print_job_id,))
        record(conn, actor, "printjob.delete", {"id": print_job_id})
    with contextlib.suppress(FileNotFoundError):
        (spool.docq / row["path"]).unlink()
