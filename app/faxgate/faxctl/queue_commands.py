"""faxctl's queue commands: send, jobs, job, cancel, retry, priority, suspend, resume, received,
cleanup and the print gateway's held jobs (pending). They call faxgate.faxqueued.api."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

from faxgate.errors import FaxgateError
from faxgate.faxctl.output import emit_json, table
from faxgate.faxqueued import api
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

SEND_WAIT_SECONDS = 60.0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = sub.add_parser("send", help="fax documents (prints the job ids)")
    send.add_argument("files", nargs="+", type=Path, metavar="FILE")
    send.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="NUMBER",
        help="fax number (repeat for several)",
    )
    send.add_argument("--priority", type=int, help="0-255, lower is sent first")
    send.add_argument("--notify", metavar="ADDR", help="e-mail address for status notifications")
    send.add_argument("--tag", default="", help="job description shown in lists and notifications")
    send.add_argument("--owner", help="appliance user the job belongs to")
    send.add_argument(
        "--no-wait",
        action="store_true",
        help="print the submission id without waiting for the jobs",
    )

    jobs = sub.add_parser("jobs", help="list fax jobs")
    jobs.add_argument("--state", action="append", help="only jobs in this state (repeatable)")
    jobs.add_argument("--limit", type=int, default=50)
    sub.add_parser("job", help="one job with its calls").add_argument("id", type=int)
    sub.add_parser("cancel", help="cancel a job").add_argument("id", type=int)
    sub.add_parser("retry", help="send a waiting job now / retry a failed one").add_argument(
        "id", type=int
    )
    prio = sub.add_parser("priority", help="change a job's priority")
    prio.add_argument("id", type=int)
    prio.add_argument("priority", type=int)
    sub.add_parser("suspend", help="hold a waiting job").add_argument("id", type=int)
    sub.add_parser("resume", help="release a held job").add_argument("id", type=int)
    received = sub.add_parser("received", help="list received faxes")
    received.add_argument("--limit", type=int, default=50)
    sub.add_parser("cleanup", help="run 'Clean up fax server' now and show what it removed")

    pending = sub.add_parser(
        "pending", help="print jobs waiting for their number (client hand-off)"
    )
    psub = pending.add_subparsers(dest="action", required=True, metavar="ACTION")
    plist = psub.add_parser("list", help="held print jobs")
    plist.add_argument("--owner")
    psend = psub.add_parser("send", help="fax a held print job")
    psend.add_argument("id", type=int)
    psend.add_argument("--to", action="append", required=True, metavar="NUMBER")
    psend.add_argument("--priority", type=int)
    psend.add_argument("--notify")
    psub.add_parser("delete", help="delete a held print job").add_argument("id", type=int)


def _open(spool: Spool) -> Ledger:
    if not spool.ledger_path.exists():
        raise FaxgateError(f"no appliance spool at {spool.root}")
    return Ledger.open(spool.ledger_path)


def _when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M") if stamp else ""


def cmd_send(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    for path in args.files:
        if not path.is_file():
            raise FaxgateError(f"{path} is not a file")
    with _open(spool) as ledger:
        submission = api.submit_upload(
            spool,
            ledger,
            list(args.files),
            args.to,
            args.priority,
            args.notify,
            args.tag,
            args.owner,
        )
        if args.no_wait:
            _print(args, {"submission": submission}, f"submission {submission} queued")
            return 0
        # The jobs are made by faxqueued's intake (conversion happens there, not here).
        deadline = time.monotonic() + SEND_WAIT_SECONDS
        while time.monotonic() < deadline:
            state, error = api.submission_state(ledger, submission)
            jobs = api.jobs_of_submission(ledger, submission)
            if jobs:
                ids = [job.id for job in jobs]
                _print(
                    args,
                    {"submission": submission, "jobs": ids},
                    "\n".join(f"job {j.id} → {j.number}" for j in jobs),
                )
                return 0
            if state not in ("new", "working"):
                raise FaxgateError(f"submission {submission} was not queued: {error or state}")
            time.sleep(0.2)
    _print(
        args,
        {"submission": submission, "jobs": []},
        f"submission {submission} is stored; faxqueued has not made its jobs yet (is it running?)",
    )
    return 0


def cmd_jobs(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _open(spool) as ledger:
        found = api.list_jobs(ledger, args.state, limit=args.limit)
    if args.json:
        emit_json([j.as_dict() for j in found])
    else:
        table(
            ["id", "number", "state", "prio", "pages", "tries", "tag", "created", "last error"],
            [
                [
                    j.id,
                    j.number,
                    j.state,
                    j.priority,
                    f"{j.pages_sent}/{j.pages_total}",
                    f"{j.tries}/{j.max_tries}",
                    j.tag,
                    _when(j.created_at),
                    j.last_error or "",
                ]
                for j in found
            ],
        )
    return 0


def cmd_job(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _open(spool) as ledger:
        job = api.get_job(ledger, args.id)
    if args.json:
        emit_json(job.as_dict())
        return 0
    for name, value in job.as_dict().items():
        if name != "calls":
            print(f"{name:>15}: {value}")
    for call in job.calls:
        print(
            f"  call {call.id} on line {call.line}: {call.outcome or call.state} "
            f"{call.pages} page(s) {call.remote_ident} {call.message or ''}".rstrip()
        )
    return 0


def cmd_job_action(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _open(spool) as ledger:
        if args.command == "cancel":
            state = api.cancel_job(spool, ledger, args.id, actor)
        elif args.command == "retry":
            state = api.retry_now(spool, ledger, args.id, actor, load_settings(spool, ledger))
        elif args.command == "priority":
            value = api.set_priority(spool, ledger, args.id, args.priority, actor)
            state = f"priority {value}"
        elif args.command == "suspend":
            api.suspend(spool, ledger, args.id, actor)
            state = "suspended"
        else:
            api.resume(spool, ledger, args.id, actor)
            state = "resumed"
    _print(args, {"job": args.id, "result": state}, f"job {args.id}: {state}")
    return 0


def cmd_received(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _open(spool) as ledger:
        found = api.list_received(ledger, args.limit)
    if args.json:
        emit_json([r.as_dict() for r in found])
    else:
        table(
            ["id", "received", "to ext", "from", "pages", "state", "pdf"],
            [
                [
                    r.id,
                    _when(r.received_at),
                    r.dnid,
                    r.remote_ident or r.caller_id,
                    r.pages,
                    r.state,
                    r.pdf_path or "",
                ]
                for r in found
            ],
        )
    return 0


def cmd_cleanup(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _open(spool) as ledger:
        summary = api.cleanup_now(spool, ledger, load_settings(spool, ledger), actor)
    data = summary.as_dict()
    _print(args, data, "cleaned up: " + ", ".join(f"{k} {v}" for k, v in data.items()))
    return 0


def cmd_pending(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _open(spool) as ledger:
        if args.action == "list":
            found = api.list_print_jobs(ledger, args.owner)
            if args.json:
                emit_json([p.as_dict() for p in found])
            else:
                table(
                    ["id", "owner", "title", "type", "printed"],
                    [
                        [p.id, p.owner or "", p.title, p.mime_type, _when(p.created_at)]
                        for p in found
                    ],
                )
            return 0
        if args.action == "send":
            submission = api.send_print_job(
                spool, ledger, args.id, args.to, actor, args.priority, args.notify
            )
            _print(
                args,
                {"submission": submission},
                f"print job {args.id} queued as submission {submission}",
            )
            return 0
        api.delete_print_job(spool, ledger, args.id, actor)
        _print(args, {"deleted": args.id}, f"print job {args.id} deleted")
        return 0


def _print(args: argparse.Namespace, data: object, text: str) -> None:
    if args.json:
        emit_json(data)
    else:
        print(text)


HANDLERS = {
    "send": cmd_send,
    "jobs": cmd_jobs,
    "job": cmd_job,
    "cancel": cmd_job_action,
    "retry": cmd_job_action,
    "priority": cmd_job_action,
    "suspend": cmd_job_action,
    "resume": cmd_job_action,
    "received": cmd_received,
    "cleanup": cmd_cleanup,
    "pending": cmd_pending,
}
