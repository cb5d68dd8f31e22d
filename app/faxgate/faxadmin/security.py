"""Sessions, API tokens, the login rate limit and the network access policy.

Secrets (session cookies, API tokens) are random 256-bit strings; the ledger keeps only their
SHA-256, so reading the ledger does not give anyone a way in. The decisions (is this client
allowed, is this login rate-limited) are pure functions of their inputs and the injected time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from faxgate.spool.audit import record
from faxgate.spool.ledger import Ledger
from faxgate.users import User, user_from_row

SESSION_COOKIE = "faxgate_session"
LOGIN_COOKIE = "faxgate_login"  # double-submit CSRF token of the login form (no session yet)
TOKEN_PREFIX = "fgt_"  # noqa: S105 -- a marker that makes leaked tokens easy to find

# Login rate limit: failures counted over a sliding window, per user name and per client.
FAILURE_WINDOW_S = 15 * 60.0
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20
TOKEN_USE_RESOLUTION_S = 60.0  # "last used" of an API token is kept to the minute


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison (a CSRF token must not leak by timing)."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def login_limited(user_failures: int, client_failures: int) -> bool:
    """Whether another login attempt must be refused for now."""
    return user_failures >= MAX_FAILURES_PER_USER or client_failures >= MAX_FAILURES_PER_CLIENT


@dataclass(frozen=True)
class Session:
    token_hash: str
    user: User
    csrf_token: str
    expires_at: float


class SessionStore:
    """Browser sessions in the ledger (shared by every gunicorn worker)."""

    def __init__(self, ledger: Ledger, lifetime_s: float) -> None:
        self.ledger = ledger
        self.lifetime_s = lifetime_s

    def create(self, user: User, client: str, now: float) -> tuple[str, Session]:
        """A new session for `user`; returns the cookie value and the session."""
        token = new_secret()
        csrf = new_secret()
        with self.ledger.transaction() as conn:
            conn.execute("DELETE FROM admin_sessions WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO admin_sessions (token_hash, user_id, csrf_token, client, created_at,"
                " last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (digest(token), user.id, csrf, client, now, now, now + self.lifetime_s),
            )
            record(conn, user.name, "login", {"client": client})
        return token, Session(digest(token), user, csrf, now + self.lifetime_s)

    def find(self, token: str | None, now: float) -> Session | None:
        if not token:
            return None
        row = self.ledger.query_one(
            "SELECT s.token_hash, s.csrf_token, s.expires_at, u.* FROM admin_sessions s"
            " JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (digest(token),),
        )
        if row is None or row["expires_at"] < now or row["disabled"]:
            return None
        return Session(row["token_hash"], user_from_row(row), row["csrf_token"], row["expires_at"])

    def end(self, session: Session) -> None:
        with self.ledger.transaction() as conn:
            conn.execute("DELETE FROM admin_sessions WHERE token_hash = ?", (session.token_hash,))
            record(conn, session.user.name, "logout", {})

    def end_all_of(self, user_id: int) -> None:
        with self.ledger.transaction() as conn:
            conn.execute("DELETE FROM admin_sessions WHERE user_id = ?", (user_id,))


class LoginLimiter:
    """Counts failed logins in the ledger (so every worker sees the same count)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def counts(self, user_name: str, client: str, now: float) -> tuple[int, int]:
        since = now - FAILURE_WINDOW_S
        by_user = self.ledger.query_one(
            "SELECT count(*) FROM login_failures WHERE user_name = ? AND at >= ?",
            (user_name, since),
        )
        by_client = self.ledger.query_one(
            "SELECT count(*) FROM login_failures WHERE client = ? AND at >= ?", (client, since)
        )
        return (by_user[0] if by_user else 0), (by_client[0] if by_client else 0)

    def limited(self, user_name: str, client: str, now: float) -> bool:
        return login_limited(*self.counts(user_name, client, now))

    def failed(self, user_name: str, client: str, now: float) -> None:
        with self.ledger.transaction() as conn:
            conn.execute("DELETE FROM login_failures WHERE at < ?", (now - FAILURE_WINDOW_S,))
            conn.execute(
                "INSERT INTO login_failures (user_name, client, at) VALUES (?, ?, ?)",
                (user_name, client, now),
            )
            record(conn, user_name, "login.failed", {"client": client})

    def succeeded(self, user_name: str) -> None:
        with self.ledger.transaction() as conn:
            conn.execute("DELETE FROM login_failures WHERE user_name = ?", (user_name,))


@dataclass(frozen=True)
class ApiToken:
    id: int
    user_name: str
    name: str
    created_at: float
    last_used_at: float | None


class TokenStore:
    """Per-user REST API tokens."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def create(self, user: User, name: str, actor: str, now: float) -> str:
        """A new token for `user`; the clear text is returned once and never stored."""
        token = TOKEN_PREFIX + new_secret()
        with self.ledger.transaction() as conn:
            conn.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
                (user.id, name, digest(token), now),
            )
            record(conn, actor, "token.create", {"user": user.name, "name": name})
        return token

    def user_for(self, token: str, now: float) -> User | None:
        row = self.ledger.query_one(
            "SELECT t.id AS token_id, t.last_used_at, u.* FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ?",
            (digest(token),),
        )
        if row is None or row["disabled"]:
            return None
        if row["last_used_at"] is None or now - row["last_used_at"] > TOKEN_USE_RESOLUTION_S:
            # Not on every request: each write is a durable commit (fsync) in the ledger.
            with self.ledger.transaction() as conn:
                conn.execute(
                    "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, row["token_id"])
                )
        return user_from_row(row)

    def list_for(self, user: User | None) -> list[ApiToken]:
        sql = (
            "SELECT t.id, u.name AS user_name, t.name, t.created_at, t.last_used_at"
            " FROM api_tokens t JOIN users u ON u.id = t.user_id"
        )
        rows = (
            self.ledger.query(sql + " ORDER BY t.id")
            if user is None
            else self.ledger.query(sql + " WHERE t.user_id = ? ORDER BY t.id", (user.id,))
        )
        return [
            ApiToken(r["id"], r["user_name"], r["name"], r["created_at"], r["last_used_at"])
            for r in rows
        ]

    def revoke(self, token_id: int, user: User, actor: str) -> bool:
        """Revoke a token; an ordinary user only their own, an admin any."""
        with self.ledger.transaction() as conn:
            if user.role == "admin":
                count = conn.execute("DELETE FROM api_tokens WHERE id = ?", (token_id,)).rowcount
            else:
                count = conn.execute(
                    "DELETE FROM api_tokens WHERE id = ? AND user_id = ?", (token_id, user.id)
                ).rowcount
            if count:
                record(conn, actor, "token.revoke", {"id": token_id})
        return bool(count)
