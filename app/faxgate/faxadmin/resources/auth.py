"""Log in and log out."""

from __future__ import annotations

import falcon

from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    LoginLimiter,
    SessionStore,
    new_secret,
)
from faxgate.faxadmin.web import Renderer, cookie, form_of, redirect, see_other
from faxgate.users import authenticate


def safe_next(target: str) -> str:
    """Only a path on this site: an open redirect would help phishing."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def set_cookie(
    state: AdminState, req: falcon.Request, resp: falcon.Response, name: str, value: str
) -> None:
    resp.set_cookie(
        name,
        value,
        path="/",
        secure=state.config.secure_cookies or req.scheme == "https",
        http_only=True,
        same_site="Strict",
    )


class LoginResource:
    access = "public"

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def _show(
        self, req: falcon.Request, resp: falcon.Response, next_path: str, error: str | None = None
    ) -> None:
        token = cookie(req, LOGIN_COOKIE) or new_secret()
        set_cookie(self.state, req, resp, LOGIN_COOKIE, token)
        req.context.login_csrf = token
        self.renderer.page(req, resp, "login.html", next=next_path, error=error)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_path = safe_next(req.get_param("next") or "/")
        if req.context.user is not None and req.context.session is not None:
            raise redirect(next_path)
        self._show(req, resp, next_path)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = form_of(req)
        name = form.get("username").strip()
        password = form.get("password")
        next_path = safe_next(form.get("next") or "/")
        client = req.remote_addr or ""
        now = self.state.now()
        ledger = self.state.ledger()
        limiter = LoginLimiter(ledger)
        if limiter.limited(name, client, now):
            resp.status = falcon.HTTP_429
            resp.set_header("Retry-After", "900")
            self._show(
                req,
                resp,
                next_path,
                "Too many failed logins: wait 15 minutes before trying again.",
            )
            return
        user = authenticate(ledger, name, password)
        if user is None:
            limiter.failed(name, client, now)
            resp.status = falcon.HTTP_401
            self._show(req, resp, next_path, "User name or password is wrong.")
            return
        limiter.succeeded(name)
        token, _session = SessionStore(ledger, self.state.config.session_lifetime_s).create(
            user, client, now
        )
        set_cookie(self.state, req, resp, SESSION_COOKIE, token)
        resp.unset_cookie(LOGIN_COOKIE, path="/")
        if next_path == "/" and user.role != "admin":
            next_path = "/faxes/received"
        see_other(resp, next_path)


class LogoutResource:
    access = "user"

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = req.context.session
        if session is not None:
            SessionStore(self.state.ledger(), self.state.config.session_lifetime_s).end(session)
        resp.unset_cookie(SESSION_COOKIE, path="/")
        see_other(resp, "/login")
