"""Fixtures of the web worker tests (helpers live in web_server.py: tests import from there,
never from `conftest`, which is not a unique module name in this repository)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_server import Gunicorn, RawClient, start_gunicorn


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """gunicorn with QuickWorker: 1 worker × 2 threads, 2 s for a head, 4 heads per address."""
    started = start_gunicorn(tmp_path_factory.mktemp("web") / "gunicorn.log")
    yield started
    started.stop()


@pytest.fixture
def clients() -> Iterator[list[RawClient]]:
    """Connections closed at the end of the test, whatever happened."""
    made: list[RawClient] = []
    yield made
    for client in made:
        client.close()
