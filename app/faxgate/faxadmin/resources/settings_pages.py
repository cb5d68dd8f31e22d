"""Fax server, E-mail server and System settings: save as pending, then apply.

As in the vendor's admin, a saved change is pending until the administrator applies it; apply
checks the whole set, snapshots it, and restarts or reloads only the programs that need it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlencode

import falcon

from faxgate.errors import FaxgateError, SettingsError
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.web import Form, Renderer, actor, flash, form_of, redirect
from faxgate.mail import outbox
from faxgate.settings import Key, KeyType, registry, store
from faxgate.supervision.control import SupervisorUnavailable

log = logging.getLogger("faxadmin")

P = "sys.fax.configure."
FAX_SERVER_KEYS = (
    P + "lines.count",
    P + "station.ident",
    P + "station.header",
    P + "ecm",
    P + "trunk.mode",
    P + "trunk.server",
    P + "trunk.peername",
    P + "trunk.secret",
    P + "trunk.refresh",
    P + "trunk.codec",
    P + "lines.bind",
    P + "lines.baseport",
)
MAIL_SERVER_KEYS = (
    P + "mail.server",
    P + "mail.tls",
    P + "mail.username",
    P + "mail.password",
    P + "mail.domain",
    P + "mail.faxmaster",
    P + "mail.sender",
)
# Restarting faxadmin from inside one of its own requests would cut that request off.
SELF_RESTART_DELAY_S = 1.5


@dataclass(frozen=True)
class FieldView:
    """One key as a form field shows it."""

    key: Key
    value: str  # what the input holds (the pending value when there is one)
    current: str
    default: str
    pending: str | None
    source: str

    @property
    def input_kind(self) -> str:
        kind = self.key.type
        if kind is KeyType.BOOLEAN:
            return "boolean"
        if kind is KeyType.CHOICE:
            return "choice"
        if kind is KeyType.SECRET:
            return "secret"
        if kind is KeyType.INTEGER:
            return "number"
        return "text"


def field_views(state: AdminState, names: list[str]) -> list[FieldView]:
    settings = state.settings(fresh=True)
    pending = {change.key: change.value for change in store.pending(state.ledger())}
    views = []
    for name in names:
        key = registry().get(name)
        current = key.render(settings.get(name))
        shown_pending = None
        value = current
        if name in pending:
            change = pending[name]
            shown_pending = "(default)" if change is None else key.render(change)
            value = key.render(key.default) if change is None else key.render(change)
        if key.type is KeyType.SECRET:
            value = ""
        views.append(
            FieldView(
                key, value, current, key.render(key.default), shown_pending, settings.source(name)
            )
        )
    return views


def save_form(state: AdminState, form: Form, names: tuple[str, ...], who: str) -> list[str]:
    """Save every field that differs from what is in effect (or pending); returns their names."""
    views = {view.key.name: view for view in field_views(state, list(names))}
    saved: list[str] = []
    problems: list[str] = []
    for name in names:
        if not form.has(name):
            continue
        raw = form.get(name)
        view = views[name]
        if view.key.type is KeyType.SECRET and raw == "":
            continue  # an empty password field means "leave it as it is"
        try:
            parsed = view.key.parse(raw, source="the form")
        except SettingsError as exc:
            problems.append(str(exc))
            continue
        if view.key.render(parsed) == view.value and view.key.type is not KeyType.SECRET:
            continue
        store.save(state.ledger(), name, raw, who)
        saved.append(name)
    if problems:
        raise SettingsError("; ".join(problems))
    return saved


def pending_view(state: AdminState) -> list[dict[str, str]]:
    rows = []
    for change in store.pending(state.ledger()):
        key = registry().get(change.key)
        rows.append(
            {
                "key": change.key,
                "value": "(back to default)" if change.value is None else key.render(change.value),
                "by": change.changed_by,
            }
        )
    return rows


def apply_pending(state: AdminState, who: str) -> str:
    """Apply every pending change and tell the programs; returns a sentence for the admin."""
    config = state.config
    result = store.apply(state.ledger(), who, config.config_path, config.environ)
    state.forget_settings()
    if not result.changed:
        return "Applied: nothing changed."
    restart = set(result.restart)
    delayed_self_restart = "faxadmin" in restart
    restart.discard("faxadmin")
    try:
        done = config.tell_programs(state.spool, restart, set(result.reload))
    except SupervisorUnavailable:
        done = ["the programs are not supervised here: restart them to use the new settings"]
    except FaxgateError as exc:
        done = [f"telling the programs failed: {exc}"]
    if delayed_self_restart:
        timer = threading.Timer(
            SELF_RESTART_DELAY_S,
            _restart_self,
            args=(state,),
        )
        timer.daemon = True
        timer.start()
        done.append("faxadmin restarts in a moment (reload this page)")
    return f"Applied {len(result.changed)} change(s): " + (", ".join(done) or "nothing to restart")


def _restart_self(state: AdminState) -> None:
    try:
        state.config.tell_programs(state.spool, {"faxadmin"}, set())
    except FaxgateError as exc:
        log.warning("could not restart faxadmin after apply: %s", exc)


class SettingsFormResource:
    """A page with a fixed set of keys (Fax server, E-mail server)."""

    def __init__(
        self,
        state: AdminState,
        renderer: Renderer,
        title: str,
        names: tuple[str, ...],
        template: str,
    ) -> None:
        self.state = state
        self.renderer = renderer
        self.title = title
        self.names = names
        self.template = template

    def _show(self, req: falcon.Request, resp: falcon.Response, error: str | None = None) -> None:
        self.renderer.page(
            req,
            resp,
            self.template,
            title=self.title,
            fields=field_views(self.state, list(self.names)),
            pending=pending_view(self.state),
            error=error,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._show(req, resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            saved = save_form(self.state, form_of(req), self.names, actor(req))
        except SettingsError as exc:
            resp.status = falcon.HTTP_400
            self._show(req, resp, str(exc))
            return
        flash(
            self.state,
            req,
            f"Saved {len(saved)} change(s); they are pending until you apply them."
            if saved
            else "Nothing changed.",
        )
        raise redirect(req.path)


class ApplyResource:
    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        back = form_of(req).get("back") or "/settings/system"
        if not back.startswith("/settings") and back != "/maintenance":
            back = "/settings/system"
        try:
            flash(self.state, req, apply_pending(self.state, actor(req)))
        except SettingsError as exc:
            flash(self.state, req, f"Nothing was applied: {exc}")
        raise redirect(back)


class DiscardResource:
    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        count = store.discard(self.state.ledger(), actor(req))
        flash(self.state, req, f"Discarded {count} pending change(s).")
        back = form_of(req).get("back") or "/settings/system"
        raise redirect(
            back if back.startswith("/settings") or back == "/maintenance" else "/settings/system"
        )


class TestMailResource:
    """Send a test mail through the outbox (it goes the way notifications go)."""

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        settings = self.state.settings(fresh=True)
        to = form_of(req).get("to").strip() or settings.get_str(P + "mail.faxmaster")
        message = EmailMessage()
        message["From"] = settings.get_str(P + "mail.sender")
        message["To"] = to
        message["Subject"] = "faxgate test mail"
        message.set_content(
            "This is a test mail from the faxgate admin.\n\n"
            f"Mail server: {settings.get_str(P + 'mail.server') or '(none: Maildir outbox)'}\n"
            f"Sent by: {actor(req)}\n"
        )
        try:
            path = outbox.enqueue(self.state.spool, message)
        except FaxgateError as exc:
            flash(self.state, req, f"The test mail could not be queued: {exc}")
        else:
            flash(
                self.state,
                req,
                f"Test mail to {to} queued ({path.name}); see Mail outbox for its delivery.",
            )
        raise redirect("/settings/mail")


class SystemSettingsResource:
    """Every key with help, default, current and pending value; search; edit one at a time."""

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response, error: str | None = None) -> None:
        search = (req.get_param("q") or "").strip().lower()
        names = [
            key.name
            for key in registry().keys()
            if not search or search in key.name.lower() or search in key.help.lower()
        ]
        self.renderer.page(
            req,
            resp,
            "settings_system.html",
            fields=field_views(self.state, names),
            pending=pending_view(self.state),
            search=search,
            error=error,
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = form_of(req)
        name = form.get("key")
        if name not in registry():
            raise falcon.HTTPBadRequest(description=f"there is no settings key {name!r}")
        try:
            if form.get("action") == "reset":
                store.reset(self.state.ledger(), name, actor(req))
                flash(self.state, req, f"{name} goes back to its default when you apply.")
            else:
                value = store.save(self.state.ledger(), name, form.get("value"), actor(req))
                shown = registry().get(name).render(value)
                flash(self.state, req, f"{name} = {shown} is pending until you apply it.")
        except SettingsError as exc:
            resp.status = falcon.HTTP_400
            self.on_get(req, resp, error=str(exc))
            return
        search = form.get("q")
        raise redirect("/settings/system" + (f"?{urlencode({'q': search})}" if search else ""))
