"""Stored overrides: a saved change is pending until it is applied.

`save()` checks one value and keeps it as pending. `apply()` takes every pending change, checks
the whole resulting set (one key at a time and together), records it as applied with a
snapshot and an audit entry, and returns which programs must be told. Telling them is the
caller's job (`faxgate.supervision.control.tell_programs`), so this module stays testable
without a running supervisord.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faxgate.errors import SettingsError
from faxgate.settings import base_layers, combine, registry
from faxgate.settings.registry import SettingValue
from faxgate.settings.sources import Layer, stored_layer
from faxgate.settings.validation import whole_set_problems
from faxgate.spool.audit import record as _audit
from faxgate.spool.ledger import Ledger


@dataclass(frozen=True)
class PendingChange:
    key: str
    value: SettingValue | None  # None: back to the value below the stored overrides
    changed_by: str
    changed_at: float


@dataclass(frozen=True)
class ApplyResult:
    changed: list[str]
    restart: set[str] = field(default_factory=set)  # programs to restart
    reload: set[str] = field(default_factory=set)  # programs to send SIGHUP
    snapshot_id: int | None = None


def save(ledger: Ledger, name: str, raw: object, actor: str) -> SettingValue:
    """Check a value and keep it as a pending change; return the parsed value."""
    key = registry().get(name)
    value = key.parse(raw)
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO settings_pending (key, value, changed_by, changed_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " changed_by = excluded.changed_by, changed_at = excluded.changed_at",
            (name, json.dumps(value), actor, time.time()),
        )
        _audit(conn, actor, "settings.save", {"key": name, "value": key.render(value)})
    return value


def reset(ledger: Ledger, name: str, actor: str) -> None:
    """Pending change: drop the stored override of `name` (back to appliance.yml/default)."""
    registry().get(name)
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO settings_pending (key, value, changed_by, changed_at) VALUES (?, NULL, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = NULL,"
            " changed_by = excluded.changed_by, changed_at = excluded.changed_at",
            (name, actor, time.time()),
        )
        _audit(conn, actor, "settings.reset", {"key": name})


def discard(ledger: Ledger, actor: str) -> int:
    """Forget every pending change; return how many there were."""
    with ledger.transaction() as conn:
        count = conn.execute("DELETE FROM settings_pending").rowcount
        _audit(conn, actor, "settings.discard", {"count": count})
    return count


def generation(ledger: Ledger) -> int:
    """The number of the latest apply (0 before the first): a cheap test of whether a cached
    Settings is stale, for processes that cache settings across requests."""
    row = ledger.query_one("SELECT coalesce(max(id), 0) AS id FROM settings_snapshots")
    return int(row["id"]) if row is not None else 0


def pending(ledger: Ledger) -> list[PendingChange]:
    changes = []
    for row in ledger.query("SELECT * FROM settings_pending ORDER BY key"):
        value = None if row["value"] is None else json.loads(row["value"])
        changes.append(PendingChange(row["key"], value, row["changed_by"], row["changed_at"]))
    return changes


def apply(
    ledger: Ledger,
    actor: str,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ApplyResult:
    """Apply every pending change, all or nothing. Raises SettingsError listing every problem."""
    reg = registry()
    with ledger.transaction() as conn:
        before = stored_layer(reg, ledger).values
        after = dict(before)
        changes = pending(ledger)
        for change in changes:
            if change.value is None:
                after.pop(change.key, None)
            else:
                after[change.key] = reg.get(change.key).parse(change.value, source="pending change")
        layers = base_layers(config_path, environ)
        old = combine([*layers, Layer("stored", before)]).values
        new = combine([*layers, Layer("stored", after)]).values
        problems = whole_set_problems(new)
        if problems:
            raise SettingsError("cannot apply: " + "; ".join(problems))
        changed = sorted(name for name in new if new[name] != old.get(name))
        now = time.time()
        conn.execute("DELETE FROM settings_applied")
        conn.executemany(
            "INSERT INTO settings_applied (key, value, applied_at) VALUES (?, ?, ?)",
            [(name, json.dumps(value), now) for name, value in sorted(after.items())],
        )
        cursor = conn.execute(
            "INSERT INTO settings_snapshots (applied_at, applied_by, changed_keys, overrides)"
            " VALUES (?, ?, ?, ?)",
            (now, actor, json.dumps(changed), json.dumps(after, sort_keys=True)),
        )
        conn.execute("DELETE FROM settings_pending")
        _audit(conn, actor, "settings.apply", {"changed": changed})
    restart: set[str] = set()
    reload: set[str] = set()
    for name in changed:
        key = reg.get(name)
        (restart if key.restart else reload).update(key.programs)
    return ApplyResult(changed, restart, reload - restart, cursor.lastrowid)
