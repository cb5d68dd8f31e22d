"""Plain text: charsets, tabs, form feeds, wrapping and pagination."""

from __future__ import annotations

import pytest

from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.options import FaxPageOptions, Resolution
from faxgate.convert.textdoc import decode_text, text_layout
from faxgate.convert.typeset import PAGE_BREAK, Line, Style, columns_for, paginate, typeset, wrap


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("Grüße €".encode(), "utf-8", "Grüße €"),
        ("Grüße".encode("iso-8859-1"), "ISO-8859-1", "Grüße"),
        ("Preis 10 €".encode("iso-8859-15"), "iso-8859-15", "Preis 10 €"),
        ("„Angebot“ – 5 €".encode("windows-1252"), "windows-1252", "„Angebot“ – 5 €"),
        # Labelled Latin-1 but written by Windows: the euro sign is 0x80 (WHATWG behaviour).
        ("10 €".encode("windows-1252"), "iso-8859-1", "10 €"),
        ("Grüße".encode(), None, "Grüße"),
        ("Grüße".encode("iso-8859-1"), None, "Grüße"),
        ("\ufeffBOM text".encode(), None, "BOM text"),
        ("Привет".encode("koi8-r"), "koi8-r", "Привет"),
    ],
)
def test_decode_text(data: bytes, charset: str | None, expected: str) -> None:
    text, warnings = decode_text(data, charset)
    assert text == expected
    assert warnings == []


def test_unknown_charset_warns_and_falls_back() -> None:
    text, warnings = decode_text(b"plain", "x-unknown-charset")
    assert text == "plain"
    assert "unknown charset" in warnings[0]


def test_invalid_bytes_for_declared_charset_warn() -> None:
    text, warnings = decode_text(b"caf\xc3", "utf-8")
    assert text.startswith("caf")
    assert warnings


def test_layout_of_tabs_and_form_feeds() -> None:
    items = text_layout("a\tb\r\nsecond\f\nthird\n")
    assert items == [Line("a       b"), Line("second"), PAGE_BREAK, Line("third")]


def test_control_characters_are_dropped() -> None:
    assert text_layout("bell\x07 and\x00 nul") == [Line("bell and nul")]


def test_wrap_breaks_at_spaces_and_keeps_indents() -> None:
    width = columns_for(Style.BODY)
    assert width >= 80  # 80-column mail text fits on a line
    words = "word " * 60
    lines = wrap(Line(words, Style.BODY, indent=2, hanging=2))
    assert len(lines) > 1
    assert all(len(line) <= width for line in lines)
    assert lines[0].startswith("  word")
    assert lines[1].startswith("    word")
    assert " ".join(line.strip() for line in lines) == words.strip()


def test_wrap_breaks_an_unbreakable_word() -> None:
    width = columns_for(Style.BODY)
    lines = wrap(Line("x" * (width * 2 + 5)))
    assert [len(line) for line in lines] == [width, width, 5]


def test_pagination_and_explicit_breaks() -> None:
    pages = paginate([Line(f"line {n}") for n in range(130)])
    assert len(pages) == 3
    assert sum(len(page) for page in pages) == 130
    assert len(paginate([Line("a"), PAGE_BREAK, Line("b")])) == 2


def test_typeset_draws_pages_of_fax_size() -> None:
    fine = typeset([Line("Hello fax")], FaxPageOptions())
    normal = typeset([Line("Hello fax")], FaxPageOptions(resolution=Resolution.NORMAL))
    assert fine[0].size == (1728, round(11.69 * 196))
    assert normal[0].size == (1728, round(11.69 * 98))
    box = fine[0].getbbox()
    assert box is not None
    assert box[0] >= 100  # left margin kept


def test_trailing_form_feed_makes_no_empty_page() -> None:
    assert len(typeset(text_layout("one\f"), FaxPageOptions())) == 1


def test_page_limit() -> None:
    with pytest.raises(ConversionLimitError, match="limit of 2"):
        typeset(
            [Line("x"), PAGE_BREAK, Line("y"), PAGE_BREAK, Line("z")], FaxPageOptions(page_limit=2)
        )
