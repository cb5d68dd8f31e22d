"""Every document of the corpus through the shipped converters: page count, page format, and
a spandsp sender → receiver call that delivers every page unchanged."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from faxgate.convert import (
    Compression,
    FaxPageOptions,
    Resolution,
    convert_document,
    inspect_tiff,
    sniff_mime_type,
)
from faxgate.faxengine.compare import pages_equal
from faxgate.faxengine.loopback import transfer

# Expected fax pages per document (a long receipt is split into A4-long pieces).
CORPUS = {
    "a4-3pages.pdf": 3,
    "letter-2pages.pdf": 2,
    "landscape-a4.pdf": 1,
    "a3.pdf": 1,
    "long-receipt.pdf": 4,
    "scanned-colour.pdf": 1,
    "photo.pdf": 1,
    "photo.jpg": 1,
    "transparent.png": 1,
    "onebit-wrongres.tif": 1,
    "grey-wrongres.tif": 1,
    "ps2write.ps": 3,
    "handwritten.ps": 2,
    "pjl-wrapped.ps": 2,
    "utf8.txt": 2,
    "latin1.txt": 1,
    "cp1252.txt": 1,
    "mail-body.html": 1,
    "encrypted-owner.pdf": 2,
    "text-20pages.pdf": 20,
}


def assert_fax_tiff(path: Path, options: FaxPageOptions, pages: int) -> None:
    infos = inspect_tiff(path)
    assert len(infos) == pages
    for info in infos:
        assert info.width == 1728
        assert info.is_fax_page(options), info
    # libtiff agrees (a second, independent reader).
    report = subprocess.run(["tiffinfo", str(path)], capture_output=True, text=True, check=True)
    assert report.stdout.count("Image Width: 1728") == pages
    assert report.stdout.count(f"Resolution: 204, {options.y_dpi} pixels/inch") == pages
    assert report.stdout.count("min-is-white") == pages


@pytest.mark.parametrize(("name", "pages"), sorted(CORPUS.items()))
def test_corpus_document_becomes_fax_pages(
    name: str, pages: int, mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    source = documents / name
    options = FaxPageOptions()
    result = convert_document(
        mimetype_dir, source, sniff_mime_type(source), tmp_path / "out.tif", options
    )
    assert result.pages == pages
    assert result.path == tmp_path / "out.tif"
    assert_fax_tiff(result.path, options, pages)
    # spandsp accepts it, sends it, and every received page equals the sent one.
    received = tmp_path / "received.tif"
    call = transfer(result.path, received, ecm=True)
    assert call.succeeded, call
    assert pages_equal(result.path, received) == [True] * pages


def test_normal_resolution_and_g3(mimetype_dir: Path, documents: Path, tmp_path: Path) -> None:
    for compression in (Compression.G3_1D, Compression.G3_2D):
        options = FaxPageOptions(resolution=Resolution.NORMAL, compression=compression)
        out = tmp_path / f"{compression.value}.tif"
        result = convert_document(
            mimetype_dir, documents / "a4-3pages.pdf", "application/pdf", out, options
        )
        assert_fax_tiff(result.path, options, 3)
        assert 1100 <= inspect_tiff(out)[0].height <= 1200  # A4 at 98 lines per inch


def test_landscape_page_is_turned(mimetype_dir: Path, documents: Path, tmp_path: Path) -> None:
    result = convert_document(
        mimetype_dir, documents / "landscape-a4.pdf", "application/pdf", tmp_path / "l.tif"
    )
    info = inspect_tiff(result.path)[0]
    assert info.height > info.width  # portrait on the fax


def test_declared_charset_reaches_the_converter(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    latin1 = documents / "latin1.txt"
    as_latin1 = convert_document(
        mimetype_dir, latin1, "text/plain; charset=iso-8859-1", tmp_path / "a.tif"
    )
    as_koi8 = convert_document(
        mimetype_dir, latin1, "text/plain; charset=koi8-r", tmp_path / "b.tif"
    )
    # Same bytes, different declared charsets: different glyphs on the page.
    assert as_latin1.path.read_bytes() != as_koi8.path.read_bytes()
