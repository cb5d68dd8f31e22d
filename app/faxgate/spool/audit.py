"""The audit log of administrative actions (who changed what, when)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping


def record(conn: sqlite3.Connection, actor: str, action: str, detail: Mapping[str, object]) -> None:
    """Add an entry inside the caller's transaction, so the change and its record commit together."""
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
        (time.time(), actor, action, json.dumps(dict(detail), sort_keys=True)),
    )
