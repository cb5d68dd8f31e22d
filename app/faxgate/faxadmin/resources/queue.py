"""The queue (active and waiting jobs) and its actions; the send-a-fax upload form."""

from __future__ import annotations

import re

import falcon

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxadmin import queueactions
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.web import (
    Form,
    Renderer,
    Upload,
    actor,
    current_user,
    flash,
    form_of,
    redirect,
)
from faxgate.faxqueued import api

_NUMBERS = re.compile(r"[\s,;]+")
COVER_NAME = "cover.txt"


def owner_scope(req: falcon.Request) -> str | None:
    user = current_user(req)
    return None if user.role == "admin" else user.name


class QueueResource:
    access = "user"

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        jobs = queueactions.unfinished_jobs(self.state.ledger(), owner_scope(req))
        self.renderer.page(req, resp, "queue.html", jobs=jobs)


class QueueActionResource:
    access = "user"

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response, job_id: int, action: str) -> None:
        form = form_of(req)
        priority = None
        if action == "priority":
            text = form.get("priority").strip()
            priority = int(text) if text.isdigit() else -1
        try:
            done = queueactions.perform(
                self.state.spool,
                self.state.ledger(),
                self.state.settings(),
                job_id,
                action,
                actor(req),
                owner=owner_scope(req),
                priority=priority,
            )
        except NotFoundError:
            raise
        except FaxgateError as exc:
            done = f"Not possible: {exc}"
        flash(self.state, req, done)
        raise redirect("/queue")


def numbers_of(text: str) -> list[str]:
    return [item for item in _NUMBERS.split(text) if item]


def documents_of(form: Form) -> list[tuple[str, bytes]]:
    """The uploaded files, with the cover text (if any) as a first text page."""
    documents: list[tuple[str, bytes]] = []
    cover = form.get("cover").strip()
    if cover:
        documents.append((COVER_NAME, cover.encode("utf-8")))
    documents += [(upload.filename or "document", upload.data) for upload in uploads(form)]
    return documents


def uploads(form: Form) -> list[Upload]:
    return [upload for upload in form.files if upload.data]


class SendResource:
    access = "user"

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.renderer.page(
            req,
            resp,
            "send.html",
            values={},
            default_priority=self.state.settings().get_int("sys.fax.configure.queue.priority"),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = form_of(req)
        user = current_user(req)
        priority_text = form.get("priority").strip()
        try:
            if not uploads(form):
                raise FaxgateError("choose at least one file to fax")
            if priority_text and not priority_text.isdigit():
                raise FaxgateError("the priority is a number from 0 (first) to 255 (last)")
            submission = api.submit_upload(
                self.state.spool,
                self.state.ledger(),
                documents_of(form),
                numbers_of(form.get("numbers")),
                priority=int(priority_text) if priority_text else None,
                notify=user.email or None,
                tag=form.get("tag").strip()[:100],
                owner=user.name,
            )
        except FaxgateError as exc:
            resp.status = falcon.HTTP_400
            self.renderer.page(
                req,
                resp,
                "send.html",
                values={k: form.get(k) for k in ("numbers", "cover", "priority", "tag")},
                default_priority=self.state.settings().get_int("sys.fax.configure.queue.priority"),
                error=str(exc),
            )
            return
        flash(
            self.state,
            req,
            f"Fax submitted (submission {submission}); it appears under Sent once converted.",
        )
        raise redirect("/faxes/sent")
