"""The fax TIFF container: coding, class F tags, reading back, merging without recoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from faxgate.convert.options import Compression, FaxPageOptions, Resolution
from faxgate.convert.tiffio import (
    COMPRESSION_CCITT_T4,
    COMPRESSION_CCITT_T6,
    PHOTOMETRIC_MIN_IS_WHITE,
    decode_page,
    encode_page,
    inspect_tiff,
    merge_fax_tiffs,
    read_fax_pages,
    write_fax_tiff,
)
from faxgate.errors import ConversionError


def ink_page(height: int = 2292, label: str = "page") -> Image.Image:
    ink = Image.new("1", (1728, height), 0)
    draw = ImageDraw.Draw(ink)
    draw.rectangle((100, 100, 700, 300), fill=1)
    draw.text((100, 400), label * 10, fill=1)
    return ink


def as_ink(decoded: Image.Image) -> Image.Image:
    """decode_page gives Pillow's convention (0 = black): turn it into ink = 1 to compare."""
    return decoded.convert("L").point(lambda value: 255 - value).convert("1")


@pytest.mark.parametrize("compression", list(Compression))
def test_round_trip_is_lossless(tmp_path: Path, compression: Compression) -> None:
    options = FaxPageOptions(compression=compression)
    source = ink_page()
    write_fax_tiff([encode_page(source, options)], tmp_path / "page.tif")
    (page,) = read_fax_pages(tmp_path / "page.tif")
    assert as_ink(decode_page(page)).tobytes() == source.tobytes()


@pytest.mark.parametrize(
    ("compression", "code", "two_d"),
    [
        (Compression.G4, COMPRESSION_CCITT_T6, False),
        (Compression.G3_1D, COMPRESSION_CCITT_T4, False),
        (Compression.G3_2D, COMPRESSION_CCITT_T4, True),
    ],
)
def test_class_f_tags(tmp_path: Path, compression: Compression, code: int, two_d: bool) -> None:
    options = FaxPageOptions(resolution=Resolution.NORMAL, compression=compression)
    pages = [encode_page(ink_page(1146), options) for _ in range(3)]
    write_fax_tiff(pages, tmp_path / "doc.tif")
    infos = inspect_tiff(tmp_path / "doc.tif")
    assert len(infos) == 3
    for info in infos:
        assert (info.width, info.height) == (1728, 1146)
        assert info.compression == code
        assert bool(info.t4_options & 1) == two_d
        assert info.photometric == PHOTOMETRIC_MIN_IS_WHITE
        assert info.strip_count == 1
        assert (info.x_dpi, info.y_dpi) == (204, 98)
        assert info.is_fax_page(options)
        assert not info.is_fax_page(FaxPageOptions())  # fine G4 was not asked for


def test_pillow_reads_min_is_white_pages_right_way_round(tmp_path: Path) -> None:
    write_fax_tiff([encode_page(ink_page(), FaxPageOptions())], tmp_path / "page.tif")
    with Image.open(tmp_path / "page.tif") as image:
        assert image.getpixel((10, 10)) == 255  # paper is white
        assert image.getpixel((200, 200)) == 0  # the box is black


def test_merge_copies_coded_pages(tmp_path: Path) -> None:
    options = FaxPageOptions()
    cover = [encode_page(ink_page(label="cover"), options)]
    body = [encode_page(ink_page(label=f"p{n}"), options) for n in range(2)]
    write_fax_tiff(cover, tmp_path / "cover.tif")
    write_fax_tiff(body, tmp_path / "body.tif")
    assert (
        merge_fax_tiffs([tmp_path / "cover.tif", tmp_path / "body.tif"], tmp_path / "all.tif") == 3
    )
    merged = read_fax_pages(tmp_path / "all.tif")
    assert [page.data for page in merged] == [page.data for page in cover + body]


def test_non_fax_tiff_is_not_copied(tmp_path: Path) -> None:
    Image.new("L", (100, 100), 128).save(tmp_path / "grey.tif")
    assert not inspect_tiff(tmp_path / "grey.tif")[0].is_fax_page()
    with pytest.raises(ConversionError, match="not a fax page"):
        read_fax_pages(tmp_path / "grey.tif")


def test_not_a_tiff() -> None:
    with pytest.raises(ConversionError, match="not a TIFF"):
        inspect_tiff(b"%PDF-1.4")


def test_truncated_tiff_is_reported(tmp_path: Path) -> None:
    write_fax_tiff([encode_page(ink_page(), FaxPageOptions())], tmp_path / "page.tif")
    data = (tmp_path / "page.tif").read_bytes()
    # Cut inside the coded data: the directory (at the end) now points past the end of file.
    with pytest.raises(ConversionError):
        read_fax_pages(data[:8] + data[8 : len(data) // 2])


def test_empty_document_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="no pages"):
        write_fax_tiff([], tmp_path / "empty.tif")
