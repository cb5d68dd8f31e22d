"""Plain text documents: charset decoding and the layout of lines, tabs and form feeds."""

from __future__ import annotations

import codecs
from pathlib import Path

from faxgate.convert.typeset import PAGE_BREAK, LayoutItem, Line, clean_text

TAB_WIDTH = 8
#: Charsets that are declared but really mean "some 8-bit Western text": decode as Windows-1252,
#: the superset actual mail clients send under these labels (WHATWG Encoding does the same).
_WINDOWS_1252_ALIASES = {"us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "iso8859-1"}


def decode_text(data: bytes, charset: str | None = None) -> tuple[str, list[str]]:
    """Decode text bytes by the declared charset (or by BOM / UTF-8 / Windows-1252).

    Returns the text and warnings for the notification (undecodable bytes, unknown charset).
    """
    warnings: list[str] = []
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace").lstrip("\ufeff"), warnings
    if data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace").lstrip("\ufeff"), warnings
    if charset:
        name = charset.strip().strip('"').lower()
        if name in _WINDOWS_1252_ALIASES and not _is_ascii(data):
            name = "windows-1252"
        try:
            codecs.lookup(name)
        except LookupError:
            warnings.append(f"unknown charset {charset!r}: the text was read as UTF-8")
        else:
            if name in ("windows-1252", "cp1252"):
                return _decode_1252_leniently(data), warnings
            text = data.decode(name, errors="replace")
            if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
                warnings.append(f"some characters are not valid {charset}: shown as �")
            return text, warnings
    try:
        return data.decode("utf-8"), warnings
    except UnicodeDecodeError:
        return _decode_1252_leniently(data), warnings


def _is_ascii(data: bytes) -> bool:
    return all(byte < 0x80 for byte in data)


def _windows_1252_table() -> dict[int, str]:
    table = {}
    for value in range(0x80, 0xA0):
        try:
            table[value] = bytes([value]).decode("windows-1252")
        except UnicodeDecodeError:
            continue  # five values are undefined: they stay their Latin-1 characters
    return table


_WINDOWS_1252_UPPER = _windows_1252_table()


def _decode_1252_leniently(data: bytes) -> str:
    return data.decode("latin-1").translate(_WINDOWS_1252_UPPER)


def text_layout(text: str) -> list[LayoutItem]:
    """Lines of plain text: newlines of any convention, tabs every 8 columns, FF = new page."""
    items: list[LayoutItem] = []
    text = clean_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    for page_number, page in enumerate(text.split("\f")):
        if page_number:
            items.append(PAGE_BREAK)
        lines = page.split("\n")
        if page_number and lines and lines[0] == "":
            lines = lines[1:]  # "\f\n" is how most programs write a page break
        if lines and lines[-1] == "":
            lines = lines[:-1]
        items.extend(Line(line.expandtabs(TAB_WIDTH)) for line in lines)
    return items


def read_text_file(path: Path, charset: str | None) -> tuple[list[LayoutItem], list[str]]:
    """The layout of a text file and the warnings decoding it gave."""
    text, warnings = decode_text(path.read_bytes(), charset)
    return text_layout(text), warnings
