"""`faxctl --url` administering a remote appliance through the real faxadmin on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from faxadmin_server import Running

from faxgate import users
from faxgate.faxadmin.security import TokenStore
from faxgate.spool.ledger import Ledger


def token(running: Running, name: str) -> str:
    with Ledger.open(running.spool.ledger_path) as ledger:
        return TokenStore(ledger).create(users.get(ledger, name), "faxctl", "test", time.time())


def remote(running: Running, token_value: str, *args: str) -> subprocess.CompletedProcess[str]:
    # No FAXGATE_SPOOL: with --url faxctl must not need the local spool at all.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
    env["FAXGATE_TOKEN"] = token_value
    return subprocess.run(
        [sys.executable, "-m", "faxgate", "faxctl", "--url", running.server.base, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_admin_manages_devices_and_settings_remotely(running_admin: Running) -> None:
    admin = token(running_admin, "admin")
    added = remote(running_admin, admin, "devices", "add", "100", "--email", "a@example.com")
    assert added.returncode == 0, added.stderr
    listed = json.loads(remote(running_admin, admin, "devices", "list").stdout)
    assert [d["extension"] for d in listed["devices"]] == ["100"]
    saved = remote(running_admin, admin, "settings", "set", "sys.fax.configure.retention.days", "9")
    assert saved.returncode == 0, saved.stderr
    assert remote(running_admin, admin, "apply").returncode == 0
    with Ledger.open(running_admin.spool.ledger_path) as ledger:
        row = ledger.query_one(
            "SELECT value FROM settings_applied WHERE key = 'sys.fax.configure.retention.days'"
        )
    assert row is not None
    assert json.loads(row["value"]) == 9


def test_user_sends_a_fax_remotely(running_admin: Running, tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text("Hello\n")
    sent = remote(
        running_admin,
        token(running_admin, "alice"),
        "send",
        "--no-wait",
        "--to",
        "0301234",
        "--tag",
        "remote",
        str(letter),
    )
    assert sent.returncode == 0, sent.stderr
    submission = json.loads(sent.stdout)["submission"]
    with Ledger.open(running_admin.spool.ledger_path) as ledger:
        row = ledger.query_one("SELECT owner, params FROM submissions WHERE id = ?", (submission,))
    assert row is not None
    assert row["owner"] == "alice"
    assert json.loads(row["params"])["tag"] == "remote"


def test_refusals_are_clear(running_admin: Running) -> None:
    alice = token(running_admin, "alice")
    forbidden = remote(running_admin, alice, "devices", "list")
    assert forbidden.returncode == 1
    assert "403" in forbidden.stderr
    local_only = remote(running_admin, alice, "users", "list")
    assert local_only.returncode == 1
    assert "local spool only" in local_only.stderr
    no_token = remote(running_admin, "", "jobs")
    assert no_token.returncode == 1
    assert "needs an API token" in no_token.stderr
