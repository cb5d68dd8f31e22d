"""Received faxes to PDF (G4 embedded, lossless), first-page thumbnails, the cover page."""

from __future__ import annotations

import datetime
from pathlib import Path

import pypdfium2
from PIL import Image, ImageDraw
from pypdf import PdfReader

from faxgate.convert import (
    Compression,
    FaxPageOptions,
    Resolution,
    convert_document,
    cover_page,
    inspect_tiff,
    merge_fax_tiffs,
    received_fax_to_pdf,
    thumbnail,
)
from faxgate.convert.tiffio import FaxPage, encode_page, read_fax_pages, write_fax_tiff
from faxgate.faxengine.compare import pages_equal

_REVERSE = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


def fax_tiff(path: Path, options: FaxPageOptions, pages: int = 2) -> Path:
    images = []
    for number in range(pages):
        ink = Image.new("1", (1728, 2 * options.y_dpi * 11 // 2), 0)
        draw = ImageDraw.Draw(ink)
        draw.rectangle((100 + number * 50, 100, 900, 400), fill=1)
        draw.text((100, 600), f"received page {number + 1} " * 8, fill=1)
        images.append(ink)
    write_fax_tiff([encode_page(ink, options) for ink in images], path)
    return path


def rendered_ink_rows(pdf: Path, index: int, size: tuple[int, int]) -> bytes:
    document = pypdfium2.PdfDocument(pdf)
    page = document[index]
    bitmap = pypdfium2.PdfBitmap.new_native(size[0], size[1], pypdfium2.raw.FPDFBitmap_Gray)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, size[0], size[1])
    pypdfium2.raw.FPDF_RenderPageBitmap(bitmap, page, 0, 0, size[0], size[1], 0, 0)
    gray = bitmap.to_pil().copy()
    page.close()
    document.close()
    return gray.point([255 if value < 128 else 0 for value in range(256)], "1").tobytes()


def test_g4_pages_are_embedded_unchanged(tmp_path: Path) -> None:
    tiff = fax_tiff(tmp_path / "fax.tif", FaxPageOptions())
    pdf = tmp_path / "fax.pdf"
    assert received_fax_to_pdf(tiff, pdf) == 2
    coded = [page.data for page in read_fax_pages(tiff)]
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    for page, data in zip(reader.pages, coded, strict=True):
        image = page["/Resources"]["/XObject"]["/Im0"].get_object()
        assert image["/Filter"] == "/CCITTFaxDecode"
        assert image._data == data  # the G4 bytes themselves: no recoding
        # Physical size: 1728 px at 204 dpi wide.
        assert abs(float(page.mediabox.width) - 1728 * 72 / 204) < 0.001
    assert pdf.stat().st_size < tiff.stat().st_size + 2000


def test_pdf_shows_exactly_the_received_pixels(tmp_path: Path) -> None:
    for options in (
        FaxPageOptions(),
        FaxPageOptions(resolution=Resolution.NORMAL, compression=Compression.G3_2D),
    ):
        tiff = fax_tiff(tmp_path / f"{options.cache_key()}.tif", options, pages=1)
        pdf = tmp_path / f"{options.cache_key()}.pdf"
        received_fax_to_pdf(tiff, pdf)
        (info,) = inspect_tiff(tiff)
        with Image.open(tiff) as image:
            expected = image.convert("1").point(lambda value: 255 - value).tobytes()
        assert rendered_ink_rows(pdf, 0, (info.width, info.height)) == expected


def test_lsb_first_g4_is_bit_reversed_for_pdf(tmp_path: Path) -> None:
    tiff = fax_tiff(tmp_path / "msb.tif", FaxPageOptions(), pages=1)
    (page,) = read_fax_pages(tiff)
    lsb = FaxPage(**{**page.__dict__, "data": page.data.translate(_REVERSE), "fill_order": 2})
    write_fax_tiff([lsb], tmp_path / "lsb.tif")
    received_fax_to_pdf(tmp_path / "lsb.tif", tmp_path / "lsb.pdf")
    received_fax_to_pdf(tiff, tmp_path / "msb.pdf")
    size = (1728, page.height)
    assert rendered_ink_rows(tmp_path / "lsb.pdf", 0, size) == rendered_ink_rows(
        tmp_path / "msb.pdf", 0, size
    )


def test_thumbnails_keep_the_page_shape(tmp_path: Path) -> None:
    fine = fax_tiff(tmp_path / "fine.tif", FaxPageOptions(), pages=1)
    normal = fax_tiff(
        tmp_path / "normal.tif", FaxPageOptions(resolution=Resolution.NORMAL), pages=1
    )
    fine_size = thumbnail(fine, tmp_path / "fine.png", width=300)
    normal_size = thumbnail(normal, tmp_path / "normal.png", width=300)
    assert fine_size[0] == normal_size[0] == 300
    assert abs(fine_size[1] - normal_size[1]) <= 2  # a normal page is not squashed
    received_fax_to_pdf(fine, tmp_path / "fine.pdf")
    pdf_size = thumbnail(tmp_path / "fine.pdf", tmp_path / "pdf.png", width=300)
    assert abs(pdf_size[1] - fine_size[1]) <= 2
    with Image.open(tmp_path / "fine.png") as png:
        assert png.format == "PNG"
        assert png.getextrema()[0] < 100  # the black box is visible


def test_cover_page_with_text_and_html_bodies(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    when = datetime.datetime(2026, 11, 26, 14, 30, tzinfo=datetime.UTC)
    short = cover_page(
        "Order 4711", "Jürgen <j@example.com>", "Purchasing", "0991234567", when,
        body_text="Please find the order attached.\n", out_tiff=tmp_path / "cover.tif",
    )  # fmt: skip
    assert short.pages == 1
    assert all(info.is_fax_page(FaxPageOptions()) for info in inspect_tiff(short.path))
    long_body = "\n".join(f"line {number}" for number in range(120))
    long = cover_page("Long", "a@example.com", "", "0991", "today", body_text=long_body,
                      out_tiff=tmp_path / "long.tif")  # fmt: skip
    assert long.pages == 3
    html = cover_page("HTML", "a@example.com", "B", "0991", when,
                      body_html=(documents / "mail-body.html").read_text(),
                      out_tiff=tmp_path / "html.tif")  # fmt: skip
    assert html.pages == 1
    # Cover + attachment merged into one fax, as the mail gateway sends it.
    attachment = convert_document(
        mimetype_dir, documents / "a4-3pages.pdf", "application/pdf", tmp_path / "doc.tif"
    )
    assert merge_fax_tiffs([short.path, attachment.path], tmp_path / "fax.tif") == 4


def test_to_fax_tiff_renders_a_trusted_pdf_in_process(documents: Path, tmp_path: Path) -> None:
    from faxgate.convert import to_fax_tiff

    # A PDF faxgate made itself (here: the PDF of a received fax) back to fax pages.
    fax = fax_tiff(tmp_path / "fax.tif", FaxPageOptions(), pages=2)
    received_fax_to_pdf(fax, tmp_path / "fax.pdf")
    assert to_fax_tiff(tmp_path / "fax.pdf", tmp_path / "again.tif") == 2
    infos = inspect_tiff(tmp_path / "again.tif")
    assert all(info.is_fax_page(FaxPageOptions()) for info in infos)
    # Same physical size: the page comes back 1728 pixels wide with the same number of lines,
    # and pixel for pixel (the image lands on the fax grid one to one).
    assert [info.height for info in infos] == [info.height for info in inspect_tiff(fax)]
    assert pages_equal(fax, tmp_path / "again.tif", header_rows=0) == [True, True]
    # A longer document (rendered by one or two processes, depending on idle cores).
    assert to_fax_tiff(documents / "text-20pages.pdf", tmp_path / "twenty.tif") == 20
