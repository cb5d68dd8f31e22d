"""An administrator's own converter, used without a restart; documents converted once."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.convert import (
    DocumentCache,
    FaxPageOptions,
    Resolution,
    UnsupportedTypeError,
    convert_document,
    inspect_tiff,
)

# What docs/conversion.md tells an administrator to write, with Ghostscript standing in for
# LibreOffice: a converter that writes a PDF, which faxgate then turns into fax pages.
ADMIN_CONVERTER = """#!/bin/sh
# mimetype/application/x-demo-postscript: INPUT OUTPUT
exec gs -dSAFER -dBATCH -dNOPAUSE -dQUIET -sDEVICE=pdfwrite -sOutputFile="$2" "$1"
"""


def test_new_converter_is_used_without_restart(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    source = documents / "handwritten.ps"
    with pytest.raises(UnsupportedTypeError):
        convert_document(mimetype_dir, source, "application/x-demo-postscript", tmp_path / "a.tif")
    folder = mimetype_dir / "application"
    (folder / "x-demo-postscript").write_text(ADMIN_CONVERTER)
    (folder / "x-demo-postscript").chmod(0o755)
    result = convert_document(
        mimetype_dir, source, "application/x-demo-postscript", tmp_path / "b.tif"
    )
    assert result.pages == 2
    assert all(info.is_fax_page(FaxPageOptions()) for info in inspect_tiff(result.path))


def test_converter_tiff_output_is_normalised(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    # A converter that hands back an 8-bit grey TIFF with wrong resolution tags.
    script = mimetype_dir / "image" / "x-grey"
    script.write_text('#!/bin/sh\ncp "$1" "$2"\n')
    script.chmod(0o755)
    options = FaxPageOptions(resolution=Resolution.NORMAL)
    result = convert_document(
        mimetype_dir, documents / "grey-wrongres.tif", "image/x-grey", tmp_path / "g.tif", options
    )
    (info,) = inspect_tiff(result.path)
    assert info.is_fax_page(options)


def test_document_is_converted_once(mimetype_dir: Path, documents: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs.log"
    script = mimetype_dir / "application" / "x-counted"
    script.write_text(f'#!/bin/sh\necho run >> {runs}\ncp "$1" "$2"\n')
    script.chmod(0o755)
    cache = DocumentCache(tmp_path / "spool" / "docq")
    source = documents / "a4-3pages.pdf"
    first = cache.convert(mimetype_dir, source, "application/x-counted")
    for _ in range(3):  # the same document for three more recipients
        again = cache.convert(mimetype_dir, source, "application/x-counted")
        assert (again.path, again.pages, again.warnings) == (
            first.path,
            first.pages,
            first.warnings,
        )
        assert again.cpu_seconds == 0.0  # nothing was converted
    assert runs.read_text().count("run") == 1
    assert first.path.parent == tmp_path / "spool" / "docq"
    assert first.pages == 3
    # Another page format is another conversion.
    normal = cache.convert(
        mimetype_dir, source, "application/x-counted", FaxPageOptions(resolution=Resolution.NORMAL)
    )
    assert normal.path != first.path
    assert runs.read_text().count("run") == 2


def test_damaged_cache_record_is_converted_again(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    cache = DocumentCache(tmp_path / "docq")
    source = documents / "latin1.txt"
    first = cache.convert(mimetype_dir, source, "text/plain")
    first.path.with_suffix(".json").write_text("{not json")
    again = cache.convert(mimetype_dir, source, "text/plain")
    assert (again.path, again.pages) == (first.path, first.pages)
    assert again.cpu_seconds > 0  # converted again
