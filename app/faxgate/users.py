"""Appliance users: administrators and ordinary users, passwords hashed with Argon2id.

Ordinary users are the people print jobs and notifications map to; they log in to see their own
faxes. The first administrator is created at first start (`ensure_first_admin`).
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from faxgate.errors import FaxgateError, NotFoundError
from faxgate.spool.atomic import write_atomic
from faxgate.spool.audit import record
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

Role = Literal["admin", "user"]
_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._@-]{0,63}\Z")
FIRST_ADMIN = "admin"
MIN_PASSWORD_LENGTH = 8

# Argon2id with RFC 9106's second recommended profile (64 MiB, 3 passes): memory-hard, and
# still well under a second per login on a small appliance.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)


class UserError(FaxgateError):
    """A user could not be created or changed (the message says why)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    email: str | None
    disabled: bool


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def user_from_row(row: sqlite3.Row) -> User:
    return User(row["id"], row["name"], row["role"], row["email"], bool(row["disabled"]))


def create(
    ledger: Ledger, name: str, password: str, role: Role, actor: str, email: str | None = None
) -> User:
    if not _NAME.match(name):
        raise UserError(
            f"{name!r} is not a usable user name (letters, digits, . _ @ -, up to 64 characters)"
        )
    hashed = hash_password(password)
    try:
        with ledger.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO users (name, role, password_hash, email, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, role, hashed, email, time.time()),
            )
            record(conn, actor, "user.create", {"name": name, "role": role})
    except sqlite3.IntegrityError:
        raise UserError(f"a user named {name!r} exists already") from None
    assert cursor.lastrowid is not None
    return User(cursor.lastrowid, name, role, email, False)


def get(ledger: Ledger, name: str) -> User:
    row = ledger.query_one("SELECT * FROM users WHERE name = ?", (name,))
    if row is None:
        raise NotFoundError(f"there is no user named {name!r}")
    return user_from_row(row)


def list_all(ledger: Ledger) -> list[User]:
    return [user_from_row(row) for row in ledger.query("SELECT * FROM users ORDER BY name")]


def set_password(ledger: Ledger, name: str, password: str, actor: str) -> None:
    hashed = hash_password(password)
    with ledger.transaction() as conn:
        if (
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (hashed, name)
            ).rowcount
            == 0
        ):
            raise NotFoundError(f"there is no user named {name!r}")
        record(conn, actor, "user.password", {"name": name})


def remove(ledger: Ledger, name: str, actor: str) -> None:
    with ledger.transaction() as conn:
        row = conn.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no user named {name!r}")
        admins = conn.execute(
            "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0"
        ).fetchone()[0]
        if row["role"] == "admin" and admins <= 1:
            raise UserError("the last administrator cannot be removed")
        conn.execute("DELETE FROM users WHERE name = ?", (name,))
        record(conn, actor, "user.remove", {"name": name})


def authenticate(ledger: Ledger, name: str, password: str) -> User | None:
    """The user when name and password match and the user is enabled, else None."""
    row = ledger.query_one("SELECT * FROM users WHERE name = ?", (name,))
    if row is None:
        # Spend the same time as a real check, so a missing user cannot be told by timing.
        _hasher.hash(password or "x")
        return None
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row["disabled"]:
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        with ledger.transaction() as conn:
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?",
                (_hasher.hash(password), row["id"]),
            )
    return user_from_row(row)


def admin_password_path(spool: Spool) -> Path:
    return spool.etc / "admin-password"


def ensure_first_admin(
    spool: Spool, ledger: Ledger, environ: dict[str, str] | None = None
) -> str | None:
    """Create the first admin when there is none.

    The password comes from FAXGATE_ADMIN_PASSWORD, or is generated and written to
    etc/admin-password (mode 0600). Returns the generated password (for one log line), or None.
    """
    env = os.environ if environ is None else environ
    if ledger.query_one("SELECT 1 FROM users WHERE role = 'admin'"):
        return None
    given = env.get("FAXGATE_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(12)
    create(ledger, FIRST_ADMIN, password, "admin", actor="first-start")
    if given:
        return None
    write_atomic(
        admin_password_path(spool), (password + "\n").encode(), mode=0o600, tmp_dir=spool.tmp
    )
    return password
