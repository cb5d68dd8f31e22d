"""Small helpers shared by the page resources: forms, templates, redirects, messages."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs, urlencode

import falcon
from jinja2 import Environment, PackageLoader, select_autoescape

from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.security import Session
from faxgate.users import User

FORM_URLENCODED = "application/x-www-form-urlencoded"
# Ledger ids are SQLite integers: a larger number in a URL is "not found", not a crash.
MAX_ID = 2**63 - 1
MAX_FORM_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Form:
    """A posted form: text fields (possibly repeated) and uploaded files."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def has(self, name: str) -> bool:
        return name in self.fields


class FormTooLarge(falcon.HTTPPayloadTooLarge):
    pass


def read_form(req: falcon.Request, max_upload_bytes: int) -> Form:
    """Parse an urlencoded or multipart body (call once: it consumes the stream)."""
    content_type = (req.content_type or "").split(";", 1)[0].strip().lower()
    form = Form()
    if content_type == FORM_URLENCODED:
        if req.content_length is not None and req.content_length > MAX_FORM_BYTES:
            raise FormTooLarge(description="the form is too large")
        body = req.bounded_stream.read(MAX_FORM_BYTES + 1)
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge(description="the form is too large")
        form.fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return form
    if content_type == falcon.MEDIA_MULTIPART:
        if req.content_length is not None and req.content_length > max_upload_bytes:
            raise FormTooLarge(description=f"uploads are limited to {max_upload_bytes} bytes")
        total = 0
        for part in cast(Any, req.get_media()):
            data: bytes = part.stream.read(max_upload_bytes + 1)
            total += len(data)
            if total > max_upload_bytes:
                raise FormTooLarge(description=f"uploads are limited to {max_upload_bytes} bytes")
            if part.filename:
                form.files.append(
                    Upload(
                        part.name,
                        part.secure_filename if part.filename else "",
                        part.content_type or "application/octet-stream",
                        data,
                    )
                )
            else:
                form.fields.setdefault(part.name, []).append(data.decode("utf-8", "replace"))
        return form
    return form


def cookie(req: falcon.Request, name: str) -> str:
    """The first value of a cookie, or empty."""
    values = req.get_cookie_values(name) or []
    return values[0] if values else ""


def form_of(req: falcon.Request) -> Form:
    """The form the middleware parsed (and checked the CSRF token of)."""
    form = getattr(req.context, "form", None)
    return form if isinstance(form, Form) else Form()


def current_user(req: falcon.Request) -> User:
    user = getattr(req.context, "user", None)
    if not isinstance(user, User):
        raise falcon.HTTPUnauthorized(description="log in first")
    return user


def is_admin(req: falcon.Request) -> bool:
    user = getattr(req.context, "user", None)
    return isinstance(user, User) and user.role == "admin"


def actor(req: falcon.Request) -> str:
    """How changes are named in the audit log: web:<user> or api:<user>."""
    via = "api" if getattr(req.context, "via_token", False) else "web"
    return f"{via}:{current_user(req).name}"


def format_time(value: float | None) -> str:
    if value is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))


def make_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("faxgate.faxadmin", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.filters["tojson_compact"] = lambda value: json.dumps(value, separators=(",", ":"))
    env.globals["urlencode"] = lambda params: urlencode(
        {k: v for k, v in params.items() if v not in (None, "")}
    )
    return env


class Renderer:
    """Renders a template with what every page shows (user, CSRF token, the one-time message)."""

    def __init__(self, state: AdminState) -> None:
        self.state = state
        self.env = make_environment()

    def page(
        self, req: falcon.Request, resp: falcon.Response, template: str, **context: object
    ) -> None:
        session: Session | None = getattr(req.context, "session", None)
        message = self.pop_flash(session) if session is not None else None
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.env.get_template(template).render(
            user=getattr(req.context, "user", None),
            csrf_token=session.csrf_token if session else getattr(req.context, "login_csrf", ""),
            message=message,
            path=req.path,
            **context,
        )

    def pop_flash(self, session: Session) -> str | None:
        ledger = self.state.ledger()
        row = ledger.query_one(
            "SELECT flash FROM admin_sessions WHERE token_hash = ?", (session.token_hash,)
        )
        if row is None or not row["flash"]:
            return None
        with ledger.transaction() as conn:
            conn.execute(
                "UPDATE admin_sessions SET flash = NULL WHERE token_hash = ?", (session.token_hash,)
            )
        return str(row["flash"])


def flash(state: AdminState, req: falcon.Request, message: str) -> None:
    """Show `message` on the next page this browser loads."""
    session: Session | None = getattr(req.context, "session", None)
    if session is None:
        return
    with state.ledger().transaction() as conn:
        conn.execute(
            "UPDATE admin_sessions SET flash = ? WHERE token_hash = ?",
            (message, session.token_hash),
        )


def redirect(location: str) -> falcon.HTTPSeeOther:
    return falcon.HTTPSeeOther(location)


def see_other(resp: falcon.Response, location: str) -> None:
    """Answer 303 See Other without raising, so cookies set on `resp` are kept."""
    resp.status = falcon.HTTP_303
    resp.location = location
    resp.text = ""


def query_params(req: falcon.Request, names: tuple[str, ...]) -> dict[str, str]:
    return {name: (req.get_param(name) or "").strip() for name in names}


def json_response(resp: falcon.Response, value: Mapping[str, object] | list[Any]) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(value, separators=(",", ":"), default=str)
