"""Fixtures shared by every tier: a fresh spool with its ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    """An initialised, empty spool in a temp directory."""
    made = Spool(tmp_path / "spool")
    made.ensure()
    return made


@pytest.fixture
def ledger(spool: Spool) -> Iterator[Ledger]:
    opened = Ledger.open(spool.ledger_path)
    yield opened
    opened.close()
