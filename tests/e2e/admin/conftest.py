"""Browser tests of the web admin: the real appliance, Playwright with Debian's Chromium."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from admin_appliance import CHROMIUM, CHROMIUM_ARGS, Appliance, start_appliance


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    if shutil.which("supervisord", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("supervisord is not installed in this virtualenv")
    running = start_appliance(tmp_path_factory.mktemp("appliance"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/debian-packages.txt)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Any, appliance: Appliance) -> Iterator[Any]:
    """Call with no argument: a page in a fresh browser context (own cookies)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = chromium.new_context(
            base_url=appliance.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
