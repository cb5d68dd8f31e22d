"""The constants copied into codes.py equal those of the installed spandsp headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faxgate.faxengine.codes import (
    Compression,
    Encoding,
    ImageSize,
    Modem,
    Resolution,
    SpanLogLevel,
    T30Error,
)

HEADERS = Path("/usr/include/spandsp")
needs_headers = pytest.mark.skipif(
    not (HEADERS / "t30.h").exists(), reason="libspandsp-dev headers not installed"
)


def _enum_block(text: str, first: str, last: str) -> list[tuple[str, str | None]]:
    """(name, explicit value or None) for the enum members from `first` to `last`."""
    block = text[text.index(first) : text.index(last) + len(last)]
    block = re.sub(r"/\*.*?\*/", "", block, flags=re.S)
    return re.findall(r"(\w+)(?:\s*=\s*(\w+))?\s*,?", block)


@needs_headers
def test_completion_codes_match_t30_h() -> None:
    text = (HEADERS / "t30.h").read_text()
    members = _enum_block(text, "T30_ERR_OK = 0", "T30_ERR_CSA_UNACCEPTABLE")
    names = [name.removeprefix("T30_ERR_") for name, _ in members]
    assert names == [error.name for error in T30Error]
    assert [error.value for error in T30Error] == list(range(len(names)))


def _defines(path: Path) -> dict[str, int]:
    text = path.read_text()
    return {
        name: int(value, 0) for name, value in re.findall(r"(\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)", text)
    }


@needs_headers
@pytest.mark.parametrize(
    ("flags", "prefix", "suffix"),
    [
        (Modem, "T30_SUPPORT_", ""),
        (Compression, "T30_SUPPORT_", "_COMPRESSION"),
        (Resolution, "T30_SUPPORT_", "_RESOLUTION"),
        (ImageSize, "T30_SUPPORT_", ""),
    ],
)
def test_support_flags_match_t30_h(flags: type, prefix: str, suffix: str) -> None:
    defines = _defines(HEADERS / "t30.h")
    for member in flags:  # type: ignore[attr-defined]
        name = member.name
        if name.startswith("WIDTH_"):  # the header says 215MM_WIDTH; a Python name cannot
            name = name.removeprefix("WIDTH_") + "_WIDTH"
        assert defines[f"{prefix}{name}{suffix}"] == member.value, member


@needs_headers
def test_encodings_match_t4_rx_h() -> None:
    defines = _defines(HEADERS / "t4_rx.h")
    assert defines["T4_COMPRESSION_NONE"] == Encoding.NONE
    for encoding in list(Encoding)[1:]:
        assert defines[f"T4_COMPRESSION_ITU_{encoding.name}"] == encoding.value


@needs_headers
def test_log_levels_match_logging_h() -> None:
    defines = _defines(HEADERS / "logging.h")
    for level in SpanLogLevel:
        assert defines[f"SPAN_LOG_{level.name}"] == level.value


def test_encoding_labels_are_fax_names() -> None:
    assert (Encoding.T4_1D.label, Encoding.T4_2D.label, Encoding.T6.label) == ("MH", "MR", "MMR")
