"""Every request passes here: network policy, who is asking, may they, and the CSRF check.

Resources say who may use them with a class attribute `access`: "public" (login, static files,
/healthz), "user" (any logged-in user; the resource limits what an ordinary user sees) or
"admin" (the default, so a resource that forgets to say is closed rather than open).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import falcon

from faxgate.access import client_allowed
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SessionStore,
    TokenStore,
    same_secret,
)
from faxgate.faxadmin.web import FORM_URLENCODED, MAX_ID, cookie, read_form

log = logging.getLogger("faxadmin")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def wants_json(req: falcon.Request) -> bool:
    return req.path.startswith("/api/") or req.path.endswith(".json") or req.path == "/metrics"


class AccessMiddleware:
    """Network policy, identity (session cookie or API token), access level and CSRF."""

    def __init__(self, state: AdminState) -> None:
        self.state = state

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        networks = self.state.settings().get_list("sys.fax.configure.admin.networks")
        if not client_allowed(req.remote_addr, networks):
            log.warning("refused client %s (not in admin networks)", req.remote_addr)
            raise falcon.HTTPForbidden(
                title="Not allowed from this network",
                description="this address is not in sys.fax.configure.admin.networks",
            )
        req.context.user = None
        req.context.session = None
        req.context.via_token = False
        now = self.state.now()
        auth = req.get_header("Authorization") or ""
        if auth.lower().startswith("bearer "):
            user = TokenStore(self.state.ledger()).user_for(auth[7:].strip(), now)
            if user is None:
                raise falcon.HTTPUnauthorized(
                    title="Invalid API token", challenges=['Bearer realm="faxgate"']
                )
            req.context.user = user
            req.context.via_token = True
            return
        sessions = SessionStore(self.state.ledger(), self.state.config.session_lifetime_s)
        session = sessions.find(cookie(req, SESSION_COOKIE), now)
        if session is not None:
            req.context.session = session
            req.context.user = session.user

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, str]
    ) -> None:
        if resource is None:
            return
        access = getattr(resource, "access", "admin")
        user = req.context.user
        if access != "public":
            if user is None:
                if wants_json(req):
                    raise falcon.HTTPUnauthorized(
                        title="Authentication required",
                        description="log in, or send an API token as 'Authorization: Bearer ...'",
                        challenges=['Bearer realm="faxgate"'],
                    )
                raise falcon.HTTPSeeOther("/login?next=" + quote(req.relative_uri, safe="/"))
            if access == "admin" and user.role != "admin":
                raise falcon.HTTPForbidden(description="this page is for administrators")
        if any(isinstance(v, int) and not 0 < v <= MAX_ID for v in params.values()):
            raise falcon.HTTPNotFound()
        if req.method in UNSAFE_METHODS and not req.context.via_token:
            self.check_csrf(req)

    def check_csrf(self, req: falcon.Request) -> None:
        content_type = (req.content_type or "").split(";", 1)[0].strip().lower()
        session = req.context.session
        if content_type in (FORM_URLENCODED, falcon.MEDIA_MULTIPART):
            form = read_form(req, self.state.config.max_upload_bytes)
            req.context.form = form
            given: str | None = form.get(CSRF_FIELD) or None
        else:
            given = req.get_header(CSRF_HEADER)
        # Before login there is no session: the login form's token must match its cookie.
        expected = session.csrf_token if session is not None else cookie(req, LOGIN_COOKIE)
        if not expected or not same_secret(given, expected):
            log.warning(
                "refused %s %s from %s: bad CSRF token", req.method, req.path, req.remote_addr
            )
            raise falcon.HTTPForbidden(
                title="Form expired",
                description="the form's security token is missing or wrong; reload the page and try again",
            )

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("X-Frame-Options", "DENY")
        resp.set_header("Referrer-Policy", "same-origin")
        resp.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if not req.path.startswith("/static/"):
            resp.set_header("Cache-Control", "no-store")
