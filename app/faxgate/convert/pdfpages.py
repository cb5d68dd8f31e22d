"""PDF pages to fax pages with PDFium (pypdfium2), in the converter process.

Each page is rendered straight into a fax-width grey bitmap at the fax resolution (PDFium
scales x and y independently, so 204x196 and 204x98 need no resampling), turned to portrait if
it is a landscape page. Text and line art are rendered without anti-aliasing, so a page made
only of them (no images, no shadings: the common printed letter) is already bilevel and goes
straight from PDFium's buffer to packed rows to libtiff's coder. Pages with images take the
careful path (`bilevel.gray_to_ink`: threshold text regions, dither photos). Pages are rendered
one at a time while a second thread codes the previous ones (`g4.write_packed`). On machines
with four cores or more, documents of four pages or more are shared with a forked child (the
second half of the pages) while two of those cores are idle.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2
import pypdfium2.raw as pdfium_c
from PIL import Image

from faxgate.convert.bilevel import (
    MAX_PAGE_INCHES,
    gray_to_ink,
    place_on_fax_width,
    plan_page,
    split_long_page,
)
from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.g4 import PackedPage, pack_ink, write_packed
from faxgate.convert.options import FAX_WIDTH_PX, FaxPageOptions
from faxgate.convert.tiffio import FaxPage, read_fax_pages
from faxgate.errors import ConversionError

POINTS_PER_INCH = 72.0
#: Longest page PDFium is asked to render, in pixels (a 6 m receipt at fine resolution).
MAX_RENDER_ROWS = 50_000
#: Documents with at least this many pages may be rendered by two processes.
PARALLEL_FROM_PAGES = 4
# Print-visible annotations, no anti-aliasing of text and paths: at fax resolution PDFium's
# own 1-bit glyph rasterising is crisper than thresholding grey edges, and leaves text pages
# bilevel. Images keep their smoothing (they are thresholded or dithered afterwards).
_RENDER_FLAGS = (
    pdfium_c.FPDF_ANNOT
    | pdfium_c.FPDF_PRINTING
    | pdfium_c.FPDF_RENDER_NO_SMOOTHTEXT
    | pdfium_c.FPDF_RENDER_NO_SMOOTHPATH
)
_ROTATE_90_CLOCKWISE = 1
_ERROR_PASSWORD = 4
_GREY_OBJECT_TYPES = {pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_SHADING}


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


def _has_grey_objects(objects: Any, count: int, get: Any, depth: int = 0) -> bool:
    for index in range(count):
        obj = get(objects, index)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind in _GREY_OBJECT_TYPES:
            return True
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            if depth >= 8:
                return True  # deeply nested forms: take the careful path
            inner = pdfium_c.FPDFFormObj_CountObjects(obj)
            if _has_grey_objects(obj, inner, pdfium_c.FPDFFormObj_GetObject, depth + 1):
                return True
    return False


def page_has_grey_content(page: Any) -> bool:
    """True if a page holds images or shadings (anything not plain text and line art)."""
    raw = page.raw
    return _has_grey_objects(raw, pdfium_c.FPDFPage_CountObjects(raw), pdfium_c.FPDFPage_GetObject)


class _Bitmaps:
    """One grey bitmap reused page after page while the size stays (most documents): a fresh
    4 MB buffer per page costs allocation, zeroing and page faults."""

    def __init__(self) -> None:
        self._bitmap: Any = None

    def get(self, height_px: int) -> Any:
        if self._bitmap is not None and self._bitmap.height == height_px:
            return self._bitmap
        self.close()
        self._bitmap = pypdfium2.PdfBitmap.new_native(
            FAX_WIDTH_PX, height_px, pdfium_c.FPDFBitmap_Gray
        )
        return self._bitmap

    def close(self) -> None:
        if self._bitmap is not None:
            self._bitmap.close()
            self._bitmap = None


def _render(page: Any, options: FaxPageOptions, bitmaps: _Bitmaps) -> tuple[Any, int, int]:
    """Render a page into a fax-wide grey bitmap; returns it with the content's left/width."""
    width_pt, height_pt = page.get_size()
    plan = plan_page(width_pt / POINTS_PER_INCH, height_pt / POINTS_PER_INCH, options)
    height_px = min(plan.height_px, MAX_RENDER_ROWS)
    bitmap = bitmaps.get(height_px)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, FAX_WIDTH_PX, height_px)
    # size_x/size_y are the size of the whole rendered page: PDFium scales x and y separately.
    pdfium_c.FPDF_RenderPageBitmap(
        bitmap,
        page,
        plan.left_px,
        0,
        plan.width_px,
        plan.height_px,
        _ROTATE_90_CLOCKWISE if plan.rotate else 0,
        _RENDER_FLAGS,
    )
    return bitmap, plan.left_px, plan.width_px


