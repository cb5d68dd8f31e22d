"""Fixtures of the smtpfaxd integration tests: real daemons, stopped at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from smtpfaxd_daemon import Daemon, start_smtpfaxd

from faxgate.spool.layout import Spool


@pytest.fixture
def smtpfaxd_factory(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Call with (spool, **settings); every daemon started is stopped at the end."""
    started: list[Daemon] = []

    def make(spool: Spool, **settings: str) -> Daemon:
        daemon = start_smtpfaxd(spool, tmp_path / f"smtpfaxd-{len(started)}.log", **settings)
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        daemon.stop()
