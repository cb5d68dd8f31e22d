"""A saved change is pending until applied; apply checks the whole set and says who to tell."""

from __future__ import annotations

import json

import pytest

from faxgate.errors import SettingsError
from faxgate.settings import load_settings, store
from faxgate.spool.ledger import Ledger

LINES = "sys.fax.configure.lines.count"
PRIORITY = "sys.fax.configure.faxprint.priority"


def test_saved_value_is_pending_until_applied(ledger: Ledger) -> None:
    store.save(ledger, LINES, "6", actor="alice")
    assert load_settings(ledger=ledger, environ={}).get(LINES) == 4
    assert [(c.key, c.value, c.changed_by) for c in store.pending(ledger)] == [(LINES, 6, "alice")]

    result = store.apply(ledger, actor="alice", environ={})
    assert result.changed == [LINES]
    assert load_settings(ledger=ledger, environ={}).get(LINES) == 6
    assert store.pending(ledger) == []


def test_apply_restarts_only_where_needed(ledger: Ledger) -> None:
    store.save(ledger, LINES, 6, actor="t")
    store.save(ledger, PRIORITY, 150, actor="t")
    result = store.apply(ledger, actor="t", environ={})
    assert "iaxmodemd" in result.restart  # the lines changed: the modems restart
    assert "faxqueued" in result.restart
    assert result.reload.isdisjoint(result.restart)


def test_reload_only_change_restarts_nothing(ledger: Ledger) -> None:
    store.save(ledger, PRIORITY, 150, actor="t")
    result = store.apply(ledger, actor="t", environ={})
    assert result.restart == set()
    assert result.reload == {"faxqueued"}


def test_unchanged_value_changes_nothing(ledger: Ledger) -> None:
    store.save(ledger, LINES, 4, actor="t")
    result = store.apply(ledger, actor="t", environ={})
    assert result.changed == []
    assert (result.restart, result.reload) == (set(), set())


def test_invalid_value_is_refused_with_clear_message(ledger: Ledger) -> None:
    with pytest.raises(SettingsError) as caught:
        store.save(ledger, PRIORITY, "300", actor="t")
    assert str(caught.value) == f"{PRIORITY} = '300': must be at most 255"
    with pytest.raises(SettingsError, match="one of faxmaster, user"):
        store.save(ledger, "sys.fax.configure.faxprint.notify", "boss", actor="t")
    with pytest.raises(SettingsError, match="regular expression"):
        store.save(ledger, "sys.fax.configure.faxprint.matcher.fax", "/@@(+FAX/", actor="t")
    with pytest.raises(SettingsError, match="between slashes"):
        store.save(ledger, "sys.fax.configure.faxprint.matcher.fax", "@@FAX", actor="t")
    with pytest.raises(SettingsError, match="no such settings key"):
        store.save(ledger, "sys.fax.configure.nope", "1", actor="t")
    assert store.pending(ledger) == []


def test_apply_refuses_an_inconsistent_set_and_keeps_it_pending(ledger: Ledger) -> None:
    store.save(ledger, "sys.fax.configure.trunk.mode", "register", actor="t")
    with pytest.raises(SettingsError, match=r"trunk\.server is empty"):
        store.apply(ledger, actor="t", environ={})
    assert [c.key for c in store.pending(ledger)] == ["sys.fax.configure.trunk.mode"]
    assert (
        load_settings(ledger=ledger, environ={}).get("sys.fax.configure.trunk.mode") == "loopback"
    )

    store.save(ledger, "sys.fax.configure.trunk.server", "127.0.0.1:4569", actor="t")
    store.save(ledger, "sys.fax.configure.trunk.secret", "s3cret", actor="t")
    assert "sys.fax.configure.trunk.mode" in store.apply(ledger, actor="t", environ={}).changed


def test_reset_returns_to_the_layer_below(ledger: Ledger) -> None:
    store.save(ledger, LINES, 8, actor="t")
    store.apply(ledger, actor="t", environ={})
    store.reset(ledger, LINES, actor="t")
    assert load_settings(ledger=ledger, environ={}).get(LINES) == 8  # reset is pending too
    store.apply(ledger, actor="t", environ={})
    assert load_settings(ledger=ledger, environ={}).get(LINES) == 4


def test_apply_keeps_a_snapshot_and_an_audit_trail(ledger: Ledger) -> None:
    store.save(ledger, LINES, 5, actor="bob")
    result = store.apply(ledger, actor="bob", environ={})
    snapshot = ledger.query_one(
        "SELECT * FROM settings_snapshots WHERE id = ?", (result.snapshot_id,)
    )
    assert snapshot is not None
    assert json.loads(snapshot["overrides"]) == {LINES: 5}
    actions = [row["action"] for row in ledger.query("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["settings.save", "settings.apply"]


def test_secret_values_are_not_echoed_in_errors(ledger: Ledger) -> None:
    store.save(ledger, "sys.fax.configure.trunk.secret", "hunter22", actor="t")
    rows = ledger.query("SELECT detail FROM audit_log")
    assert all("hunter22" not in row["detail"] for row in rows)


def test_oversized_regex_is_refused_not_crashing(ledger: Ledger) -> None:
    # Found by the settings fuzzer: re raises OverflowError, not re.error, for this one.
    with pytest.raises(SettingsError, match="too large"):
        store.save(ledger, "sys.fax.configure.faxmail.matcher.fax", "/{4300000000}/", actor="t")
