"""Fixtures of the fault tests: an initialised appliance spool whose programs stop at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from faults_appliance import Appliance


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    made = Appliance(tmp_path)
    yield made
    made.close()


@pytest.fixture(scope="module")
def module_appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    made = Appliance(tmp_path_factory.mktemp("appliance"))
    yield made
    made.close()