def warm_up() -> None:
    """Render a line of text once, so that processes forked afterwards find PDFium warm.

    The zygote calls this before forking converters: PDFium's font manager and FreeType, the
    built-in standard fonts and the rasteriser are then set up in every converter from the
    start instead of costing the first page of each document a few milliseconds.
    """
    document = pypdfium2.PdfDocument.new()
    try:
        page = document.new_page(300, 100)
        text = pdfium_c.FPDFPageObj_NewTextObj(document.raw, b"Helvetica", ctypes.c_float(12))
        line = ctypes.create_string_buffer("faxgate 0123456789\0".encode("utf-16-le"))
        pdfium_c.FPDFText_SetText(text, ctypes.cast(line, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
        pdfium_c.FPDFPageObj_Transform(text, 1, 0, 0, 1, 10, 40)
        pdfium_c.FPDFPage_InsertObject(page.raw, text)
        pdfium_c.FPDFPage_GenerateContent(page.raw)
        bitmaps = _Bitmaps()
        try:
            _page_pieces(page, FaxPageOptions(), bitmaps)
        finally:
            bitmaps.close()
            page.close()
    finally:
        document.close()


def render_gray(page: Any, options: FaxPageOptions) -> Image.Image:
    """A page as a fax-wide grey image (255 = white) at the options' resolution."""
    bitmaps = _Bitmaps()
    bitmap, _, _ = _render(page, options, bitmaps)
    gray: Image.Image = bitmap.to_pil().copy()  # detach from PDFium's buffer
    bitmaps.close()
    return gray


def _page_pieces(page: Any, options: FaxPageOptions, bitmaps: _Bitmaps) -> list[PackedPage]:
    bitmap, left_px, width_px = _render(page, options, bitmaps)
    long_page = bitmap.height > round(MAX_PAGE_INCHES * options.y_dpi)
    if not long_page and not page_has_grey_content(page):
        pixels = np.frombuffer(bitmap.buffer, dtype=np.uint8)
        if bitmap.stride == FAX_WIDTH_PX:
            # Rows follow each other without padding (1728 is a multiple of 4): one flat pass
            # packs the page, about twice as fast as packing row by row. The threshold is
            # written over the grey pixels (the buffer is refilled before the next page): a
            # 4 MB temporary would cost a thousand page faults in every new converter process.
            ink = pixels.view(np.bool_)
            np.less(pixels, 128, out=ink)
            packed = np.packbits(ink)  # ink = 1, most significant bit first
        else:
            rows = pixels.reshape(bitmap.height, bitmap.stride)[:, :FAX_WIDTH_PX]
            packed = np.packbits(rows < 128, axis=-1)
        return [PackedPage(packed.tobytes(), FAX_WIDTH_PX, bitmap.height)]
    # crop copies the pixels out of the reused buffer
    gray = bitmap.to_pil().crop((left_px, 0, left_px + width_px, bitmap.height))
    pieces = split_long_page(gray_to_ink(gray), options.y_dpi)
    return [pack_ink(place_on_fax_width(piece, left_px)) for piece in pieces]


def _packed_range(
    path: Path, first: int, stop: int, options: FaxPageOptions
) -> Generator[PackedPage]:
    """The packed fax pages of PDF pages [first, stop), rendered one by one as they are taken
    (in the taking thread: PDFium is only ever called from one thread)."""
    document = open_pdf(path)
    bitmaps = _Bitmaps()
    count = 0
    try:
        for index in range(first, stop):
            page = document[index]
            try:
                pieces = _page_pieces(page, options, bitmaps)
            finally:
                page.close()
            count += len(pieces)
            if count > options.page_limit:
                raise ConversionLimitError(
                    f"the document makes more than {options.page_limit} fax pages"
                )
            yield from pieces
    finally:
        bitmaps.close()
        document.close()


def _write_range(path: Path, first: int, stop: int, options: FaxPageOptions, tiff: Path) -> None:
    pages = _packed_range(path, first, stop, options)
    try:
        write_packed(pages, options, tiff)
    finally:
        pages.close()  # stopped early (a failure): the document is closed now, not at collection


def render_page_range(
    path: Path, first: int, stop: int, options: FaxPageOptions, scratch: Path
) -> list[FaxPage]:
    """Fax pages of PDF pages [first, stop): rendered, made bilevel, coded."""
    try:
        _write_range(path, first, stop, options, scratch)
        return read_fax_pages(scratch)
    finally:
        scratch.unlink(missing_ok=True)


def _render_range_in_child(
    path: Path, first: int, stop: int, options: FaxPageOptions, tiff: Path, failure: Path
) -> int:
    """Fork a process that writes the fax pages of [first, stop) to `tiff`; returns its pid.

    The child inherits the converter's limits and loaded libraries (no start-up cost) and
    hands its pages over as a file; a failure's message goes to `failure`.
    """
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        _write_range(path, first, stop, options, tiff)
        code = 0
    except ConversionLimitError as exc:
        failure.write_text(f"limit\n{exc}")
    except ConversionError as exc:
        failure.write_text(f"error\n{exc}")
    except MemoryError:
        failure.write_text("limit\nthe document needs more memory than the conversion limit allows")
    except BaseException as exc:
        failure.write_text(f"error\nrendering failed unexpectedly ({type(exc).__name__})")
    finally:
        os._exit(code)


def _collect_child(pid: int, tiff: Path, failure: Path) -> list[FaxPage]:
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return read_fax_pages(tiff)
    kind, _, message = (failure.read_text() if failure.exists() else "").partition("\n")
    if kind == "limit":
        raise ConversionLimitError(message)
    if message:
        raise ConversionError(message)
    raise ConversionLimitError(
        "rendering the document crashed; it may need more than the memory limit allows"
    )


def _worker_count(pages: int) -> int:
    """Two processes when the document is long enough and two more cores are idle, else one.

    Each process already keeps two cores busy (PDFium renders in one thread while libtiff codes
    in another, see `g4.write_packed`), so a second process only pays where it finds two idle
    cores of its own: from four cores on, while the 1-minute load average (our caller included)
    leaves two free. On two cores it would only take turns with the first: measured on the
    shared 2-core machine (20-page text PDF), one process with the coding thread finished as
    early as two processes did and used less CPU (no second document parse, glyph cache and
    scratch file).
    """
    cores = len(os.sched_getaffinity(0))
    if pages < PARALLEL_FROM_PAGES or cores < 4:
        return 1
    return 2 if os.getloadavg()[0] <= cores - 1.5 else 1


def pdf_fax_pages(path: Path, options: FaxPageOptions, workdir: Path) -> list[FaxPage]:
    """Every page of a PDF as coded fax pages, long pages split, limits checked."""
    count = page_count(path)
    if count == 0:
        raise ConversionError("the PDF has no pages")
    if count > options.page_limit:
        raise ConversionLimitError(
            f"the document has {count} pages, more than the limit of {options.page_limit}"
        )
    if _worker_count(count) == 1:
        pages = render_page_range(path, 0, count, options, workdir / "pages-0.tif")
    else:
        # Second half in a forked child, first half here, at the same time on two cores.
        middle = count // 2
        tiff, failure = workdir / "pages-second.tif", workdir / "pages-second.failure"
        pid = _render_range_in_child(path, middle, count, options, tiff, failure)
        try:
            first_half = render_page_range(path, 0, middle, options, workdir / "pages-first.tif")
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        pages = first_half + _collect_child(pid, tiff, failure)
    if len(pages) > options.page_limit:
        raise ConversionLimitError(f"the document makes more than {options.page_limit} fax pages")
    return pages


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
