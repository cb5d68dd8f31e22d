"""Converter lookup: MIME type parsing, unknown types, non-executable converters."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.convert.errors import UnsupportedTypeError
from faxgate.convert.runner import MimeType, find_converter
from faxgate.errors import ConversionError


def test_parse_with_parameters() -> None:
    parsed = MimeType.parse('Text/Plain; Charset="ISO-8859-1"; format=flowed')
    assert parsed.essence == "text/plain"
    assert parsed.parameters == {"charset": "ISO-8859-1", "format": "flowed"}


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "text/../../x", "text", "", "a/b/c", "text/.hidden"]
)
def test_malformed_types_are_unsupported(bad: str) -> None:
    with pytest.raises(UnsupportedTypeError):
        MimeType.parse(bad)


def test_missing_converter_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedTypeError) as raised:
        find_converter(tmp_path, "image/gif")
    assert str(raised.value) == "skipped: no converter for image/gif"
    assert raised.value.mime_type == "image/gif"


def test_converter_must_be_executable(tmp_path: Path) -> None:
    (tmp_path / "text").mkdir()
    script = tmp_path / "text" / "plain"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(ConversionError, match="not executable"):
        find_converter(tmp_path, "text/plain")
    script.chmod(0o755)
    assert find_converter(tmp_path, "TEXT/PLAIN; charset=utf-8") == script
