"""Fixtures of the ippfaxd integration tests (helpers live in ippfaxd_helpers.py: tests import
from there, never from `conftest`, which is not a unique module name in this repository)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ippfaxd_helpers import Printer, start_printer, stop_printer


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[Printer]:
    started = start_printer(tmp_path)
    yield started
    stop_printer(started.process)


@pytest.fixture(scope="module")
def module_printer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Printer]:
    started = start_printer(tmp_path_factory.mktemp("ippfaxd"))
    yield started
    stop_printer(started.process)
