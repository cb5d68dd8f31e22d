"""faxgate.faxadmin.client (what `faxctl --url` uses) against the real faxadmin on loopback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from faxadmin_server import Running

from faxgate import users
from faxgate.faxadmin.client import ApiClient, ApiError
from faxgate.faxadmin.security import TokenStore
from faxgate.spool.ledger import Ledger


def token(running: Running, name: str) -> str:
    with Ledger.open(running.spool.ledger_path) as ledger:
        return TokenStore(ledger).create(users.get(ledger, name), "client", "test", time.time())


def test_submit_and_follow_a_fax(running_admin: Running, tmp_path: Path) -> None:
    client = ApiClient(running_admin.server.base, token(running_admin, "alice"))
    letter = tmp_path / "letter.txt"
    letter.write_text("Hello\n")
    answer = client.submit(["100", "0301234"], [letter], cover="Cover", priority=20, tag="t1")
    state = client.submission(answer["submission"])
    assert state["state"] == "new"
    with Ledger.open(running_admin.spool.ledger_path) as ledger:
        row = ledger.query_one("SELECT owner, params FROM submissions")
    assert row is not None
    assert row["owner"] == "alice"
    params = json.loads(row["params"])
    assert (params["numbers"], params["priority"], params["tag"]) == (["100", "0301234"], 20, "t1")
    assert client.list_jobs() == {"jobs": [], "next": None}


def test_admin_operations_and_refusals(running_admin: Running) -> None:
    admin = ApiClient(running_admin.server.base, token(running_admin, "admin"))
    assert admin.add_device("100", ["a@example.com"])["extension"] == "100"
    assert [d["extension"] for d in admin.devices()["devices"]] == ["100"]
    assert admin.set_setting("sys.fax.configure.retention.days", 9)["pending"] is True
    assert "Applied 1 change(s)" in admin.apply()["result"]
    days = [s for s in admin.settings("retention.days")["settings"]]
    assert days[0]["value"] == 9
    admin.remove_device("100")
    with pytest.raises(ApiError) as missing:
        admin.remove_device("100")
    assert missing.value.status == 404
    alice = ApiClient(running_admin.server.base, token(running_admin, "alice"))
    with pytest.raises(ApiError) as refused:
        alice.devices()
    assert refused.value.status == 403
    with pytest.raises(ApiError) as bad:
        ApiClient(running_admin.server.base, "fgt_wrong").lines()
    assert bad.value.status == 401
    with pytest.raises(ApiError, match="cannot be reached"):
        ApiClient("http://127.0.0.1:9", "x", timeout=2).lines()
