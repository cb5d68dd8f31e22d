"""The cleanup job "Clean up fax server" (HylaFAX faxcron: maintaining the queues and logs).

Removes what is older than sys.fax.configure.retention.days: finished jobs (with their calls
and sent notifications), documents no job uses any more, finished submissions, held print jobs,
delivered received faxes (TIFF, PDF, thumbnail) and old session logs. It never touches an
unfinished job, a received fax not yet delivered, or the outbox (undelivered mail). Runs on the
cron schedule sys.fax.configure.retention.schedule and on demand (`faxctl cleanup`).
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from faxgate.faxqueued import cron
from faxgate.faxqueued.xferfaxlog import LOG_NAME
from faxgate.settings import Settings
from faxgate.spool.atomic import sweep_stale_temps
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("faxqueued")

LAST_RUN_KEY = "retention.last_run"
# Logs appended to for ever (one open-append-close per line, so renaming them is safe): the
# cleanup never deletes them but rotates them once they pass ROTATE_AT_BYTES, to
# `<name>.<date-time>`; rotated files then age out like any other log.
KEPT_LOGS = frozenset({LOG_NAME, "sendfax.log"})
ROTATE_AT_BYTES = 1024 * 1024
# A document this young may be waiting for the jobs of its submission: never removed.
DOCUMENT_MIN_AGE_S = 3600.0


@dataclass
class CleanupSummary:
    jobs: int = 0
    documents: int = 0
    submissions: int = 0
    print_jobs: int = 0
    received_faxes: int = 0
    logs: int = 0
    temp_files: int = 0
    bytes_freed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def in_words(self) -> str:
        parts = [
            f"{value} {name.replace('_', ' ')}"
            for name, value in asdict(self).items()
            if value and name != "bytes_freed"
        ]
        freed = f", {self.bytes_freed / 1_000_000:.1f} MB freed" if self.bytes_freed else ""
        return ("removed " + ", ".join(parts) + freed) if parts else "nothing to remove"


def _unlink(path: Path, summary: CleanupSummary) -> None:
    with contextlib.suppress(FileNotFoundError):
        size = path.stat().st_size
        path.unlink()
        summary.bytes_freed += size


def _unlink_with_derived(path: Path, summary: CleanupSummary) -> None:
    """`path` and the files made from it beside it (`<stem>.pdf`, `<stem>.thumb.png`,
    `<stem>.page-N.png`: the admin's cached previews), so nothing outlives its fax."""
    _unlink(path, summary)
    for derived in path.parent.glob(f"{glob.escape(path.stem)}.*"):
        if derived.is_file():
            _unlink(derived, summary)


def cleanup(spool: Spool, ledger: Ledger, days: int, now: float | None = None) -> CleanupSummary:
    """Remove everything finished before `days` ago; return what was removed."""
    moment = time.time() if now is None else now
    cutoff = moment - days * 86400
    summary = CleanupSummary()
    with ledger.transaction() as conn:
        old_jobs = [
            r["id"]
            for r in conn.execute(
                "SELECT id FROM jobs WHERE state IN ('done', 'failed', 'cancelled')"
                " AND COALESCE(done_at, updated_at) < ?"
                " AND NOT EXISTS (SELECT 1 FROM queue_notifications n"
                "                 WHERE n.job_id = jobs.id AND n.sent_at IS NULL)"
                " AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.job_id = jobs.id"
                "                 AND (c.state = 'active' OR c.consumed = 0))",
                (cutoff,),
            )
        ]
        for job_id in old_jobs:
            conn.execute("DELETE FROM calls WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM queue_notifications WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        summary.jobs = len(old_jobs)
        conn.execute(
            "DELETE FROM calls WHERE direction = 'in' AND state != 'active' AND started_at < ?",
            (cutoff,),
        )
        conn.execute(
            "DELETE FROM queue_notifications WHERE sent_at IS NOT NULL AND sent_at < ?", (cutoff,)
        )
        unused_documents = conn.execute(
            "SELECT id, path FROM documents WHERE created_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.document_id = documents.id)",
            (moment - DOCUMENT_MIN_AGE_S,),
        ).fetchall()
        for doc in unused_documents:
            conn.execute("DELETE FROM documents WHERE id = ?", (doc["id"],))
        summary.documents = len(unused_documents)
        held = conn.execute(
            "SELECT id, path FROM pending_print_jobs WHERE created_at < ?", (cutoff,)
        ).fetchall()
        for row in held:
            conn.execute("DELETE FROM pending_print_jobs WHERE id = ?", (row["id"],))
        summary.print_jobs = len(held)
        summary.submissions = conn.execute(
            "DELETE FROM submissions WHERE state IN ('done', 'rejected', 'bad', 'held')"
            " AND updated_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.submission_id = submissions.id)"
            " AND NOT EXISTS (SELECT 1 FROM pending_print_jobs p"
            "                 WHERE p.submission_id = submissions.id)"
            " AND NOT EXISTS (SELECT 1 FROM queue_notifications n"
            "                 WHERE n.submission_id = submissions.id AND n.sent_at IS NULL)",
            (cutoff,),
        ).rowcount
        faxes = conn.execute(
            "SELECT id, tiff_path, pdf_path, thumbnail_path FROM received_faxes"
            " WHERE state = 'delivered' AND received_at < ?",
            (cutoff,),
        ).fetchall()
        for fax in faxes:
            conn.execute("DELETE FROM received_faxes WHERE id = ?", (fax["id"],))
        summary.received_faxes = len(faxes)
    # Files go after the rows' commit: a crash leaves an orphan file, never a row without file.
    for doc in unused_documents:
        _unlink_with_derived(spool.docq / doc["path"], summary)
    for row in held:
        _unlink_with_derived(spool.docq / row["path"], summary)
    for fax in faxes:
        for stored in (fax["tiff_path"], fax["pdf_path"], fax["thumbnail_path"]):
            if stored:
                for path in spool.stored_candidates(stored, spool.recvq):
                    if path.resolve().is_relative_to(spool.root.resolve()):  # never outside
                        _unlink_with_derived(path, summary)
                _unlink_with_derived(spool.recvq / Path(stored).name, summary)
    rotate_logs(spool, moment)
    for entry in spool.log.iterdir() if spool.log.is_dir() else []:
        if entry.is_file() and entry.name not in KEPT_LOGS and entry.stat().st_mtime < cutoff:
            _unlink(entry, summary)
            summary.logs += 1
    summary.temp_files = len(sweep_stale_temps(spool.tmp))
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO queue_state (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (LAST_RUN_KEY, repr(moment)),
        )
    log.info("cleanup: %s", summary.in_words())
    return summary


def rotate_logs(spool: Spool, now: float) -> list[Path]:
    """Rename each kept log of ROTATE_AT_BYTES or more to `<name>.<YYYYmmdd-HHMMSS>`; the
    next line written starts a new file."""
    stamp = datetime.datetime.fromtimestamp(now).strftime("%Y%m%d-%H%M%S")
    rotated = []
    for name in sorted(KEPT_LOGS):
        path = spool.log / name
        try:
            if path.stat().st_size < ROTATE_AT_BYTES:
                continue
        except FileNotFoundError:
            continue
        target = path.with_name(f"{name}.{stamp}")
        path.rename(target)
        log.info("cleanup: rotated %s to %s", name, target.name)
        rotated.append(target)
    return rotated


def last_run(ledger: Ledger) -> float | None:
    row = ledger.query_one("SELECT value FROM queue_state WHERE key = ?", (LAST_RUN_KEY,))
    return None if row is None else float(row["value"])


def cleanup_due(settings: Settings, last: float | None, now: float) -> bool:
    """Whether the schedule had a run between the last one (or `now` at first start) and now."""
    if last is None:
        return False
    schedule = cron.parse(settings.get_str("sys.fax.configure.retention.schedule"))
    return cron.due(
        schedule,
        datetime.datetime.fromtimestamp(last),
        datetime.datetime.fromtimestamp(now),
    )


def mark_started(ledger: Ledger, now: float) -> None:
    """At first start, the schedule counts from now (no cleanup run on install)."""
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO queue_state (key, value) VALUES (?, ?)",
            (LAST_RUN_KEY, repr(now)),
        )


def next_run(settings: Settings, now: float) -> float:
    schedule = cron.parse(settings.get_str("sys.fax.configure.retention.schedule"))
    return schedule.next_after(datetime.datetime.fromtimestamp(now)).timestamp()
