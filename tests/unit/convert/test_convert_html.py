"""HTML mail bodies to a structured text layout, nothing executed or fetched."""

from __future__ import annotations

from faxgate.convert.htmldoc import declared_html_charset, html_layout, table_lines
from faxgate.convert.typeset import Line, Style


def texts(html: str) -> list[str]:
    return [item.text for item in html_layout(html) if isinstance(item, Line)]


def test_headings_are_bold_and_separated() -> None:
    items = [
        item
        for item in html_layout("<h1>Title</h1><p>Body</p><h3>Small</h3>")
        if isinstance(item, Line)
    ]
    assert items[0] == Line("Title", Style.HEADING)
    assert Line("Body") in items
    assert Line("Small", Style.BOLD) in items
    assert Line("") in items  # paragraphs are separated by a blank line


def test_scripts_styles_and_head_are_dropped() -> None:
    html = "<head><title>T</title><style>p{}</style></head><script>alert(1)</script><p>Visible</p>"
    assert texts(html) == ["Visible"]


def test_links_keep_their_target_and_images_their_alt() -> None:
    html = (
        '<p>See <a href="https://example.com/x">the page</a>, mail '
        '<a href="mailto:a@example.com">us</a>, <a href="javascript:evil()">no</a>.'
        '<img src="https://tracker.example.com/p.gif" alt="logo"></p>'
    )
    (line,) = texts(html)
    assert "the page <https://example.com/x>" in line
    assert "us <a@example.com>" in line
    assert "javascript" not in line
    assert "[image: logo]" in line
    assert "tracker" not in line


def test_lists_are_indented_with_bullets_and_numbers() -> None:
    html = "<ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li></ul>"
    items = [item for item in html_layout(html) if isinstance(item, Line) and item.text]
    assert [(item.text, item.indent) for item in items] == [
        ("• one", 0),
        ("• two", 0),
        ("1. a", 3),
        ("2. b", 3),
    ]
    assert items[0].hanging == 2


def test_table_columns_are_aligned() -> None:
    lines = table_lines([["Item", "Qty"], ["Hammer", "2"], ["Screwdriver set", "1"]], {0})
    assert lines[0].index("Qty") == lines[2].index("2") == lines[3].index("1")
    assert set(lines[1].replace(" ", "")) == {"─"}


def test_wide_table_cells_wrap_within_the_page() -> None:
    long_cell = "word " * 40
    lines = table_lines([["Name", long_cell.strip()]])
    assert len(lines) > 1
    assert all(len(line) <= 84 for line in lines)


def test_br_and_pre_keep_line_breaks() -> None:
    assert texts("<p>a<br>b</p>") == ["a", "b"]
    assert texts("<pre>x  y\n  z</pre>") == ["x  y", "  z"]


def test_entities_and_whitespace() -> None:
    assert texts("<p>Fish &amp; chips\n   &euro;5</p>") == ["Fish & chips €5"]


def test_declared_charset() -> None:
    assert declared_html_charset(b'<meta charset="iso-8859-1">') == "iso-8859-1"
    assert (
        declared_html_charset(
            b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        )
        == "windows-1252"
    )
    assert declared_html_charset(b"<p>none</p>") is None


def test_paragraph_inside_list_item_keeps_its_bullet() -> None:
    lines = [line for line in texts("<ul><li><p>first</p></li><li>second</li></ul>") if line]
    assert lines == ["• first", "• second"]


def test_unclosed_head_does_not_hide_the_body() -> None:
    html = "<html><head><meta charset=utf-8><title>T</title><body><p>Body text</p>"
    assert texts(html) == ["Body text"]
