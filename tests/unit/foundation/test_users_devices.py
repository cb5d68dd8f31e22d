"""Users (Argon2id, first admin) and fax devices."""

from __future__ import annotations

import pytest

from faxgate import devices, users
from faxgate.errors import NotFoundError
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


def test_password_is_hashed_with_argon2id_and_verified(ledger: Ledger) -> None:
    users.create(ledger, "alice", "correct horse", "user", actor="t")
    stored = ledger.query_one("SELECT password_hash FROM users WHERE name = 'alice'")
    assert stored is not None
    assert stored[0].startswith("$argon2id$")
    assert "correct horse" not in stored[0]
    user = users.authenticate(ledger, "alice", "correct horse")
    assert user is not None
    assert user.role == "user"
    assert users.authenticate(ledger, "alice", "wrong horse") is None
    assert users.authenticate(ledger, "nobody", "correct horse") is None


def test_short_password_and_bad_name_refused(ledger: Ledger) -> None:
    with pytest.raises(users.UserError, match="at least 8"):
        users.create(ledger, "bob", "short", "user", actor="t")
    with pytest.raises(users.UserError, match="not a usable user name"):
        users.create(ledger, "../etc", "long enough", "user", actor="t")


def test_last_admin_cannot_be_removed(ledger: Ledger) -> None:
    users.create(ledger, "root1", "long enough", "admin", actor="t")
    with pytest.raises(users.UserError, match="last administrator"):
        users.remove(ledger, "root1", actor="t")
    users.create(ledger, "root2", "long enough", "admin", actor="t")
    users.remove(ledger, "root1", actor="t")
    assert [u.name for u in users.list_all(ledger)] == ["root2"]


def test_first_admin_from_environment(spool: Spool, ledger: Ledger) -> None:
    assert (
        users.ensure_first_admin(spool, ledger, {"FAXGATE_ADMIN_PASSWORD": "given-secret"}) is None
    )
    assert users.authenticate(ledger, "admin", "given-secret") is not None
    assert not users.admin_password_path(spool).exists()
    assert users.ensure_first_admin(spool, ledger, {}) is None  # only once


def test_first_admin_generated_into_private_file(spool: Spool, ledger: Ledger) -> None:
    password = users.ensure_first_admin(spool, ledger, {})
    assert password
    path = users.admin_password_path(spool)
    assert path.read_text().strip() == password
    assert path.stat().st_mode & 0o777 == 0o600
    assert users.authenticate(ledger, "admin", password) is not None


def test_device_with_several_addresses(ledger: Ledger) -> None:
    device = devices.add(
        ledger, "100", ["a@example.com", "b@example.com"], actor="t", fmt="inlinegif"
    )
    assert (device.kind, device.format, device.emails) == (
        "group",
        "inlinegif",
        ["a@example.com", "b@example.com"],
    )
    assert devices.add(ledger, "101", ["c@example.com"], actor="t").format == "pdf"
    assert [d.extension for d in devices.list_all(ledger)] == ["100", "101"]
    devices.remove(ledger, "100", actor="t")
    assert devices.find(ledger, "100") is None
    assert ledger.query("SELECT * FROM fax_device_emails WHERE email LIKE 'a@%'") == []


def test_device_errors_are_clear(ledger: Ledger) -> None:
    devices.add(ledger, "100", ["a@example.com"], actor="t")
    with pytest.raises(devices.DeviceError, match="has a fax device already"):
        devices.add(ledger, "100", ["x@example.com"], actor="t")
    with pytest.raises(devices.DeviceError, match="digits only"):
        devices.add(ledger, "10a", ["x@example.com"], actor="t")
    with pytest.raises(devices.DeviceError, match="not an e-mail address"):
        devices.add(ledger, "102", ["nobody"], actor="t")
    with pytest.raises(devices.DeviceError, match="one of pdf, tif, inlinegif"):
        devices.add(ledger, "103", ["x@example.com"], actor="t", fmt="png")
    with pytest.raises(NotFoundError):
        devices.remove(ledger, "999", actor="t")
