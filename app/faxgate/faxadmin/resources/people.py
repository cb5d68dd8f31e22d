"""Users (administrators manage them) and the own account: password and API tokens."""

from __future__ import annotations

import falcon

from faxgate import users
from faxgate.errors import FaxgateError, NotFoundError
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.security import SessionStore, TokenStore
from faxgate.faxadmin.web import Renderer, actor, current_user, flash, form_of, redirect
from faxgate.spool.audit import record


class UsersResource:
    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.renderer.page(req, resp, "users.html", users=users.list_all(self.state.ledger()))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = form_of(req)
        role = form.get("role")
        try:
            if role not in ("admin", "user"):
                raise users.UserError("the role is admin or user")
            user = users.create(
                self.state.ledger(),
                form.get("name").strip(),
                form.get("password"),
                "admin" if role == "admin" else "user",
                actor(req),
                email=form.get("email").strip() or None,
            )
        except FaxgateError as exc:
            resp.status = falcon.HTTP_400
            self.renderer.page(
                req, resp, "users.html", users=users.list_all(self.state.ledger()), error=str(exc)
            )
            return
        flash(self.state, req, f"User {user.name} created.")
        raise redirect("/users")


class UserActionResource:
    def __init__(self, state: AdminState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str, action: str) -> None:
        ledger = self.state.ledger()
        form = form_of(req)
        target = users.get(ledger, name)
        try:
            if action == "password":
                users.set_password(ledger, name, form.get("password"), actor(req))
                SessionStore(ledger, 0).end_all_of(target.id)
                flash(self.state, req, f"New password set for {name}; their sessions ended.")
            elif action == "email":
                email = form.get("email").strip() or None
                with ledger.transaction() as conn:
                    conn.execute("UPDATE users SET email = ? WHERE id = ?", (email, target.id))
                    record(conn, actor(req), "user.email", {"name": name, "email": email})
                flash(self.state, req, f"E-mail address of {name} saved.")
            elif action == "delete":
                if target.id == current_user(req).id:
                    raise users.UserError("you cannot delete yourself")
                users.remove(ledger, name, actor(req))
                flash(self.state, req, f"User {name} deleted.")
            else:
                raise NotFoundError(f"no action {action!r}")
        except NotFoundError:
            raise
        except FaxgateError as exc:
            flash(self.state, req, f"Not possible: {exc}")
        raise redirect("/users")


class AccountResource:
    """The own password and API tokens (for faxctl --url and scripts)."""

    access = "user"

    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        new_token: str | None = None,
        error: str | None = None,
    ) -> None:
        tokens = TokenStore(self.state.ledger()).list_for(current_user(req))
        self.renderer.page(
            req, resp, "account.html", tokens=tokens, new_token=new_token, error=error
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._show(req, resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = form_of(req)
        user = current_user(req)
        ledger = self.state.ledger()
        action = form.get("action")
        if action == "token":
            name = form.get("name").strip()[:80] or "token"
            token = TokenStore(ledger).create(user, name, actor(req), self.state.now())
            # Shown once, on this answer only: it is not stored in clear anywhere.
            self._show(req, resp, new_token=token)
            return
        if action == "revoke":
            token_id = form.get("token_id")
            if not token_id.isdigit() or not TokenStore(ledger).revoke(
                int(token_id), user, actor(req)
            ):
                raise NotFoundError("there is no such token")
            flash(self.state, req, "Token revoked.")
            raise redirect("/account")
        if action == "password":
            if users.authenticate(ledger, user.name, form.get("current")) is None:
                resp.status = falcon.HTTP_400
                self._show(req, resp, error="The current password is wrong.")
                return
            try:
                users.set_password(ledger, user.name, form.get("password"), actor(req))
            except FaxgateError as exc:
                resp.status = falcon.HTTP_400
                self._show(req, resp, error=str(exc))
                return
            flash(self.state, req, "Password changed.")
            raise redirect("/account")
        raise falcon.HTTPBadRequest(description="unknown action")
