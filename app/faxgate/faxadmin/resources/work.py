"""Pending print jobs, the mail outbox, maintenance (cleanup, logs) and the audit log."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import falcon

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.resources.queue import numbers_of, owner_scope
from faxgate.faxadmin.resources.settings_pages import pending_view, save_form
from faxgate.faxadmin.web import Renderer, actor, flash, form_of, redirect
from faxgate.faxqueued import api
from faxgate.mail import outbox

LOG_TAIL_BYTES = 256 * 1024
_LOG_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,120}\Z")


def check_print_job_owner(state: AdminState, print_job_id: int, owner: str | None) -> None:
    row = state.ledger().query_one(
        "SELECT owner FROM pending_print_jobs WHERE id = ?", (print_job_id,)
    )
    if row is None or (owner is not None and row["owner"] != owner):
        raise NotFoundError(f"there is no held print job {print_job_id}")


class PrintJobsResource:
    """Print jobs that wait for their user to give the number (client hand-off)."""

    access = "user"

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        jobs = api.list_print_jobs(self.state.ledger(), owner_scope(req))
        self.renderer.page(req, resp, "printjobs.html", jobs=jobs)


class PrintJobActionResource:
    access = "user"

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, print_job_id: int, action: str
    ) -> None:
        check_print_job_owner(self.state, print_job_id, owner_scope(req))
        form = form_of(req)
        try:
            if action == "send":
                submission = api.send_print_job(
                    self.state.spool,
                    self.state.ledger(),
                    print_job_id,
                    numbers_of(form.get("numbers")),
                    actor(req),
                )
                flash(self.state, req, f"Print job {print_job_id} sent (submission {submission}).")
            elif action == "delete":
                api.delete_print_job(
                    self.state.spool, self.state.ledger(), print_job_id, actor(req)
                )
                flash(self.state, req, f"Print job {print_job_id} deleted.")
            else:
                raise falcon.HTTPNotFound()
        except NotFoundError:
            raise
        except FaxgateError as exc:
            flash(self.state, req, f"Not possible: {exc}")
        raise redirect("/printjobs")


class OutboxResource:
    """Mail waiting for the mail server, and (with none set) the Maildir it is delivered to."""

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        waiting = [
            summary(path, envelope=True) for path in outbox.pending_messages(self.state.spool)
        ]
        maildir_new = outbox.maildir(self.state.spool) / "new"
        delivered = []
        if maildir_new.is_dir():
            newest = sorted(maildir_new.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
            delivered = [summary(path, envelope=False) for path in newest[:100]]
        self.renderer.page(
            req,
            resp,
            "outbox.html",
            waiting=waiting,
            delivered=delivered,
            server=self.state.settings().get_str("sys.fax.configure.mail.server"),
        )


def summary(path: Path, envelope: bool) -> dict[str, str]:
    """From, To, Subject and date of a stored message (the outbox's has a JSON envelope line)."""
    try:
        data = path.read_bytes()
    except OSError:
        return {"name": path.name, "subject": "(gone)", "to": "", "from": "", "date": ""}
    if envelope:
        data = data.partition(b"\n")[2]
    message = message_from_bytes(data[:65536], policy=default_policy)
    return {
        "name": path.name,
        "subject": str(message.get("Subject", "")),
        "to": str(message.get("To", "")),
        "from": str(message.get("From", "")),
        "date": str(message.get("Date", "")),
    }


def log_files(state: AdminState) -> list[Path]:
    folder = state.spool.log
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and _LOG_NAME.match(p.name)),
        key=lambda p: p.name,
    )


class MaintenanceResource:
    """Retention, the cleanup schedule, clean up now with its summary, and the log viewer."""

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        settings = self.state.settings(fresh=True)
        files = log_files(self.state)
        chosen = req.get_param("log") or ""
        text = ""
        if chosen:
            match = [p for p in files if p.name == chosen]
            if not match:
                raise NotFoundError(f"there is no log file {chosen!r}")
            with match[0].open("rb") as stream:
                size = match[0].stat().st_size
                stream.seek(max(0, size - LOG_TAIL_BYTES))
                text = stream.read().decode("utf-8", "replace")
        self.renderer.page(
            req,
            resp,
            "maintenance.html",
            job=api.cleanup_schedule(self.state.ledger(), settings),
            days=settings.get_int("sys.fax.configure.retention.days"),
            schedule=settings.get_str("sys.fax.configure.retention.schedule"),
            pending=pending_view(self.state),
            logs=files,
            chosen=chosen,
            log_text=text,
            bad=sorted(p.name for p in self.state.spool.bad.iterdir())[:200]
            if self.state.spool.bad.is_dir()
            else [],
        )


class RetentionResource:
    """Save retention days and schedule (pending, like every setting)."""

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = form_of(req)
        try:
            saved = save_form(
                self.state,
                form,
                ("sys.fax.configure.retention.days", "sys.fax.configure.retention.schedule"),
                actor(req),
            )
        except FaxgateError as exc:
            flash(self.state, req, f"Not saved: {exc}")
        else:
            flash(
                self.state,
                req,
                f"Saved {len(saved)} change(s); they are pending until you apply them."
                if saved
                else "Nothing changed.",
            )
        raise redirect("/maintenance")


class CleanupResource:
    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        summary_ = api.cleanup_now(
            self.state.spool, self.state.ledger(), self.state.settings(fresh=True), actor(req)
        )
        flash(self.state, req, "Clean up done: " + summary_.in_words())
        raise redirect("/maintenance")


class AuditResource:
    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        before = req.get_param_as_int("before") or None
        sql = "SELECT * FROM audit_log"
        args: tuple[object, ...] = ()
        if before:
            sql += " WHERE id < ?"
            args = (before,)
        rows = self.state.ledger().query(sql + " ORDER BY id DESC LIMIT 100", args)
        self.renderer.page(req, resp, "audit.html", rows=rows)
