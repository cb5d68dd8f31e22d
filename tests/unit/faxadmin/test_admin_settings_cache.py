"""gunicorn runs several faxadmin workers, each with its own settings cache: an apply made
through one worker must be what every other worker shows next, not after the cache expires."""

from __future__ import annotations

import shutil
from pathlib import Path

from faxgate.faxadmin.context import AdminConfig, AdminState
from faxgate.settings import store
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

DAYS = "sys.fax.configure.retention.days"


def test_an_apply_in_one_worker_is_seen_by_another_at_once(
    tmp_path: Path, template_ledger: Path
) -> None:
    spool = Spool(tmp_path / "spool")
    spool.ensure()
    shutil.copyfile(template_ledger, spool.ledger_path)
    first, second = (AdminState(AdminConfig(spool=spool, environ={})) for _ in range(2))
    default = second.settings().get(DAYS)
    assert first.settings().get(DAYS) == default

    with Ledger.open(spool.ledger_path) as ledger:
        store.save(ledger, DAYS, default + 9, actor="admin")
        store.apply(ledger, actor="admin", environ={})

    assert second.settings().get(DAYS) == default + 9
    assert first.settings().get(DAYS) == default + 9


def test_generation_counts_applies(tmp_path: Path, template_ledger: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    shutil.copyfile(template_ledger, path)
    with Ledger.open(path) as ledger:
        before = store.generation(ledger)
        store.save(ledger, DAYS, 11, actor="admin")
        store.apply(ledger, actor="admin", environ={})
        assert store.generation(ledger) == before + 1
