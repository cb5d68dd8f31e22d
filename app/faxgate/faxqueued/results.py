"""Consuming call results from the ledger, and finding calls a crash interrupted.

iaxmodemd writes a `calls` row when a call starts (state active) and completes it when the
call ends. faxqueued applies each ended outbound row to its job exactly once: the job update,
the owed notification and `consumed = 1` are one transaction. A row that stays 'active' while
iaxmodemd does not know the job any more (it restarted, or it is gone) is marked 'interrupted'
and then counts as an attempt like any other failed call.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field

from faxgate.faxqueued import xferfaxlog
from faxgate.faxqueued.jobstore import add_notification, job_view
from faxgate.faxqueued.lines import LineStatus, jobs_on_lines
from faxgate.faxqueued.scheduling import CallResult, QueuePolicy, Verdict, after_call
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("faxqueued")

# How long a job may look lost before we act: covers the moment between our dial order and
# iaxmodemd listing the job, and a quick restart of iaxmodemd.
LOST_GRACE_S = 15.0
# When iaxmodemd does not answer at all for this long, its calls are taken as gone.
GONE_GRACE_S = 120.0


def consume_results(spool: Spool, ledger: Ledger, policy: QueuePolicy, now: float) -> list[int]:
    """Apply every ended, unconsumed outbound call to its job; returns the job ids touched."""
    rows = ledger.query(
        "SELECT * FROM calls WHERE direction = 'out' AND consumed = 0"
        " AND state IN ('ended', 'interrupted') ORDER BY id"
    )
    touched: list[int] = []
    for call in rows:
        transfer = None
        with ledger.transaction() as conn:
            job = conn.execute("SELECT * FROM jobs WHERE id = ?", (call["job_id"],)).fetchone()
            if job is not None and job["state"] == "active":
                transfer = _apply(conn, job, call, policy, now)
                touched.append(int(job["id"]))
            conn.execute("UPDATE calls SET consumed = 1 WHERE id = ?", (call["id"],))
        if transfer is not None:
            try:
                xferfaxlog.append(spool.log, transfer)
            except OSError:
                log.exception("cannot write xferfaxlog")
    return touched


def _apply(
    conn: sqlite3.Connection,
    job: sqlite3.Row,
    call: sqlite3.Row,
    policy: QueuePolicy,
    now: float,
) -> xferfaxlog.Transfer:
    interrupted = call["state"] == "interrupted"
    outcome = "interrupted" if interrupted else str(call["outcome"] or "local_error")
    result = CallResult(
        outcome=outcome,
        reached_handshake=bool(call["reached_handshake"]),
        pages=int(call["pages"] or 0),
        message="" if interrupted else str(call["message"] or ""),
    )
    decision = after_call(job_view(job), result, now, policy, bool(job["cancel_requested"]))
    ended = float(call["ended_at"] or now)
    duration = max(0.0, ended - float(call["started_at"]))
    finished = decision.verdict is not Verdict.REQUEUED
    conn.execute(
        "UPDATE jobs SET state = ?, tries = ?, dials = ?, next_try_at = ?, pages_sent = ?,"
        " remote_ident = ?, last_outcome = ?, last_error = ?, line = NULL, duration = ?,"
        " updated_at = ?, done_at = ? WHERE id = ?",
        (
            decision.state.value,
            decision.tries,
            decision.dials,
            decision.next_try_at,
            result.pages,
            call["remote_ident"] or job["remote_ident"],
            outcome,
            None if decision.verdict is Verdict.DONE else decision.reason,
            duration,
            now,
            now if finished else None,
            job["id"],
        ),
    )
    add_notification(
        conn,
        decision.verdict.value,
        job["notify"],
        {
            "reason": decision.reason,
            "next_try_at": decision.next_try_at,
            "pages_sent": result.pages,
            "remote_ident": call["remote_ident"] or "",
            "duration": duration,
            "tries": decision.tries,
            "dials": decision.dials,
        },
        job_id=int(job["id"]),
        now=now,
    )
    log.info("job %d: %s (%s)", job["id"], decision.verdict.value, decision.reason)
    return xferfaxlog.Transfer(
        direction="SEND",
        at=ended,
        commid=int(call["id"]),
        modem=str(call["line"]),
        jobid=str(job["id"]),
        jobtag=str(job["tag"] or ""),
        sender=str(job["notify"] or job["owner"] or ""),
        number=str(job["number"]),
        remote_ident=str(call["remote_ident"] or ""),
        params=int(call["bit_rate"] or 0),
        pages=result.pages,
        job_time_s=ended - float(job["created_at"]),
        connect_time_s=duration,
        reason="" if outcome == "done" else decision.reason,
        owner=str(job["owner"] or ""),
    )


@dataclass
class LostTracker:
    """Remembers since when an active job has looked lost (kept across scheduler passes)."""

    missing_since: dict[int, float] = field(default_factory=dict)
    unreachable_since: float | None = None


def reconcile(
    ledger: Ledger, lines: list[LineStatus] | None, now: float, tracker: LostTracker
) -> list[int]:
    """Settle active jobs iaxmodemd does not know (lines None: iaxmodemd did not answer).

    - an active call row → 'interrupted' (it counts as an attempt when consumed);
    - no call row at all → the dial order never reached a line: back to ready, nothing counted.
    Returns the ids of the jobs settled.
    """
    if lines is None:
        if tracker.unreachable_since is None:
            tracker.unreachable_since = now
        if now - tracker.unreachable_since < GONE_GRACE_S:
            return []
        known: set[int] = set()
    else:
        tracker.unreachable_since = None
        known = jobs_on_lines(lines)
    settled: list[int] = []
    active = ledger.query("SELECT id, dispatched_at FROM jobs WHERE state = 'active'")
    still_missing: dict[int, float] = {}
    for job in active:
        job_id = int(job["id"])
        if job_id in known:
            continue
        since = tracker.missing_since.get(job_id, now)
        still_missing[job_id] = since
        if now - since < LOST_GRACE_S:
            continue
        if _settle(ledger, job_id, float(job["dispatched_at"] or 0.0), now):
            settled.append(job_id)
            still_missing.pop(job_id, None)
    tracker.missing_since = still_missing
    return settled


def _settle(ledger: Ledger, job_id: int, dispatched_at: float, now: float) -> bool:
    with ledger.transaction() as conn:
        calls = conn.execute(
            "SELECT id, state, consumed FROM calls WHERE job_id = ? AND direction = 'out'"
            " AND started_at >= ? ORDER BY id",
            (job_id, dispatched_at - 1.0),
        ).fetchall()
        if any(c["state"] != "active" and not c["consumed"] for c in calls):
            return False  # a result waits: consume_results settles it
        open_calls = [c for c in calls if c["state"] == "active"]
        if open_calls:
            for c in open_calls:
                conn.execute(
                    "UPDATE calls SET state = 'interrupted', ended_at = ?,"
                    " message = 'the fax line program stopped during the call'"
                    " WHERE id = ? AND state = 'active'",
                    (now, c["id"]),
                )
            log.warning("job %d: its call was interrupted; counted as an attempt", job_id)
            return True
        job = conn.execute(
            "SELECT cancel_requested, notify FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        if job is not None and job["cancel_requested"]:
            conn.execute(
                "UPDATE jobs SET state = 'cancelled', line = NULL, done_at = ?, updated_at = ?"
                " WHERE id = ? AND state = 'active'",
                (now, now, job_id),
            )
            add_notification(
                conn, "cancelled", job["notify"], {"reason": "cancelled"}, job_id=job_id, now=now
            )
            return True
        conn.execute(
            "UPDATE jobs SET state = 'ready', line = NULL, dispatched_at = NULL, updated_at = ?"
            " WHERE id = ? AND state = 'active'",
            (now, job_id),
        )
        log.warning("job %d: the dial order never reached a line; back to ready", job_id)
        return True
