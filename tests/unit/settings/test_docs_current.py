"""docs/configuration.md is generated from the registry and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from faxgate.settings import registry
from faxgate.settings.docgen import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_configuration_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run `make docs` to regenerate it"


def test_every_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [key.name for key in registry().keys() if f"`{key.name}`" not in text]
    assert missing == []
