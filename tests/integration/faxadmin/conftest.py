"""Fixtures of the faxadmin integration tests: a real gunicorn faxadmin on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from faxadmin_server import PASSWORD, Running, start_faxadmin

from faxgate import users
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


@pytest.fixture
def running_admin(tmp_path: Path) -> Iterator[Running]:
    spool = Spool(tmp_path / "spool")
    spool.ensure()
    with Ledger.open(spool.ledger_path) as ledger:
        users.create(ledger, "admin", PASSWORD, "admin", "test")
        users.create(ledger, "alice", PASSWORD, "user", "test", email="alice@example.com")
    server = start_faxadmin(spool, tmp_path / "faxadmin.log")
    yield Running(server, spool)
    server.stop()
