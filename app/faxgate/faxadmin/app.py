"""The faxadmin WSGI application: `create_app(config)` wires resources to their dependencies."""

from __future__ import annotations

import logging
import os
from typing import Any

import falcon

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxadmin import apiv1
from faxgate.faxadmin.context import AdminConfig, AdminState
from faxgate.faxadmin.middleware import AccessMiddleware, wants_json
from faxgate.faxadmin.resources import (
    auth,
    devices,
    faxes,
    overview,
    people,
    queue,
    settings_pages,
    work,
)
from faxgate.faxadmin.web import Renderer
from faxgate.spool.atomic import is_disk_full
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("faxadmin")


def _error_handlers(app: falcon.App[falcon.Request, falcon.Response], renderer: Renderer) -> None:
    def http_error(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
        assert isinstance(ex, falcon.HTTPError)
        if wants_json(req) or "text/html" not in (req.accept or ""):
            resp.status = ex.status
            resp.set_headers(ex.headers or {})
            resp.content_type = falcon.MEDIA_JSON
            resp.text = ex.to_json().decode()
            return
        resp.status = ex.status
        resp.set_headers(ex.headers or {})
        renderer.page(
            req,
            resp,
            "error.html",
            title=ex.title or "Error",
            description=ex.description or "",
        )

    def not_found(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
        http_error(req, resp, falcon.HTTPNotFound(description=str(ex)), params)

    def disk_full(req: falcon.Request, resp: falcon.Response, ex: Exception) -> None:
        # 507: the server's storage, not the request, is the problem; clients retry later.
        log.error("%s %s: the disk is full: %s", req.method, req.path, ex)
        http_error(
            req,
            resp,
            falcon.HTTPError(
                falcon.HTTP_507,
                title="The fax server is full",
                description=f"{ex}. Nothing was stored; try again later.",
            ),
            None,
        )

    def faxgate_error(
        req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any
    ) -> None:
        if is_disk_full(ex):
            disk_full(req, resp, ex)
            return
        http_error(
            req, resp, falcon.HTTPBadRequest(title="Not possible", description=str(ex)), params
        )

    def unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
        if is_disk_full(ex):
            disk_full(req, resp, ex)
            return
        log.exception("%s %s failed", req.method, req.path)
        http_error(
            req,
            resp,
            falcon.HTTPInternalServerError(
                description="something went wrong inside faxadmin; the details are in its log"
            ),
            params,
        )

    app.add_error_handler(Exception, unexpected)
    app.add_error_handler(falcon.HTTPError, http_error)
    app.add_error_handler(FaxgateError, faxgate_error)
    app.add_error_handler(NotFoundError, not_found)


def create_app(config: AdminConfig) -> falcon.App[falcon.Request, falcon.Response]:
    """The application for one spool; the ledger is migrated here, once."""
    config.spool.ensure()
    with Ledger.open(config.spool.ledger_path):
        pass
    state = AdminState(config)
    renderer = Renderer(state)
    app = falcon.App(middleware=[AccessMiddleware(state)])
    app.req_options.strip_url_path_trailing_slash = True
    _error_handlers(app, renderer)

    app.add_route("/login", auth.LoginResource(state, renderer))
    app.add_route("/logout", auth.LogoutResource(state))
    app.add_route("/static/{name}", overview.StaticResource())
    app.add_route("/healthz", overview.HealthResource(state))
    app.add_route("/metrics", overview.MetricsResource(state))
    app.add_route("/", overview.DashboardResource(state, renderer))
    app.add_route("/status.json", overview.StatusJsonResource(state))

    app.add_route(
        "/settings/faxserver",
        settings_pages.SettingsFormResource(
            state, renderer, "Fax server", settings_pages.FAX_SERVER_KEYS, "settings_form.html"
        ),
    )
    app.add_route(
        "/settings/mail",
        settings_pages.SettingsFormResource(
            state, renderer, "E-mail server", settings_pages.MAIL_SERVER_KEYS, "settings_mail.html"
        ),
    )
    app.add_route("/settings/mail/test", settings_pages.TestMailResource(state))
    app.add_route("/settings/system", settings_pages.SystemSettingsResource(state, renderer))
    app.add_route("/settings/apply", settings_pages.ApplyResource(state))
    app.add_route("/settings/discard", settings_pages.DiscardResource(state))

    app.add_route("/devices", devices.DeviceListResource(state, renderer))
    app.add_route("/devices/new", devices.DeviceNewResource(state, renderer))
    app.add_route("/devices/{extension}", devices.DeviceResource(state, renderer))

    for kind in ("sent", "received"):
        app.add_route(f"/faxes/{kind}", faxes.FaxListResource(state, renderer, kind))
        app.add_route(f"/faxes/{kind}.csv", faxes.FaxCsvResource(state, kind))
    app.add_route("/faxes/sent/{job_id:int}", faxes.SentDetailResource(state, renderer))
    app.add_route("/faxes/sent/{job_id:int}/{name}", faxes.SentFileResource(state))
    app.add_route("/faxes/received/{fax_id:int}", faxes.ReceivedDetailResource(state, renderer))
    app.add_route("/faxes/received/{fax_id:int}/{name}", faxes.ReceivedFileResource(state))

    app.add_route("/queue", queue.QueueResource(state, renderer))
    app.add_route("/queue/{job_id:int}/{action}", queue.QueueActionResource(state))
    app.add_route("/send", queue.SendResource(state, renderer))
    app.add_route("/printjobs", work.PrintJobsResource(state, renderer))
    app.add_route("/printjobs/{print_job_id:int}/{action}", work.PrintJobActionResource(state))
    app.add_route("/outbox", work.OutboxResource(state, renderer))
    app.add_route("/maintenance", work.MaintenanceResource(state, renderer))
    app.add_route("/maintenance/retention", work.RetentionResource(state))
    app.add_route("/maintenance/cleanup", work.CleanupResource(state, renderer))
    app.add_route("/audit", work.AuditResource(state, renderer))
    app.add_route("/users", people.UsersResource(state, renderer))
    app.add_route("/users/{name}/{action}", people.UserActionResource(state))
    app.add_route("/account", people.AccountResource(state, renderer))
    apiv1.add_routes(app, state)
    return app


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    """What gunicorn loads: the spool from FAXGATE_SPOOL; FAXGATE_ADMIN_SECURE_COOKIES=1 marks
    cookies Secure (behind a TLS proxy that does not say so in the request)."""
    return create_app(
        AdminConfig(
            spool=Spool.from_environment(),
            secure_cookies=os.environ.get("FAXGATE_ADMIN_SECURE_COOKIES", "") in ("1", "true"),
        )
    )
