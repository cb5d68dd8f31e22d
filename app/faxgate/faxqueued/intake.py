"""Intake: turning accepted submissions into jobs, in worker threads, never in the scheduler.

Mailman's switchboard habits: a submission is *claimed* (state new → working) before it is
worked on; a crash leaves it 'working' and the next start puts it back to 'new'. Creating the
jobs and marking the submission 'done' is one transaction, so a submission becomes its jobs
exactly once. Anything that makes an interpreter blow up sends the submission to `bad/` (state
'bad') with a note to the faxmaster; one bad entry never stops the daemon.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from faxgate.errors import ConversionError
from faxgate.faxqueued.documents import page_options, prepare_document
from faxgate.faxqueued.jobstore import add_notification
from faxgate.faxqueued.scheduling import QueuePolicy, clamp_priority, new_job_times
from faxgate.numbers import NumberError, dial_number
from faxgate.settings import Settings
from faxgate.spool import intake as spool_intake
from faxgate.spool.atomic import atomic_writer, is_disk_full
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import (
    Destination,
    DocumentPart,
    FaxRequest,
    Interpretation,
    InterpretContext,
    PageRanges,
    PendingPrintJob,
    Rejection,
    format_pages,
    parse_pages,
)

log = logging.getLogger("faxqueued")

INTERPRETERS: dict[str, str] = {
    "mail": "faxgate.smtpfaxd.interpret",
    "print": "faxgate.ippfaxd.interpret",
    "upload": "faxgate.faxqueued.upload",
}

Interpreter = Callable[[InterpretContext], Interpretation]


class InterpreterMissing(Exception):
    """The gateway's interpreter module is not installed."""


@dataclass(frozen=True)
class Submission:
    id: int
    kind: str
    path: str
    params: str
    owner: str | None


def recover_claimed(ledger: Ledger) -> int:
    """After a crash: submissions a worker had claimed go back to 'new'."""
    with ledger.transaction() as conn:
        return conn.execute(
            "UPDATE submissions SET state = 'new', updated_at = ? WHERE state = 'working'",
            (time.time(),),
        ).rowcount


def has_claims(ledger: Ledger) -> bool:
    """Whether any submission is claimed by a worker (a read: no write lock)."""
    return ledger.query_one("SELECT 1 FROM submissions WHERE state = 'working' LIMIT 1") is not None


def unclaim(ledger: Ledger, submission: Submission) -> None:
    with ledger.transaction() as conn:
        conn.execute(
            "UPDATE submissions SET state = 'new', updated_at = ? WHERE id = ? AND state = 'working'",
            (time.time(), submission.id),
        )


def claim(ledger: Ledger, limit: int) -> list[Submission]:
    """Claim up to `limit` new submissions, oldest first."""
    if limit <= 0:
        return []
    with ledger.transaction() as conn:
        rows = conn.execute(
            "SELECT id, kind, path, params, owner FROM submissions WHERE state = 'new'"
            " ORDER BY created_at, id LIMIT ?",
            (limit,),
        ).fetchall()
        now = time.time()
        for row in rows:
            conn.execute(
                "UPDATE submissions SET state = 'working', updated_at = ? WHERE id = ?",
                (now, row["id"]),
            )
    return [Submission(r["id"], r["kind"], r["path"], r["params"], r["owner"]) for r in rows]


def load_interpreter(kind: str) -> Interpreter:
    module_name = INTERPRETERS.get(kind)
    if module_name is None:
        raise InterpreterMissing(f"no interpreter for submissions of kind {kind!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InterpreterMissing(
            f"the {kind} gateway's interpreter ({module_name}) is not installed: {exc}"
        ) from exc
    function = getattr(module, "interpret", None)
    if not callable(function):
        raise InterpreterMissing(f"{module_name} has no interpret(ctx) function")
    return cast(Interpreter, function)


def faxmaster(settings: Settings) -> str:
    return settings.get_str("sys.fax.configure.mail.faxmaster")


def process(spool: Spool, settings: Settings, submission: Submission) -> str:
    """Work one claimed submission to its end state; returns that state. Runs in a worker."""
    with Ledger.open(spool.ledger_path, migrate=False) as ledger:
        work_dir = spool.tmp / f"submission-{submission.id}"
        shutil.rmtree(work_dir, ignore_errors=True)
        work_dir.mkdir(parents=True)
        try:
            interpreter = load_interpreter(submission.kind)
            ctx = InterpretContext(
                spool=spool,
                settings=settings,
                submission_id=submission.id,
                kind=submission.kind,
                raw_path=spool.incoming / submission.path,
                params=InterpretContext.decode_params(submission.params),
                owner=submission.owner,
                work_dir=work_dir,
            )
            result = interpreter(ctx)
            return apply_interpretation(spool, settings, ledger, submission, result, work_dir)
        except Exception as exc:
            if not is_disk_full(exc):
                log.exception("submission %d (%s) is bad", submission.id, submission.kind)
                mark_bad(spool, settings, ledger, submission, _plain(exc))
                return "bad"
            # Temporary: give the submission back; it is tried again on a later pass.
            log.error("submission %d waits, the disk is full: %s", submission.id, exc)
            try:
                unclaim(ledger, submission)
            except Exception:
                # The ledger itself is full: the row stays 'working' until the intake loop
                # gives it back, once no worker is busy.
                log.exception("submission %d could not be given back yet", submission.id)
            return "new"
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)


