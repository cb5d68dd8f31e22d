"""PDF pages to fax pages with PDFium (pypdfium2): fast, in the converter process.

Each page is rendered straight to a grey bitmap at the fax resolution (PDFium scales x and y
independently, so 204x196 and 204x98 need no resampling), rotated to portrait if it is a
landscape page, then made bilevel (`bilevel.gray_to_ink`) and coded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium_c
from PIL import Image

from faxgate.convert.bilevel import gray_to_ink, place_on_fax_width, plan_page, split_long_page
from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.options import FaxPageOptions
from faxgate.errors import ConversionError

POINTS_PER_INCH = 72.0
#: Longest page PDFium is asked to render, in pixels (a 6 m receipt at fine resolution).
MAX_RENDER_ROWS = 50_000
# Render as a printer would (print-only annotations, no form widgets' hover states), with
# anti-aliasing on: thresholding grey edges keeps stroke weight truer than 1-bit rendering.
_RENDER_FLAGS = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_PRINTING
_ROTATE_90_CLOCKWISE = 1
_ERROR_PASSWORD = 4


def open_pdf(path: Path) -> Any:
    """Open a PDF with PDFium; an owner password alone (no user password) does not stop it."""
    try:
        return pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _ERROR_PASSWORD or "password" in str(exc).lower():
            raise ConversionError(
                "the PDF is protected by a password: send it without password protection"
            ) from exc
        raise ConversionError("the PDF file is damaged or not a PDF") from exc


def page_count(path: Path) -> int:
    """Number of pages of a PDF (for limits and reports)."""
    document = open_pdf(path)
    try:
        return len(document)
    finally:
        document.close()


def render_gray(page: Any, options: FaxPageOptions) -> tuple[Image.Image, int]:
    """Render one PDFium page to a grey image at fax resolution; returns it and its left offset."""
    width_pt, height_pt = page.get_size()
    plan = plan_page(width_pt / POINTS_PER_INCH, height_pt / POINTS_PER_INCH, options)
    height_px = min(plan.height_px, MAX_RENDER_ROWS)
    bitmap = pypdfium2.PdfBitmap.new_native(plan.width_px, height_px, pdfium_c.FPDFBitmap_Gray)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, plan.width_px, height_px)
    # size_x/size_y are the size of the whole rendered page: PDFium scales x and y separately.
    pdfium_c.FPDF_RenderPageBitmap(
        bitmap,
        page,
        0,
        0,
        plan.width_px,
        plan.height_px,
        _ROTATE_90_CLOCKWISE if plan.rotate else 0,
        _RENDER_FLAGS,
    )
    gray = bitmap.to_pil().copy()  # detach from PDFium's buffer before the bitmap is freed
    bitmap.close()
    return gray, plan.left_px


def pdf_page_images(path: Path, options: FaxPageOptions) -> Iterator[Image.Image]:
    """The ink images of every page of a PDF, long pages split, limits checked as we go."""
    document = open_pdf(path)
    try:
        count = len(document)
        if count == 0:
            raise ConversionError("the PDF has no pages")
        if count > options.page_limit:
            raise ConversionLimitError(
                f"the document has {count} pages, more than the limit of {options.page_limit}"
            )
        produced = 0
        for index in range(count):
            page = document[index]
            try:
                gray, left_px = render_gray(page, options)
            finally:
                page.close()
            for piece in split_long_page(gray_to_ink(gray), options.y_dpi):
                produced += 1
                if produced > options.page_limit:
                    raise ConversionLimitError(
                        f"the document makes more than {options.page_limit} fax pages"
                    )
                yield place_on_fax_width(piece, left_px)
    finally:
        document.close()


def pdf_page_texts(path: Path) -> list[str]:
    """The text of each page as PDFium extracts it (fast; misses letter-spaced text joins)."""
    document = open_pdf(path)
    try:
        texts = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                texts.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            finally:
                textpage.close()
                page.close()
        return texts
    finally:
        document.close()
