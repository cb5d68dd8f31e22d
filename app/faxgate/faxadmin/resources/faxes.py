"""Information › Fax server: sent and received faxes, their details, images and downloads.

Every lookup goes through `faxlists.Scope`: an ordinary user asking for someone else's fax by
URL gets the same 404 as for a fax that does not exist.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import falcon

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxadmin import faximages, faxlists
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.faxlists import FaxFilter, FilterError, Scope
from faxgate.faxadmin.web import Renderer, current_user, format_time

_PAGE_FILE = re.compile(r"\Apage-(\d{1,4})\.png\Z")
SENT_CSV_COLUMNS = (
    "id", "created_at", "number", "recipient_name", "owner", "state", "pages_total",
    "pages_sent", "tries", "last_outcome", "last_error", "done_at",
)  # fmt: skip
RECEIVED_CSV_COLUMNS = (
    "id", "received_at", "caller_id", "remote_ident", "dnid", "device_extension", "pages",
    "state", "line", "bit_rate", "ecm", "duration",
)  # fmt: skip


def scope_of(state: AdminState, req: falcon.Request) -> Scope:
    domain = state.settings().get_str("sys.fax.configure.mail.domain")
    return faxlists.scope_for(state.ledger(), current_user(req), domain)


def filter_of(req: falcon.Request) -> FaxFilter:
    def param(name: str) -> str:
        return (req.get_param(name) or "").strip()[:200]

    return FaxFilter(
        date_from=param("date_from"),
        date_to=param("date_to"),
        number=param("number"),
        user=param("user"),
        state=param("state"),
        search=param("q"),
    )


def sent_tiff(state: AdminState, job: sqlite3.Row) -> Path:
    return faximages.spool_file(
        state.spool, faxlists.document_path(state.ledger(), job["document_id"]), state.spool.docq
    )


def received_tiff(state: AdminState, fax: sqlite3.Row) -> Path:
    return faximages.spool_file(state.spool, fax["tiff_path"], state.spool.recvq)


def optional_spool_file(state: AdminState, stored: str | None) -> Path | None:
    try:
        return faximages.spool_file(state.spool, stored, state.spool.recvq)
    except NotFoundError:
        return None


class FaxListResource:
    access = "user"

    def __init__(self, state: AdminState, renderer: Renderer, kind: str) -> None:
        self.state = state
        self.renderer = renderer
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        flt = filter_of(req)
        after = req.get_param("after") or ""
        scope = scope_of(self.state, req)
        fetch = faxlists.sent_page if self.kind == "sent" else faxlists.received_page
        error = None
        try:
            page = fetch(self.state.ledger(), flt, scope, after)
        except FilterError as exc:
            resp.status = falcon.HTTP_400
            error = str(exc)
            page = faxlists.Page([], None, flt)
        self.renderer.page(
            req,
            resp,
            f"faxes_{self.kind}.html",
            kind=self.kind,
            page=page,
            filters=flt.as_params(),
            states=faxlists.SENT_STATES if self.kind == "sent" else faxlists.RECEIVED_STATES,
            first_page=not after,
            error=error,
        )


class FaxCsvResource:
    """The list as CSV, with the same filters (and the same visibility) as the page."""

    access = "user"

    def __init__(self, state: AdminState, kind: str) -> None:
        self.state = state
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        flt = filter_of(req)
        scope = scope_of(self.state, req)
        columns = SENT_CSV_COLUMNS if self.kind == "sent" else RECEIVED_CSV_COLUMNS
        try:
            faxlists.parse_date(flt.date_from)
            faxlists.parse_date(flt.date_to)
        except FilterError as exc:
            raise falcon.HTTPBadRequest(description=str(exc)) from None
        rows = faxlists.all_rows(self.state.ledger(), self.kind, flt, scope)

        def produce() -> Iterator[bytes]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(columns)
            for count, row in enumerate(rows, 1):
                writer.writerow(
                    [
                        format_time(row[c]) if c.endswith("_at") and row[c] is not None else row[c]
                        for c in columns
                    ]
                )
                if count % 500 == 0:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode()

        resp.content_type = "text/csv; charset=utf-8"
        resp.downloadable_as = f"faxes-{self.kind}.csv"
        resp.stream = produce()


class SentDetailResource:
    access = "user"

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: int) -> None:
        ledger = self.state.ledger()
        job = faxlists.sent_job(ledger, job_id, scope_of(self.state, req))
        if job is None:
            raise NotFoundError(f"there is no sent fax {job_id}")
        pages = 0
        try:
            pages = faximages.page_count(sent_tiff(self.state, job))
        except (FaxgateError, OSError):
            pages = 0
        self.renderer.page(
            req,
            resp,
            "fax_sent_detail.html",
            job=job,
            pages=pages,
            calls=faxlists.calls_with_logs(
                self.state.spool.root, faxlists.job_calls(ledger, job_id)
            ),
            notifications=faxlists.job_notifications(ledger, job_id),
        )


class ReceivedDetailResource:
    access = "user"

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response, fax_id: int) -> None:
        ledger = self.state.ledger()
        fax = faxlists.received_fax(ledger, fax_id, scope_of(self.state, req))
        if fax is None:
            raise NotFoundError(f"there is no received fax {fax_id}")
        pages = 0
        try:
            pages = faximages.page_count(received_tiff(self.state, fax))
        except (FaxgateError, OSError):
            pages = 0
        self.renderer.page(
            req,
            resp,
            "fax_received_detail.html",
            fax=fax,
            pages=pages,
            calls=faxlists.calls_with_logs(
                self.state.spool.root, faxlists.received_calls(ledger, fax)
            ),
            mailed_to=faxlists.device_emails(ledger, fax["device_id"]),
        )


def send_file(resp: falcon.Response, path: Path, content_type: str, name: str | None) -> None:
    resp.content_type = content_type
    resp.set_header("Cache-Control", "private, max-age=300")
    if name:
        resp.downloadable_as = name
    resp.stream = path.open("rb")
    resp.content_length = path.stat().st_size


def serve_fax_file(
    state: AdminState,
    resp: falcon.Response,
    tiff: Path,
    name: str,
    label: str,
    stored_thumbnail: str | None = None,
    stored_pdf: str | None = None,
) -> None:
    """thumb.png, page-N.png, fax.pdf or fax.tif of one fax."""
    if name == "thumb.png":
        path = faximages.thumbnail_png(tiff, optional_spool_file(state, stored_thumbnail))
        send_file(resp, path, "image/png", None)
    elif name == "fax.pdf":
        path = faximages.pdf_of(tiff, optional_spool_file(state, stored_pdf))
        send_file(resp, path, "application/pdf", f"{label}.pdf")
    elif name == "fax.tif":
        send_file(resp, tiff, "image/tiff", f"{label}.tif")
    else:
        match = _PAGE_FILE.match(name)
        if match is None:
            raise NotFoundError(f"no file {name!r}")
        send_file(resp, faximages.page_png(tiff, int(match.group(1))), "image/png", None)


class SentFileResource:
    access = "user"

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: int, name: str) -> None:
        job = faxlists.sent_job(self.state.ledger(), job_id, scope_of(self.state, req))
        if job is None:
            raise NotFoundError(f"there is no sent fax {job_id}")
        serve_fax_file(self.state, resp, sent_tiff(self.state, job), name, f"fax-sent-{job_id}")


class ReceivedFileResource:
    access = "user"

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, fax_id: int, name: str) -> None:
        fax = faxlists.received_fax(self.state.ledger(), fax_id, scope_of(self.state, req))
        if fax is None:
            raise NotFoundError(f"there is no received fax {fax_id}")
        serve_fax_file(
            self.state,
            resp,
            received_tiff(self.state, fax),
            name,
            f"fax-received-{fax_id}",
            fax["thumbnail_path"],
            fax["pdf_path"],
        )