def _plain(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return (
        text
        if isinstance(exc, ConversionError | InterpreterMissing)
        else f"{type(exc).__name__}: {text}"
    )


def apply_interpretation(
    spool: Spool,
    settings: Settings,
    ledger: Ledger,
    submission: Submission,
    result: Interpretation,
    work_dir: Path,
) -> str:
    if isinstance(result, Rejection):
        with ledger.transaction() as conn:
            add_notification(
                conn,
                "rejected",
                result.notify,
                {"reason": result.reason, "kind": submission.kind},
                submission_id=submission.id,
            )
            _finish(conn, submission, "rejected", result.reason)
        _drop_incoming(spool, submission)
        log.info("submission %d rejected: %s", submission.id, result.reason)
        return "rejected"
    if isinstance(result, PendingPrintJob):
        return hold_print_job(spool, ledger, submission, result)
    policy = QueuePolicy.from_settings(settings)
    options = page_options(settings)
    prepared = []
    rejections: list[tuple[FaxRequest, str]] = []
    requests = selected_pages(submission, result)
    for request in dialable_requests(requests, settings, rejections):
        try:
            document = prepare_document(spool, ledger, request.parts, options, work_dir)
        except ConversionError as exc:
            rejections.append((request, str(exc)))
            continue
        prepared.append((request, document))
    now = time.time()
    job_ids: list[int] = []
    with ledger.transaction() as conn:
        for request, reason in rejections:
            add_notification(
                conn,
                "rejected",
                request.notify,
                {"reason": reason, "tag": request.tag},
                submission_id=submission.id,
            )
        for request, document in prepared:
            skipped = [*request.skipped, *document.skipped]
            send_at, kill_at = new_job_times(now, policy, *requested_times(submission))
            for destination in request.destinations:
                cursor = conn.execute(
                    "INSERT INTO jobs (submission_id, document_id, number, recipient_name, state,"
                    " priority, tag, owner, notify, max_tries, max_dials, pages_total, send_at,"
                    " kill_at, created_at, updated_at, skipped)"
                    " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        submission.id,
                        document.document_id,
                        destination.number,
                        destination.name,
                        clamp_priority(request.priority),
                        request.tag,
                        request.owner,
                        request.notify,
                        request.max_tries,
                        policy.max_dials,
                        document.pages,
                        send_at,
                        kill_at,
                        now,
                        now,
                        json.dumps(skipped),
                    ),
                )
                assert cursor.lastrowid is not None
                job_ids.append(cursor.lastrowid)
            if skipped:
                add_notification(
                    conn,
                    "skipped",
                    request.notify,
                    {
                        "skipped": skipped,
                        "tag": request.tag,
                        "numbers": [d.number for d in request.destinations],
                    },
                    submission_id=submission.id,
                )
        state = "done" if prepared else "rejected"
        if not _finish(conn, submission, state, "; ".join(r for _q, r in rejections) or None):
            raise sqlite3.IntegrityError(f"submission {submission.id} was no longer claimed")
    _drop_incoming(spool, submission)
    log.info("submission %d (%s) → jobs %s", submission.id, submission.kind, job_ids)
    return state


def dialable_requests(
    requests: list[FaxRequest], settings: Settings, rejections: list[tuple[FaxRequest, str]]
) -> list[FaxRequest]:
    """The requests with their numbers as dialled (prefix in front); blocked numbers are left
    out and their reasons added to `rejections`. Every gateway's jobs pass here, so the block
    list holds for print, upload and API as for mail."""
    prefix = settings.get_str("sys.fax.configure.dial.prefix")
    blocked = settings.get_list("sys.fax.configure.dial.blocked")
    kept: list[FaxRequest] = []
    for request in requests:
        allowed: list[Destination] = []
        for destination in request.destinations:
            try:
                number = dial_number(destination.number, prefix, blocked)
            except NumberError as exc:
                rejections.append((request, str(exc)))
                continue
            allowed.append(dataclasses.replace(destination, number=number.dialled))
        if allowed:
            kept.append(dataclasses.replace(request, destinations=allowed))
    return kept


