"""Dashboard, its live status JSON, /healthz, /metrics and the static files."""

from __future__ import annotations

import mimetypes
from dataclasses import asdict
from importlib import resources

import falcon

from faxgate.faxadmin import status
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.web import Renderer, is_admin, json_response, redirect


class DashboardResource:
    access = "user"

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not is_admin(req):
            raise redirect("/faxes/received")
        ledger = self.state.ledger()
        self.renderer.page(
            req,
            resp,
            "dashboard.html",
            lines=status.lines(self.state.spool, self.state.config.iaxmodemd_timeout_s),
            queue=status.queue_counts(ledger),
            today=status.today(ledger, self.state.now()),
            programs=status.programs(self.state.spool),
            attention=status.attention(self.state.spool, ledger),
        )


class StatusJsonResource:
    """What the dashboard polls: lines, queue counts, today's pages."""

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ledger = self.state.ledger()
        json_response(
            resp,
            {
                "lines": status.lines(self.state.spool, self.state.config.iaxmodemd_timeout_s),
                "queue": status.queue_counts(ledger),
                "today": asdict(status.today(ledger, self.state.now())),
            },
        )


class HealthResource:
    """Liveness of the appliance: the ledger, every supervised program, every line.

    200 when the ledger answers and every supervised program runs; 503 otherwise. Outside
    supervisord (a test, a developer's shell) the programs are reported as unknown.
    """

    access = "public"

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        problems: list[str] = []
        try:
            self.state.ledger().query_one("SELECT 1")
        except Exception as exc:  # any failure here means "not healthy", said in the answer
            problems.append(f"ledger: {exc}")
        programs = status.programs(self.state.spool)
        if programs is not None:
            problems += [
                f"{p['name']} is {p['state']}" for p in programs if p["state"] != "RUNNING"
            ]
        lines = status.lines(self.state.spool, self.state.config.iaxmodemd_timeout_s)
        problems += [f"line {line['line']} is down" for line in lines if line["state"] == "down"]
        resp.status = falcon.HTTP_200 if not problems else falcon.HTTP_503
        json_response(
            resp,
            {
                "ok": not problems,
                "problems": problems,
                "programs": programs if programs is not None else "unknown",
                "lines": [{"line": line["line"], "state": line["state"]} for line in lines],
            },
        )


class MetricsResource:
    """Prometheus text format (scrape with an admin's API token)."""

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        lines = status.lines(self.state.spool, self.state.config.iaxmodemd_timeout_s)
        resp.content_type = "text/plain; version=0.0.4; charset=utf-8"
        resp.text = status.prometheus_text(self.state.spool, self.state.ledger(), lines)


class StaticResource:
    access = "public"
    NAMES = frozenset({"style.css", "dashboard.js"})

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        if name not in self.NAMES:
            raise falcon.HTTPNotFound()
        data = (resources.files("faxgate.faxadmin") / "static" / name).read_bytes()
        resp.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        resp.set_header("Cache-Control", "public, max-age=3600")
        resp.data = data
