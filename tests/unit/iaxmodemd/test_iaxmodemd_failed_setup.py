"""A call that cannot be set up leaves its line free (review finding: it stayed busy forever)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from faxgate.iaxmodemd.config import lines_config
from faxgate.iaxmodemd.faxcall import CallParams, Direction
from faxgate.iaxmodemd.line import CallNotPlaced, Line
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool


class DaemonOutOfFiles:
    """Just enough daemon for a line whose session log cannot be opened."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.states: list[str] = []

    def open_session_log(self, line: str) -> object:
        raise OSError(24, "Too many open files")

    def set_status(self, line: str, state: object, detail: str, job: int | None = None) -> None:
        self.states.append(detail)

    def publish(self, event: object) -> None:
        pass


def test_a_dial_that_cannot_start_frees_the_line(spool: Spool, tmp_path: Path) -> None:
    daemon = DaemonOutOfFiles(spool)

    async def run() -> Line:
        line = Line("1", lines_config(load_settings(spool, environ={})), daemon)  # type: ignore[arg-type]
        params = CallParams(Direction.OUT, "1", "100", "", 7, tmp_path / "d.tif", "", None, True)
        with pytest.raises(CallNotPlaced, match="Too many open files"):
            line.dial(params, ("127.0.0.1", 4571))
        return line

    line = asyncio.run(run())
    assert line.free
    assert line.call is None
    assert daemon.states[-1] == "idle"