def selected_pages(submission: Submission, requests: list[FaxRequest]) -> list[FaxRequest]:
    """An upload's parts narrowed to the pages its params name, if any.

    Param "pages" has one entry per uploaded file, in order: "1-2,5-5" or null for all of it
    (a held print job sent with its IPP page-ranges). The upload interpreter hands back whole
    files, one part each in that order; each range becomes a part of its own here, before
    anything is converted, as the print interpreter makes them (pages 1, 2 and 5 in one fax).
    """
    if submission.kind != "upload":
        return requests
    try:
        chosen = InterpretContext.decode_params(submission.params).get("pages")
    except ValueError:
        return requests
    if not isinstance(chosen, list) or not any(chosen):
        return requests
    ranges = [parse_pages(entry if isinstance(entry, str) else None) for entry in chosen]
    return [
        dataclasses.replace(request, parts=narrowed(request.parts, ranges)) for request in requests
    ]


def narrowed(parts: list[DocumentPart], ranges: list[PageRanges]) -> list[DocumentPart]:
    """Part i split into its ranges[i] (a part with no ranges, or past the list, stays whole)."""
    result: list[DocumentPart] = []
    for index, part in enumerate(parts):
        selection = ranges[index] if index < len(ranges) else ()
        if not selection:
            result.append(part)
            continue
        result.extend(
            dataclasses.replace(part, first_page=first, last_page=last) for first, last in selection
        )
    return result


def requested_times(submission: Submission) -> tuple[float | None, float | None]:
    """(time-to-send, seconds until kill) a submission asked for (`send_at`, `kill_after`)."""
    try:
        params = InterpretContext.decode_params(submission.params)
    except ValueError:
        return None, None
    send_at, kill_after = params.get("send_at"), params.get("kill_after")
    return (
        float(send_at) if isinstance(send_at, int | float) else None,
        float(kill_after) if isinstance(kill_after, int | float) and kill_after > 0 else None,
    )


def hold_print_job(
    spool: Spool, ledger: Ledger, submission: Submission, held: PendingPrintJob
) -> str:
    """Keep a print job without numbers for its user (moved into docq/, row in the ledger).

    The file is kept whole with the pages its user chose (IPP page-ranges): sending it later
    faxes only those (`selected_pages`)."""
    target = spool.docq / f"print-{submission.id}-{held.document.path.name}"
    # Atomic like every spool file: a crash mid-copy must not leave a half document under the
    # name a held job will be sent from.
    with held.document.path.open("rb") as source, atomic_writer(target, tmp_dir=spool.tmp) as out:
        shutil.copyfileobj(source, out)
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO pending_print_jobs (submission_id, owner, title, notify, path, mime_type,"
            " pages, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                submission.id,
                held.owner,
                held.title,
                held.notify,
                target.name,
                held.document.mime_type,
                format_pages(held.pages),
                time.time(),
            ),
        )
        _finish(conn, submission, "held", None)
    _drop_incoming(spool, submission)
    return "held"


def _finish(
    conn: sqlite3.Connection, submission: Submission, state: str, error: str | None
) -> bool:
    return (
        conn.execute(
            "UPDATE submissions SET state = ?, error = ?, updated_at = ? WHERE id = ? AND state = 'working'",
            (state, error, time.time(), submission.id),
        ).rowcount
        == 1
    )


def _drop_incoming(spool: Spool, submission: Submission) -> None:
    with contextlib.suppress(FileNotFoundError):
        (spool.incoming / submission.path).unlink()


def mark_bad(
    spool: Spool, settings: Settings, ledger: Ledger, submission: Submission, reason: str
) -> None:
    """Park the submission's file in bad/ and tell the faxmaster."""
    source = spool.incoming / submission.path
    with contextlib.suppress(FileNotFoundError):
        os.replace(source, spool.bad / source.name)
    with ledger.transaction() as conn:
        conn.execute(
            "UPDATE submissions SET state = 'bad', error = ?, updated_at = ? WHERE id = ?",
            (reason, time.time(), submission.id),
        )
        add_notification(
            conn,
            "bad",
            faxmaster(settings),
            {"reason": reason, "file": f"bad/{source.name}", "kind": submission.kind},
            submission_id=submission.id,
        )


def sweep_orphans(spool: Spool, settings: Settings, ledger: Ledger) -> list[Path]:
    """Files in incoming/ that no submission row names: to bad/, reported to the faxmaster."""
    moved: list[Path] = []
    for path in spool_intake.orphaned_files(spool, ledger):
        target = spool.bad / path.name
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, target)
            moved.append(target)
    if moved:
        with ledger.transaction() as conn:
            add_notification(
                conn,
                "bad",
                faxmaster(settings),
                {
                    "reason": "files in incoming/ without a submission (a gateway "
                    "crashed before acknowledging them)",
                    "files": [f"bad/{p.name}" for p in moved],
                },
            )
        log.warning("moved %d orphaned incoming files to bad/", len(moved))
    return moved
