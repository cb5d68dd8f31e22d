"""Typesetting lines of text onto fax pages with DejaVu Sans Mono (Debian fonts-dejavu-core).

The layout is a list of `Line`s (one logical line each, with a style and indents) and
`PAGE_BREAK`s; `typeset` wraps them to the page width, breaks pages and draws them with
FreeType (Pillow) straight into ink images at the fax resolution. Drawing ourselves (rather than
writing a PDF and rasterising it) is both faster and sharper: glyphs are rasterised once, at the
fax's own pixel grid.

Body text is 10.5 pt: 83 columns between 14 mm margins on A4-long pages, 60 lines a page, a
size that survives normal (98 lpi) resolution.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.options import FAX_WIDTH_PX, FAX_X_DPI, FaxPageOptions
from faxgate.errors import ConversionError

FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
)
PAGE_LENGTH_INCHES = 11.69  # A4: the common fax page length
MARGIN_LEFT_INCHES = 0.55
MARGIN_TOP_INCHES = 0.5
LINE_SPACING = 1.22


class Style(enum.Enum):
    """Type style of a line: file name of the face and size in points."""

    BODY = ("DejaVuSansMono.ttf", 10.5)
    BOLD = ("DejaVuSansMono-Bold.ttf", 10.5)
    HEADING = ("DejaVuSansMono-Bold.ttf", 13.0)
    TITLE = ("DejaVuSansMono-Bold.ttf", 22.0)


@dataclass(frozen=True)
class Line:
    """One logical line: wrapped to the page width, continuation lines indented further."""

    text: str
    style: Style = Style.BODY
    indent: int = 0  # columns (of this style) before the first line
    hanging: int = 0  # extra columns before continuation lines


class _PageBreak:
    def __repr__(self) -> str:
        return "PAGE_BREAK"


PAGE_BREAK = _PageBreak()
LayoutItem = Line | _PageBreak


@functools.cache
def font_for(style: Style) -> ImageFont.FreeTypeFont:
    """The FreeType font of a style, sized for 204 dpi."""
    file_name, points = style.value
    for directory in FONT_DIRECTORIES:
        path = directory / file_name
        if path.exists():
            return ImageFont.truetype(str(path), size=round(points * FAX_X_DPI / 72))
    raise ConversionError(
        f"the font {file_name} is not installed (Debian package fonts-dejavu-core)"
    )


def _area_width_px() -> int:
    return FAX_WIDTH_PX - 2 * round(MARGIN_LEFT_INCHES * FAX_X_DPI)


def columns_for(style: Style) -> int:
    """How many characters of a style fit on one line."""
    advance = font_for(style).getlength("M")
    return max(10, int(_area_width_px() // advance))


def _line_height_px(style: Style) -> int:
    return round(style.value[1] * LINE_SPACING * FAX_X_DPI / 72)


def wrap(line: Line) -> list[str]:
    """The physical lines of a logical line: broken at spaces where possible, indents applied."""
    width = columns_for(line.style)
    first_indent = min(line.indent, width // 2)
    next_indent = min(line.indent + line.hanging, width // 2)
    text = line.text.rstrip()
    out: list[str] = []
    indent = first_indent
    while True:
        room = width - indent
        if len(text) <= room:
            out.append(" " * indent + text)
            return out
        cut = text.rfind(" ", 0, room + 1)
        if cut <= room // 3:  # no good space: break the word
            cut = room
            head, text = text[:cut], text[cut:]
        else:
            head, text = text[:cut], text[cut + 1 :]
        out.append(" " * indent + head.rstrip())
        text = text.lstrip(" ")
        indent = next_indent
        if not text:
            return out


@dataclass
class _PlacedLine:
    text: str
    style: Style
    top_px: int


def paginate(items: Iterable[LayoutItem]) -> list[list[_PlacedLine]]:
    """Place physical lines on pages (y positions at 204 dpi square pixels)."""
    page_height = round(PAGE_LENGTH_INCHES * FAX_X_DPI)
    top = round(MARGIN_TOP_INCHES * FAX_X_DPI)
    bottom = page_height - top
    pages: list[list[_PlacedLine]] = [[]]
    y = top
    for item in items:
        if isinstance(item, _PageBreak):
            pages.append([])
            y = top
            continue
        height = _line_height_px(item.style)
        for text in wrap(item):
            if y + height > bottom and pages[-1]:
                pages.append([])
                y = top
            pages[-1].append(_PlacedLine(text, item.style, y))
            y += height
    return pages


_CLEAN_CONTROLS = {code: None for code in range(32) if code not in (9, 10, 12)}
_CLEAN_CONTROLS[0x7F] = None


def render_page(lines: Sequence[_PlacedLine], options: FaxPageOptions) -> Image.Image:
    """Draw placed lines into an ink image at the options' resolution."""
    square_height = round(PAGE_LENGTH_INCHES * FAX_X_DPI)
    canvas = Image.new("L", (FAX_WIDTH_PX, square_height), 0)
    draw = ImageDraw.Draw(canvas)
    left = round(MARGIN_LEFT_INCHES * FAX_X_DPI)
    for line in lines:
        draw.text((left, line.top_px), line.text, fill=255, font=font_for(line.style))
    height = round(PAGE_LENGTH_INCHES * options.y_dpi)
    if height != square_height:
        canvas = canvas.resize((FAX_WIDTH_PX, height), Image.Resampling.BOX)
    # Ink is 255 on this canvas: keep a pixel as ink when it is at least 45 % covered.
    return canvas.point([255 if value >= 115 else 0 for value in range(256)], "1")


def typeset(items: Iterable[LayoutItem], options: FaxPageOptions) -> list[Image.Image]:
    """Lay out and draw a document; returns ink images (at least one page)."""
    pages = paginate(items)
    while len(pages) > 1 and not pages[-1]:
        pages.pop()  # a trailing form feed does not make an empty page
    if len(pages) > options.page_limit:
        raise ConversionLimitError(
            f"the text makes {len(pages)} pages, more than the limit of {options.page_limit}"
        )
    return [render_page(page, options) for page in pages]


def clean_text(text: str) -> str:
    """Text without control characters that would draw as boxes (tabs, newlines, FF kept)."""
    return text.translate(_CLEAN_CONTROLS)
