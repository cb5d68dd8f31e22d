"""The REST API under /api/v1 (JSON; authenticated with per-user API tokens).

The same rules as the pages: an ordinary user sees and changes only their own jobs, faxes and
print jobs; devices, settings and cleanup are for administrators. Described by openapi.py.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import falcon

from faxgate import devices
from faxgate.errors import FaxgateError, NotFoundError, SettingsError
from faxgate.faxadmin import faximages, faxlists, queueactions, status
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.openapi import openapi_document
from faxgate.faxadmin.resources.faxes import (
    filter_of,
    optional_spool_file,
    received_tiff,
    scope_of,
    send_file,
    sent_tiff,
)
from faxgate.faxadmin.resources.queue import documents_of, numbers_of, owner_scope, uploads
from faxgate.faxadmin.resources.settings_pages import apply_pending
from faxgate.faxadmin.resources.work import check_print_job_owner
from faxgate.faxadmin.web import actor, current_user, form_of, json_response, read_form
from faxgate.faxqueued import api
from faxgate.settings import KeyType, registry, store
from faxgate.spool.atomic import is_disk_full

JOB_FIELDS = (
    "id", "number", "recipient_name", "state", "priority", "owner", "tag", "tries",
    "max_tries", "pages_total", "pages_sent", "line", "remote_ident", "last_outcome",
    "last_error", "created_at", "updated_at", "done_at", "send_at", "next_try_at",
)  # fmt: skip
RECEIVED_FIELDS = (
    "id", "received_at", "dnid", "caller_id", "remote_ident", "pages", "line", "bit_rate",
    "ecm", "duration", "state", "device_extension",
)  # fmt: skip


def job_json(row: sqlite3.Row) -> dict[str, Any]:
    return {name: row[name] for name in JOB_FIELDS}


def received_json(row: sqlite3.Row) -> dict[str, Any]:
    value = {name: row[name] for name in RECEIVED_FIELDS}
    value["ecm"] = None if row["ecm"] is None else bool(row["ecm"])
    return value


def device_json(device: devices.FaxDevice) -> dict[str, Any]:
    return {
        "extension": device.extension,
        "name": device.name,
        "kind": device.kind,
        "format": device.format,
        "emails": device.emails,
    }


def json_body(req: falcon.Request) -> dict[str, Any]:
    """The request's JSON object (400 when the body is not one)."""
    content_type = (req.content_type or "").split(";", 1)[0].strip().lower()
    if content_type != falcon.MEDIA_JSON:
        raise falcon.HTTPUnsupportedMediaType(description="send application/json")
    try:
        body = req.get_media()
    except falcon.MediaMalformedError as exc:
        raise falcon.HTTPBadRequest(description="the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise falcon.HTTPBadRequest(description="the body must be a JSON object")
    return body


def limit_of(req: falcon.Request) -> int:
    limit = req.get_param_as_int("limit", min_value=1, max_value=faxlists.MAX_PAGE_SIZE)
    return limit or faxlists.PAGE_SIZE


def require_admin(req: falcon.Request) -> None:
    if current_user(req).role != "admin":
        raise falcon.HTTPForbidden(description="this is for administrators")


def bad_request(exc: Exception) -> falcon.HTTPError:
    """400 for what the client can change; 507 when the server's disk is full (retry later)."""
    if is_disk_full(exc):
        return falcon.HTTPError(
            falcon.HTTP_507,
            title="The fax server is full",
            description=f"{exc}. Nothing was stored; try again later.",
        )
    return falcon.HTTPBadRequest(title="Not possible", description=str(exc))


class Base:
    access = "user"

    def __init__(self, state: AdminState) -> None:
        self.state = state


class OpenApiResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        json_response(resp, openapi_document())


class JobsResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            page = faxlists.sent_page(
                self.state.ledger(),
                filter_of(req),
                scope_of(self.state, req),
                req.get_param("after") or "",
                limit_of(req),
            )
        except faxlists.FilterError as exc:
            raise bad_request(exc) from None
        json_response(
            resp, {"jobs": [job_json(row) for row in page.rows], "next": page.next_cursor}
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Submit a fax: multipart/form-data with numbers, files, cover, priority, tag."""
        if (req.content_type or "").split(";", 1)[0].strip().lower() != falcon.MEDIA_MULTIPART:
            raise falcon.HTTPUnsupportedMediaType(description="send multipart/form-data")
        form = form_of(req) if getattr(req.context, "form", None) else None
        if form is None:
            form = read_form(req, self.state.config.max_upload_bytes)
        user = current_user(req)
        priority_text = form.get("priority").strip()
        try:
            if not uploads(form):
                raise FaxgateError("give at least one file (form field 'files')")
            if priority_text and not (priority_text.isdigit() and int(priority_text) <= 255):
                raise FaxgateError("the priority is a number from 0 (first) to 255 (last)")
            submission = api.submit_upload(
                self.state.spool,
                self.state.ledger(),
                documents_of(form),
                numbers_of(" ".join(form.get_all("numbers"))),
                priority=int(priority_text) if priority_text else None,
                notify=user.email or None,
                tag=form.get("tag").strip()[:100],
                owner=user.name,
            )
        except FaxgateError as exc:
            raise bad_request(exc) from None
        resp.status = falcon.HTTP_202
        resp.location = f"/api/v1/submissions/{submission}"
        json_response(resp, {"submission": submission, "state": "new"})


class SubmissionResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, submission_id: int) -> None:
        ledger = self.state.ledger()
        row = ledger.query_one("SELECT owner FROM submissions WHERE id = ?", (submission_id,))
        owner = owner_scope(req)
        if row is None or (owner is not None and row["owner"] != owner):
            raise falcon.HTTPNotFound(description=f"there is no submission {submission_id}")
        state, error = api.submission_state(ledger, submission_id)
        jobs = ledger.query(
            faxlists.SENT_SELECT + " WHERE j.submission_id = ? ORDER BY j.id", (submission_id,)
        )
        json_response(
            resp,
            {
                "submission": submission_id,
                "state": state,
                "error": error,
                "jobs": [job_json(job) for job in jobs],
            },
        )


def find_job(state: AdminState, req: falcon.Request, job_id: int) -> sqlite3.Row:
    job = faxlists.sent_job(state.ledger(), job_id, scope_of(state, req))
    if job is None:
        raise falcon.HTTPNotFound(description=f"there is no job {job_id}")
    return job


def find_fax(state: AdminState, req: falcon.Request, fax_id: int) -> sqlite3.Row:
    fax = faxlists.received_fax(state.ledger(), fax_id, scope_of(state, req))
    if fax is None:
        raise falcon.HTTPNotFound(description=f"there is no received fax {fax_id}")
    return fax


class JobResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: int) -> None:
        job = job_json(find_job(self.state, req, job_id))
        job["calls"] = [
            {
                "line": call["line"],
                "state": call["state"],
                "outcome": call["outcome"],
                "message": call["message"],
                "pages": call["pages"],
                "started_at": call["started_at"],
                "ended_at": call["ended_at"],
            }
            for call in faxlists.job_calls(self.state.ledger(), job_id)
        ]
        json_response(resp, job)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, job_id: int) -> None:
        JobActionResource(self.state).on_post(req, resp, job_id, "cancel")


class JobActionResource(Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, job_id: int, action: str) -> None:
        if action not in queueactions.ACTIONS:
            raise falcon.HTTPNotFound(description=f"there is no action {action!r}")
        priority = None
        if action == "priority":
            value = json_body(req).get("priority")
            if not isinstance(value, int) or isinstance(value, bool):
                raise falcon.HTTPBadRequest(description="priority must be a whole number 0..255")
            priority = value
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
        except NotFoundError as exc:
            raise falcon.HTTPNotFound(description=str(exc)) from None
        except FaxgateError as exc:
            raise falcon.HTTPConflict(title="Not possible", description=str(exc)) from None
        row = self.state.ledger().query_one(faxlists.SENT_SELECT + " WHERE j.id = ?", (job_id,))
        assert row is not None
        json_response(resp, {"result": done, "job": job_json(row)})


class ReceivedListResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            page = faxlists.received_page(
                self.state.ledger(),
                filter_of(req),
                scope_of(self.state, req),
                req.get_param("after") or "",
                limit_of(req),
            )
        except faxlists.FilterError as exc:
            raise bad_request(exc) from None
        json_response(
            resp,
            {"received": [received_json(row) for row in page.rows], "next": page.next_cursor},
        )


class ReceivedResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, fax_id: int) -> None:
        json_response(resp, received_json(find_fax(self.state, req, fax_id)))


class ReceivedDownloadResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, fax_id: int, kind: str) -> None:
        fax = find_fax(self.state, req, fax_id)
        try:
            tiff = received_tiff(self.state, fax)
        except NotFoundError as exc:
            raise falcon.HTTPNotFound(description=str(exc)) from None
        if kind == "pdf":
            pdf = faximages.pdf_of(tiff, optional_spool_file(self.state, fax["pdf_path"]))
            send_file(resp, pdf, "application/pdf", f"fax-received-{fax_id}.pdf")
        elif kind == "tiff":
            send_file(resp, tiff, "image/tiff", f"fax-received-{fax_id}.tif")
        else:
            raise falcon.HTTPNotFound(description="download pdf or tiff")


class JobDownloadResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: int, kind: str) -> None:
        job = find_job(self.state, req, job_id)
        try:
            tiff = sent_tiff(self.state, job)
        except NotFoundError as exc:
            raise falcon.HTTPNotFound(description=str(exc)) from None
        if kind == "pdf":
            send_file(resp, faximages.pdf_of(tiff), "application/pdf", f"fax-sent-{job_id}.pdf")
        elif kind == "tiff":
            send_file(resp, tiff, "image/tiff", f"fax-sent-{job_id}.tif")
        else:
            raise falcon.HTTPNotFound(description="download pdf or tiff")


def device_args(body: dict[str, Any]) -> dict[str, Any]:
    emails = body.get("emails")
    if emails is not None and (
        not isinstance(emails, list) or not all(isinstance(e, str) for e in emails)
    ):
        raise falcon.HTTPBadRequest(description="emails must be a list of addresses")
    for name in ("name", "kind", "format"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise falcon.HTTPBadRequest(description=f"{name} must be text")
    return {
        "emails": emails,
        "fmt": body.get("format"),
        "name": body.get("name"),
        "kind": body.get("kind"),
    }


class DevicesResource(Base):
    access = "admin"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        json_response(
            resp, {"devices": [device_json(d) for d in devices.list_all(self.state.ledger())]}
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = json_body(req)
        extension = body.get("extension")
        if not isinstance(extension, str):
            raise falcon.HTTPBadRequest(description='extension must be text, e.g. "100"')
        args = device_args(body)
        try:
            device = devices.add(
                self.state.ledger(),
                extension,
                args["emails"] or [],
                actor(req),
                fmt=args["fmt"] or "pdf",
                name=args["name"] or "",
                kind=args["kind"],
            )
        except FaxgateError as exc:
            raise bad_request(exc) from None
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/devices/{device.extension}"
        json_response(resp, device_json(device))


class DeviceResource(Base):
    access = "admin"

    def _get(self, extension: str) -> devices.FaxDevice:
        try:
            return devices.get(self.state.ledger(), extension)
        except NotFoundError as exc:
            raise falcon.HTTPNotFound(description=str(exc)) from None

    def on_get(self, req: falcon.Request, resp: falcon.Response, extension: str) -> None:
        json_response(resp, device_json(self._get(extension)))

    def on_put(self, req: falcon.Request, resp: falcon.Response, extension: str) -> None:
        body = json_body(req)
        self._get(extension)
        try:
            device = devices.update(self.state.ledger(), extension, actor(req), **device_args(body))
        except FaxgateError as exc:
            raise bad_request(exc) from None
        json_response(resp, device_json(device))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, extension: str) -> None:
        self._get(extension)
        devices.remove(self.state.ledger(), extension, actor(req))
        resp.status = falcon.HTTP_204


def setting_json(state: AdminState, name: str, pending: dict[str, Any]) -> dict[str, Any]:
    key = registry().get(name)
    settings = state.settings()
    secret = key.type is KeyType.SECRET
    value: Any = key.render(settings.get(name)) if secret else settings.get(name)
    default: Any = key.render(key.default) if secret else key.default
    result: dict[str, Any] = {
        "key": name,
        "type": key.type.value,
        "value": value,
        "default": default,
        "source": settings.source(name),
        "help": key.help,
        "pending": name in pending,
    }
    if name in pending:
        change = pending[name]
        result["pending_value"] = (
            None if change is None else (key.render(change) if secret else change)
        )
    return result


class SettingsResource(Base):
    access = "admin"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        pending = {c.key: c.value for c in store.pending(self.state.ledger())}
        search = (req.get_param("q") or "").lower()
        json_response(
            resp,
            {
                "settings": [
                    setting_json(self.state, key.name, pending)
                    for key in registry().keys()
                    if search in key.name.lower()
                ]
            },
        )


class SettingResource(Base):
    access = "admin"

    def _check(self, name: str) -> None:
        if name not in registry():
            raise falcon.HTTPNotFound(description=f"there is no settings key {name!r}")

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._check(name)
        pending = {c.key: c.value for c in store.pending(self.state.ledger())}
        json_response(resp, setting_json(self.state, name, pending))

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Save a pending change: {"value": ...}, or {"reset": true} to go back to the default."""
        self._check(name)
        body = json_body(req)
        try:
            if body.get("reset") is True:
                store.reset(self.state.ledger(), name, actor(req))
            elif "value" in body and isinstance(body["value"], str | int | bool | list):
                store.save(self.state.ledger(), name, body["value"], actor(req))
            else:
                raise falcon.HTTPBadRequest(description='send {"value": ...} or {"reset": true}')
        except SettingsError as exc:
            raise bad_request(exc) from None
        pending = {c.key: c.value for c in store.pending(self.state.ledger())}
        json_response(resp, setting_json(self.state, name, pending))


class ApplyResource(Base):
    access = "admin"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            message = apply_pending(self.state, actor(req))
        except SettingsError as exc:
            raise falcon.HTTPConflict(title="Not applied", description=str(exc)) from None
        json_response(resp, {"result": message})


class PendingResource(Base):
    access = "admin"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        json_response(
            resp,
            {
                "pending": [
                    {"key": c.key, "changed_by": c.changed_by, "changed_at": c.changed_at}
                    for c in store.pending(self.state.ledger())
                ]
            },
        )


class CleanupResource(Base):
    access = "admin"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        summary = api.cleanup_now(
            self.state.spool, self.state.ledger(), self.state.settings(fresh=True), actor(req)
        )
        json_response(resp, {"summary": summary.as_dict(), "result": summary.in_words()})


class LinesResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        json_response(
            resp,
            {"lines": status.lines(self.state.spool, self.state.config.iaxmodemd_timeout_s)},
        )


class PrintJobsResource(Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        jobs = api.list_print_jobs(self.state.ledger(), owner_scope(req))
        json_response(
            resp,
            {
                "printjobs": [
                    {"id": j.id, "owner": j.owner, "title": j.title, "created_at": j.created_at}
                    for j in jobs
                ]
            },
        )


class PrintJobResource(Base):
    def on_delete(self, req: falcon.Request, resp: falcon.Response, print_job_id: int) -> None:
        try:
            check_print_job_owner(self.state, print_job_id, owner_scope(req))
        except NotFoundError as exc:
            raise falcon.HTTPNotFound(description=str(exc)) from None
        api.delete_print_job(self.state.spool, self.state.ledger(), print_job_id, actor(req))
        resp.status = falcon.HTTP_204


class PrintJobSendResource(Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, print_job_id: int) -> None:
        body = json_body(req)
        numbers = body.get("numbers")
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            raise falcon.HTTPBadRequest(description="numbers must be a list of fax numbers")
        try:
            check_print_job_owner(self.state, print_job_id, owner_scope(req))
        except NotFoundError as exc:
            raise falcon.HTTPNotFound(description=str(exc)) from None
        try:
            submission = api.send_print_job(
                self.state.spool, self.state.ledger(), print_job_id, numbers, actor(req)
            )
        except FaxgateError as exc:
            raise bad_request(exc) from None
        resp.status = falcon.HTTP_202
        json_response(resp, {"submission": submission, "state": "new"})


def add_routes(app: falcon.App[falcon.Request, falcon.Response], state: AdminState) -> None:
    base = "/api/v1"
    app.add_route(base + "/openapi.json", OpenApiResource(state))
    app.add_route(base + "/jobs", JobsResource(state))
    app.add_route(base + "/jobs/{job_id:int}", JobResource(state))
    app.add_route(base + "/jobs/{job_id:int}/{action}", JobActionResource(state))
    app.add_route(base + "/jobs/{job_id:int}/download/{kind}", JobDownloadResource(state))
    app.add_route(base + "/submissions/{submission_id:int}", SubmissionResource(state))
    app.add_route(base + "/received", ReceivedListResource(state))
    app.add_route(base + "/received/{fax_id:int}", ReceivedResource(state))
    app.add_route(base + "/received/{fax_id:int}/{kind}", ReceivedDownloadResource(state))
    app.add_route(base + "/devices", DevicesResource(state))
    app.add_route(base + "/devices/{extension}", DeviceResource(state))
    app.add_route(base + "/settings", SettingsResource(state))
    app.add_route(base + "/settings/pending", PendingResource(state))
    app.add_route(base + "/settings/apply", ApplyResource(state))
    app.add_route(base + "/settings/{name}", SettingResource(state))
    app.add_route(base + "/cleanup", CleanupResource(state))
    app.add_route(base + "/lines", LinesResource(state))
    app.add_route(base + "/printjobs", PrintJobsResource(state))
    app.add_route(base + "/printjobs/{print_job_id:int}", PrintJobResource(state))
    app.add_route(base + "/printjobs/{print_job_id:int}/send", PrintJobSendResource(state))
