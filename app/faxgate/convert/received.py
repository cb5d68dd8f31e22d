"""Received faxes as PDF: the CCITT G4 data of each page embedded as it is (lossless, small).

A PDF image XObject with the CCITTFaxDecode filter holds T.6 data unchanged, so a received fine
page of ~50 KB stays ~50 KB and no pixel changes. Pages coded otherwise (T.4 1-D/2-D, or a TIFF
that is not class F) are decoded and recoded as G4, which for bilevel images is lossless too.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from PIL import Image, ImageSequence

from faxgate.convert.options import FaxPageOptions
from faxgate.convert.tiffio import (
    COMPRESSION_CCITT_T6,
    FaxPage,
    decode_page,
    encode_page,
    read_fax_pages,
)
from faxgate.errors import ConversionError

_BIT_REVERSED = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


def _g4_page(page: FaxPage) -> FaxPage:
    if page.compression == COMPRESSION_CCITT_T6:
        if page.fill_order == 2:  # bits stored least significant first: PDF wants MSB first
            return dataclasses.replace(page, data=page.data.translate(_BIT_REVERSED), fill_order=1)
        return page
    ink = Image.frombytes(
        "1", (page.width, page.height), decode_page(page).tobytes().translate(_INVERT)
    )
    recoded = encode_page(ink, FaxPageOptions())
    return dataclasses.replace(recoded, x_dpi=page.x_dpi, y_dpi=page.y_dpi)


_INVERT = bytes(255 - value for value in range(256))


def _pages_of(tiff: Path) -> list[FaxPage]:
    try:
        return [_g4_page(page) for page in read_fax_pages(tiff)]
    except ConversionError:
        pass  # not class F (several strips, other coding): decode and recode every page
    pages = []
    try:
        with Image.open(tiff) as image:
            for frame in ImageSequence.Iterator(image):
                bilevel = frame.convert("1")
                ink = Image.frombytes("1", bilevel.size, bilevel.tobytes().translate(_INVERT))
                x_dpi, y_dpi = frame.info.get("dpi", (204, 196))
                recoded = encode_page(ink, FaxPageOptions())
                pages.append(
                    dataclasses.replace(
                        recoded, x_dpi=float(x_dpi) or 204.0, y_dpi=float(y_dpi) or 196.0
                    )
                )
    except OSError as exc:
        raise ConversionError("the received fax image cannot be read") from exc
    return pages


def fax_pages_pdf(pages: list[FaxPage]) -> bytes:
    """A PDF with one page per fax page, each the G4 image at its physical size."""
    objects: list[bytes] = []
    page_ids = []
    for page in pages:
        width_pt = page.width * 72 / page.x_dpi
        height_pt = page.height * 72 / page.y_dpi
        image_id = len(objects) + 3
        content_id = image_id + 1
        page_id = image_id + 2
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 1 /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns %d "
            b"/Rows %d >> /Length %d >>\nstream\n"
            % (page.width, page.height, page.width, page.height, len(page.data))
            + page.data
            + b"\nendstream"
        )
        content = b"q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q" % (width_pt, height_pt)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.4f %.4f] /Resources << /XObject "
            b"<< /Im0 %d 0 R >> >> /Contents %d 0 R >>"
            % (width_pt, height_pt, image_id, content_id)
        )
        page_ids.append(page_id)
    kids = b" ".join(b"%d 0 R" % page_id for page_id in page_ids)
    head = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)),
    ]
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(head + objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_at = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    for offset in offsets:
        body += b"%010d 00000 n \n" % offset
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(offsets) + 1,
        xref_at,
    )
    return bytes(body)


def received_fax_to_pdf(tiff: Path, pdf: Path) -> int:
    """Write the PDF of a received fax TIFF atomically; returns the page count."""
    pages = _pages_of(tiff)
    if not pages:
        raise ConversionError("the received fax has no pages")
    temporary = pdf.with_name(f".{pdf.name}.{os.getpid()}.part")
    with temporary.open("wb") as stream:
        stream.write(fax_pages_pdf(pages))
        stream.flush()
        os.fsync(stream.fileno())
    temporary.replace(pdf)
    return len(pages)
