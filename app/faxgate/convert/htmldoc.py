"""HTML (mail bodies mostly) to a text layout that keeps the document's structure.

Parsed with the standard library's `html.parser`: nothing is executed and nothing is fetched
(scripts, styles and remote images are dropped; an image shows as its alt text). Headings become
bold lines, paragraphs blank-line separated blocks, lists indented with bullets or numbers,
tables aligned columns, and links keep their target in angle brackets after the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from faxgate.convert.typeset import LayoutItem, Line, Style, clean_text, columns_for

# Elements whose content is never text. (Not "head": sloppy mail HTML often never closes it,
# and what it holds besides these is markup without text.)
_SKIPPED = {"script", "style", "title", "noscript", "template", "iframe", "object", "svg"}
_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "address",
    "blockquote", "figure", "figcaption", "dl", "dt", "dd", "form", "fieldset", "center",
}  # fmt: skip
_SPACED_BLOCKS = {"p", "blockquote", "figure", "dl"}
_HEADINGS = {"h1": Style.HEADING, "h2": Style.HEADING}
_LINK_SCHEMES = ("http://", "https://", "mailto:", "ftp://", "tel:")
_WHITESPACE = re.compile(r"\s+")
BULLET = "•"
# <br> inside a block: a private-use character, because source newlines are only whitespace.
_LINE_BREAK = "\ue000"


@dataclass
class _Table:
    rows: list[list[str]] = field(default_factory=list)
    header_rows: set[int] = field(default_factory=set)
    cell: list[str] | None = None


@dataclass
class _List:
    ordered: bool
    counter: int = 0


class _LayoutParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[LayoutItem] = []
        self.inline: list[str] = []
        self.style = Style.BODY
        self.indent = 0
        self.hanging = 0
        self.skip_depth = 0
        self.pre_depth = 0
        self.lists: list[_List] = []
        self.tables: list[_Table] = []
        self.links: list[str | None] = []
        self.quote_depth = 0
        self.pending_marker: str | None = None  # a list bullet still waiting for its text

    # --- text flow -------------------------------------------------------------------------
    def _text(self, text: str) -> None:
        if self.tables and self.tables[-1].cell is not None:
            self.tables[-1].cell.append(text)
        elif not self.tables:
            self.inline.append(text)

    def flush(self, blank_after: bool = False) -> None:
        """End the current block: emit its text as one or more logical lines."""
        raw = "".join(self.inline)
        if self.pending_marker is not None and raw.strip() == self.pending_marker.strip():
            return  # <li><p>text: the bullet stays for the paragraph's first line
        self.pending_marker = None
        self.inline = []
        base = self.quote_depth * 2 + self._list_indent()
        if self.pre_depth:
            for text in raw.replace(_LINE_BREAK, "\n").split("\n"):
                self.items.append(Line(clean_text(text).expandtabs(8), Style.BODY, base))
        else:
            for part in raw.split(_LINE_BREAK):
                text = _WHITESPACE.sub(" ", part).strip()
                if text:
                    self.items.append(Line(text, self.style, base + self.indent, self.hanging))
                    self.indent, self.hanging = 0, 0  # only the first line carries a bullet
        if blank_after:
            self.blank()

    def blank(self) -> None:
        if self.items and not (isinstance(self.items[-1], Line) and self.items[-1].text == ""):
            self.items.append(Line(""))

    def _list_indent(self) -> int:
        return max(0, len(self.lists) - 1) * 3

    # --- tags ------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in _SKIPPED:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag in ("table",):
            if not self.tables:
                self.flush()
            self.tables.append(_Table())
        elif tag == "tr" and self.tables:
            self.tables[-1].rows.append([])
        elif tag in ("td", "th") and self.tables:
            table = self.tables[-1]
            if not table.rows:
                table.rows.append([])
            if tag == "th":
                table.header_rows.add(len(table.rows) - 1)
            table.cell = []
        elif tag in _HEADINGS or tag in ("h3", "h4", "h5", "h6"):
            self.flush()
            self.blank()
            self.style = _HEADINGS.get(tag, Style.BOLD)
        elif tag in ("ul", "ol", "menu"):
            self.flush()
            self.lists.append(_List(ordered=tag == "ol"))
        elif tag == "li":
            self.flush()
            marker = BULLET
            if self.lists and self.lists[-1].ordered:
                self.lists[-1].counter += 1
                marker = f"{self.lists[-1].counter}."
            self.inline.append(f"{marker} ")
            self.pending_marker = f"{marker} "
            self.hanging = len(marker) + 1
        elif tag == "pre":
            self.flush()
            self.pre_depth += 1
        elif tag == "blockquote":
            self.flush(blank_after=True)
            self.quote_depth += 1
        elif tag in _BLOCKS:
            self.flush(blank_after=tag in _SPACED_BLOCKS)
        elif tag == "br":
            self._text(_LINE_BREAK)
        elif tag == "hr":
            self.flush()
            self.items.append(Line("─" * columns_for(Style.BODY)))
        elif tag == "a":
            self.links.append(attributes.get("href"))
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt:
                self._text(f"[image: {alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag in ("td", "th") and self.tables and self.tables[-1].cell is not None:
            table = self.tables[-1]
            text = _WHITESPACE.sub(" ", "".join(table.cell or [])).strip()
            table.rows[-1].append(text)
            table.cell = None
        elif tag == "table" and self.tables:
            table = self.tables.pop()
            lines = table_lines(table.rows, table.header_rows)
            if self.tables and self.tables[-1].cell is not None:
                self.tables[-1].cell.append(" ".join(lines))  # nested table: flattened
            else:
                base = self.quote_depth * 2 + self._list_indent()
                self.items.extend(Line(text, Style.BODY, base) for text in lines)
                self.blank()
        elif tag in _HEADINGS or tag in ("h3", "h4", "h5", "h6"):
            self.flush(blank_after=True)
            self.style = Style.BODY
        elif tag in ("ul", "ol", "menu"):
            self.flush()
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self.blank()
        elif tag == "li":
            self.flush()
        elif tag == "pre":
            self.flush(blank_after=True)
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag == "blockquote":
            self.flush(blank_after=True)
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag in _BLOCKS:
            self.flush(blank_after=tag in _SPACED_BLOCKS)
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href.strip().lower().startswith(_LINK_SCHEMES):
                target = href.strip().removeprefix("mailto:")
                self._text(f" <{target}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr", "img"):
            self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        self._text(data)


def table_lines(rows: list[list[str]], header_rows: set[int] | None = None) -> list[str]:
    """Rows of cell texts as aligned text lines; cells wrap when the table is too wide."""
    rows = [row for row in rows if any(cell for cell in row)]
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    rows = [row + [""] * (columns - len(row)) for row in rows]
    widths = [max(len(row[index]) for row in rows) for index in range(columns)]
    gap = 2
    room = columns_for(Style.BODY) - gap * (columns - 1)
    while sum(widths) > room and max(widths) > 4:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    out: list[str] = []
    for number, row in enumerate(rows):
        wrapped = [_wrap_cell(cell, width) for cell, width in zip(row, widths, strict=True)]
        height = max(len(cell) for cell in wrapped)
        for line_index in range(height):
            parts = [
                (cell[line_index] if line_index < len(cell) else "").ljust(width)
                for cell, width in zip(wrapped, widths, strict=True)
            ]
            out.append((" " * gap).join(parts).rstrip())
        if header_rows and number in header_rows and number + 1 < len(rows):
            out.append((" " * gap).join("─" * width for width in widths))
    return out


def _wrap_cell(text: str, width: int) -> list[str]:
    if width <= 0:
        return [""]
    lines: list[str] = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width + 1)
        if cut <= 0:
            cut = width
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    lines.append(text)
    return lines


def html_layout(html: str) -> list[LayoutItem]:
    """The text layout of an HTML document (see the module description)."""
    parser = _LayoutParser()
    parser.feed(html)
    parser.close()
    parser.flush()
    items = parser.items
    while items and isinstance(items[-1], Line) and items[-1].text == "":
        items.pop()
    while items and isinstance(items[0], Line) and items[0].text == "":
        items.pop(0)
    return items or [Line("")]


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def declared_html_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a <meta> tag, if any."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None
