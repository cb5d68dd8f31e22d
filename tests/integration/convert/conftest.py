"""Fixtures of the conversion integration tests: a spool `mimetype/` seeded from rootfs/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHIPPED_CONVERTERS = REPO / "rootfs" / "usr" / "lib" / "faxgate" / "mimetype"
DOCUMENTS = REPO / "tests" / "fixtures" / "documents"


@pytest.fixture
def mimetype_dir(tmp_path: Path) -> Path:
    """A spool's mimetype/ directory as the foundation seeds it at first start."""
    target = tmp_path / "spool" / "mimetype"
    shutil.copytree(SHIPPED_CONVERTERS, target)
    return target


@pytest.fixture
def documents() -> Path:
    """The fixture corpus (tests/fixtures/documents, made by its generate.py)."""
    return DOCUMENTS
