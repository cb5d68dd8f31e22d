"""Fax documents for the fax-engine tests, built once per session from tests/fixtures/faxengine."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BUILDER = Path(__file__).parents[2] / "fixtures" / "faxengine" / "build_pages.py"


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("faxengine_build_pages", BUILDER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> TIFF path (see build_pages.build_documents)."""
    documents: dict[str, Path] = _load_builder().build_documents(
        tmp_path_factory.mktemp("fax-documents")
    )
    return documents
