"""Fixtures for the iaxmodemd integration tests.

The real-time fax calls (each a minute or more of line time) run at the same time: the
session fixture `scenarios` starts, in background threads, every scenario that a selected test
is marked with (`@pytest.mark.scenario("name")`), and each test waits for its own one.
"""

from __future__ import annotations

import importlib.util
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import iaxmodemd_scenarios as scenario_module
import pytest

FIXTURES = Path(__file__).parents[2] / "fixtures" / "iaxmodemd"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario(name): needs the named real-time call scenario")


def _load_documents_builder() -> Any:
    spec = importlib.util.spec_from_file_location("iaxmodemd_documents", FIXTURES / "documents.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    built: dict[str, Path] = _load_documents_builder().build(tmp_path_factory.mktemp("docs"))
    return built


class Scenarios:
    """Real-time scenarios running in threads; `result(name)` waits for one."""

    def __init__(self, workdir: Path, documents: dict[str, Path]) -> None:
        self.workdir = workdir
        self.documents = documents
        self._threads: dict[str, threading.Thread] = {}
        self._results: dict[str, Any] = {}
        self._errors: dict[str, str] = {}

    def start(self, name: str) -> None:
        if name in self._threads:
            return
        function: Callable[[Path, dict[str, Path]], Any] = getattr(scenario_module, name)
        directory = self.workdir / name
        directory.mkdir()

        def run() -> None:
            try:
                self._results[name] = function(directory, self.documents)
            except BaseException:
                self._errors[name] = traceback.format_exc()

        thread = threading.Thread(target=run, name=name, daemon=True)
        self._threads[name] = thread
        thread.start()

    def result(self, name: str, timeout: float = 280) -> Any:
        self.start(name)
        thread = self._threads[name]
        thread.join(timeout)
        if thread.is_alive():
            pytest.fail(f"scenario {name} did not finish within {timeout} s")
        if name in self._errors:
            pytest.fail(f"scenario {name} failed:\n{self._errors[name]}")
        return self._results[name]


@pytest.fixture(scope="session")
def scenarios(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    documents: dict[str, Path],
) -> Iterator[Scenarios]:
    runner = Scenarios(tmp_path_factory.mktemp("scenarios"), documents)
    wanted = {
        marker.args[0] for item in request.session.items for marker in item.iter_markers("scenario")
    }
    for name in sorted(wanted):
        runner.start(name)
    return runner
