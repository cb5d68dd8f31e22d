"""faxctl as an administrator uses it: a real subprocess on a real spool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def faxctl(spool: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
    env["FAXGATE_SPOOL"] = str(spool)
    return subprocess.run(
        [sys.executable, "-m", "faxgate", "faxctl", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def spool_root(tmp_path: Path) -> Path:
    root = tmp_path / "spool"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
    env["FAXGATE_SPOOL"] = str(root)
    done = subprocess.run(
        [sys.executable, "-m", "faxgate", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "created user 'admin' with password" in done.stdout
    return root


def test_devices_add_list_remove(spool_root: Path) -> None:
    added = faxctl(
        spool_root,
        "devices",
        "add",
        "100",
        "--email",
        "a@example.com",
        "--email",
        "b@example.com",
        "--format",
        "inlinegif",
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(faxctl(spool_root, "--json", "devices", "list").stdout)
    assert [(d["extension"], d["emails"], d["format"], d["kind"]) for d in listed] == [
        ("100", ["a@example.com", "b@example.com"], "inlinegif", "group")
    ]
    again = faxctl(spool_root, "devices", "add", "100", "--email", "c@example.com")
    assert again.returncode == 1
    assert "extension 100 has a fax device already" in again.stderr
    assert faxctl(spool_root, "devices", "remove", "100").returncode == 0
    assert json.loads(faxctl(spool_root, "--json", "devices", "list").stdout) == []


def test_settings_set_is_pending_until_apply(spool_root: Path) -> None:
    key = "sys.fax.configure.retention.days"
    assert faxctl(spool_root, "settings", "set", key, "14").returncode == 0
    assert faxctl(spool_root, "settings", "get", key).stdout.strip() == "30"
    pending = json.loads(faxctl(spool_root, "--json", "settings", "pending").stdout)
    assert [(p["key"], p["value"]) for p in pending] == [(key, 14)]
    applied = faxctl(spool_root, "--json", "apply")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["changed"] == [key]
    got = json.loads(faxctl(spool_root, "--json", "settings", "get", key).stdout)
    assert (got["value"], got["source"], got["default"]) == ("14", "stored", "30")


def test_bad_value_is_refused_with_its_reason(spool_root: Path) -> None:
    result = faxctl(spool_root, "settings", "set", "sys.fax.configure.faxmail.mode", "2")
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "faxctl: sys.fax.configure.faxmail.mode = '2': must be at most 1"
    )


def test_users_add_with_password_from_stdin(spool_root: Path) -> None:
    made = faxctl(
        spool_root, "users", "add", "carol", "--password-stdin", stdin="a good password\n"
    )
    assert made.returncode == 0, made.stderr
    names = {
        u["name"]: u["role"]
        for u in json.loads(faxctl(spool_root, "--json", "users", "list").stdout)
    }
    assert names == {"admin": "admin", "carol": "user"}


def test_status_says_when_the_appliance_is_not_running(spool_root: Path) -> None:
    result = faxctl(spool_root, "--json", "status")
    assert result.returncode == 3
    assert json.loads(result.stdout)["running"] is False


def test_missing_spool_is_explained(tmp_path: Path) -> None:
    result = faxctl(tmp_path / "nowhere", "devices", "list")
    assert result.returncode == 1
    assert "no appliance spool" in result.stderr
