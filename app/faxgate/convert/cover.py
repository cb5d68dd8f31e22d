"""The first page of a mailed fax: who, to whom, when, the subject, and the mail body.

As the vendor documentation has it for faxmail mode 0, "subject and body are converted and used
as the first page of the fax". The body may be plain text or HTML (rendered like an HTML part);
a long body continues on further pages. Built in-process: its input is text we parse ourselves,
never a document for an external interpreter.
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from faxgate.convert.g4 import encode_images
from faxgate.convert.htmldoc import html_layout
from faxgate.convert.options import FaxPageOptions
from faxgate.convert.runner import ConvertedDocument
from faxgate.convert.textdoc import text_layout
from faxgate.convert.tiffio import write_fax_tiff
from faxgate.convert.typeset import LayoutItem, Line, Style, columns_for, typeset

LABEL_WIDTH = 11


def cover_layout(
    subject: str,
    sender: str,
    recipient_name: str,
    number: str,
    date: datetime.datetime | str,
    body_text: str | None = None,
    body_html: str | None = None,
) -> list[LayoutItem]:
    """The layout of the cover page (and of the body's continuation pages)."""
    when = (
        date.strftime("%Y-%m-%d %H:%M %Z").strip() if isinstance(date, datetime.datetime) else date
    )
    rule = "─" * columns_for(Style.BODY)
    fields = [("To", recipient_name), ("Fax", number), ("From", sender), ("Date", when)]
    items: list[LayoutItem] = [Line("FAX", Style.TITLE), Line("")]
    items += [
        Line(
            f"{label + ':':<{LABEL_WIDTH}}{value}",
            Style.BOLD if label == "To" else Style.BODY,
            0,
            LABEL_WIDTH,
        )
        for label, value in fields
        if value
    ]
    items += [Line(rule), Line(subject or "(no subject)", Style.HEADING), Line(rule), Line("")]
    if body_html is not None:
        items += html_layout(body_html)
    elif body_text is not None:
        items += text_layout(body_text)
    return items


def cover_page(
    subject: str,
    sender: str,
    recipient_name: str,
    number: str,
    date: datetime.datetime | str,
    body_text: str | None = None,
    body_html: str | None = None,
    *,
    out_tiff: Path,
    options: FaxPageOptions | None = None,
) -> ConvertedDocument:
    """Write the cover page (plus body continuation pages) as a fax TIFF at `out_tiff`."""
    options = options or FaxPageOptions()
    layout = cover_layout(subject, sender, recipient_name, number, date, body_text, body_html)
    with tempfile.TemporaryDirectory(prefix="faxgate-cover-") as workdir:
        pages = encode_images(typeset(layout, options), options, Path(workdir))
    write_fax_tiff(pages, out_tiff)
    return ConvertedDocument(pages=len(pages), path=out_tiff)
