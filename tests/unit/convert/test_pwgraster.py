"""PWG raster decoding on small hand-made streams: every compression case, every damage."""

from __future__ import annotations

import struct
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from faxgate.convert.options import FaxPageOptions, Resolution
from faxgate.convert.pwgraster import (
    HEADER_BYTES,
    ColorSpace,
    PwgRasterError,
    PwgRasterLimitError,
    iter_pages,
    page_ink_images,
)

SGRAY, BLACK, SRGB, CMYK = 18, 3, 19, 6


def header(
    width: int,
    height: int,
    *,
    space: int = SGRAY,
    bits: int = 8,
    dpi: tuple[int, int] = (300, 300),
    bytes_per_line: int | None = None,
) -> bytes:
    """A page header with the fields the PWG 5102.4 table places at these offsets."""
    colors = 3 if space == SRGB else 1
    raw = bytearray(HEADER_BYTES)
    raw[0:10] = b"PwgRaster\x00"

    def put(offset: int, *values: int) -> None:
        struct.pack_into(f">{len(values)}I", raw, offset, *values)

    put(276, *dpi)  # HWResolution
    put(352, 595, 842)  # PageSize (points)
    put(372, width, height)  # Width, Height
    put(384, bits, bits * colors)  # BitsPerColor, BitsPerPixel
    put(392, bytes_per_line if bytes_per_line is not None else (width * bits * colors + 7) // 8)
    put(396, 0)  # ColorOrder chunky
    put(400, space)  # ColorSpace
    put(420, colors)  # NumColors
    return bytes(raw)


def stream(*pages: bytes) -> bytes:
    return b"RaS2" + b"".join(pages)


def gray_rows(data: bytes, width: int, height: int) -> list[list[int]]:
    (page,) = list(iter_pages(data))
    assert page.image.mode == "L"
    assert page.image.size == (width, height)
    pixels = page.image.tobytes()
    return [list(pixels[row * width : (row + 1) * width]) for row in range(height)]


def test_line_repeat_makes_one_coded_line_fill_the_page() -> None:
    # repeat byte 3 = the line 4 times; run byte 7 = the pixel 0x80 eight times
    data = stream(header(8, 4) + bytes([3, 7, 0x80]))
    assert gray_rows(data, 8, 4) == [[0x80] * 8] * 4


def test_runs_and_literals_mix_within_a_line() -> None:
    line_1 = bytes([0, 2, 0x00, 0xFD, 1, 2, 3, 4, 0, 9])  # 3 x 0, 4 literals (257-253), 1 x 9
    line_2 = bytes([0, 0xF9, *range(10, 18)])  # 8 literals (257-249)
    data = stream(header(8, 2) + line_1 + line_2)
    assert gray_rows(data, 8, 2) == [[0, 0, 0, 1, 2, 3, 4, 9], list(range(10, 18))]


def test_code_128_is_129_literal_pixels_and_127_a_run_of_128() -> None:
    literal = bytes(range(129))
    data = stream(header(257, 1) + bytes([0, 0x80]) + literal + bytes([127, 0xEE]))
    assert gray_rows(data, 257, 1) == [list(literal) + [0xEE] * 128]


def test_srgb_runs_count_whole_pixels() -> None:
    line = bytes([0, 1, 255, 0, 0, 0xFF, 0, 0, 255, 0, 255, 0])  # 2 x red, 2 literal pixels
    data = stream(header(4, 1, space=SRGB) + line)
    (page,) = list(iter_pages(data))
    assert page.image.mode == "RGB"
    assert page.image.tobytes() == bytes([255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 255, 0])


@pytest.mark.parametrize(
    ("space", "stored", "expected_white"),
    [(SGRAY, 0xFF, True), (SGRAY, 0x00, False), (BLACK, 0xFF, False), (BLACK, 0x00, True)],
)
def test_one_bit_pixels_follow_the_colour_space(
    space: int, stored: int, expected_white: bool
) -> None:
    # 16 pixels = 2 bytes a line; for fewer than 8 bits a pixel the run unit is one byte
    data = stream(header(16, 2, space=space, bits=1) + bytes([1, 1, stored]))
    (page,) = list(iter_pages(data))
    assert page.image.mode == "1"
    assert page.image.convert("L").getextrema() == ((255, 255) if expected_white else (0, 0))


def test_eight_bit_black_is_ink_amount_and_sgray_is_lightness() -> None:
    black = list(iter_pages(stream(header(2, 1, space=BLACK) + bytes([0, 0xFF, 0, 200]))))
    gray = list(iter_pages(stream(header(2, 1) + bytes([0, 0xFF, 0, 200]))))
    assert black[0].image.tobytes() == bytes([255, 55])
    assert gray[0].image.tobytes() == bytes([0, 200])


def test_sixteen_bit_samples_keep_their_high_byte() -> None:
    data = stream(header(2, 1, bits=16) + bytes([0, 0xFF, 0x12, 0x34, 0xAB, 0xCD]))
    (page,) = list(iter_pages(data))
    assert page.image.tobytes() == bytes([0x12, 0xAB])


def test_several_pages_each_with_their_own_header() -> None:
    first = header(4, 2, dpi=(300, 300)) + bytes([1, 3, 0x10])
    second = header(2, 3, space=SRGB, dpi=(150, 600)) + bytes([2, 1, 1, 2, 3])
    pages = list(iter_pages(stream(first, second)))
    assert [page.number for page in pages] == [1, 2]
    assert pages[0].image.size == (4, 2)
    assert pages[0].image.tobytes() == bytes([0x10] * 8)
    assert pages[1].header.color_space is ColorSpace.SRGB
    assert (pages[1].header.x_dpi, pages[1].header.y_dpi) == (150, 600)
    assert pages[1].image.info["dpi"] == (150.0, 600.0)
    assert pages[1].image.tobytes() == bytes([1, 2, 3] * 6)


def test_every_truncation_is_a_clear_error() -> None:
    full = stream(header(8, 4) + bytes([1, 0xFD, 1, 2, 3, 4, 3, 5, 1, 7, 9]))
    assert len(list(iter_pages(full))) == 1
    for length in range(5, len(full)):
        with pytest.raises(PwgRasterError, match="truncated"):
            list(iter_pages(full[:length]))


def test_a_file_with_only_the_sync_word_has_no_pages() -> None:
    with pytest.raises(PwgRasterError, match="no pages"):
        list(iter_pages(b"RaS2"))


@pytest.mark.parametrize("start", [b"RaS3", b"2SaR", b"%PDF", b"", b"Ra"])
def test_a_wrong_sync_word_is_refused(start: bytes) -> None:
    with pytest.raises(PwgRasterError, match="not a PWG raster file"):
        list(iter_pages(start + header(8, 1) + bytes([0, 7, 0])))


def test_a_header_without_its_name_is_refused() -> None:
    broken = b"CupsRaster" + header(8, 1)[10:]
    with pytest.raises(PwgRasterError, match="no valid page header"):
        list(iter_pages(stream(broken + bytes([0, 7, 0]))))


def test_a_run_past_the_end_of_the_line_is_refused() -> None:
    with pytest.raises(PwgRasterError, match="past the end of the line on page 1, line 2"):
        list(iter_pages(stream(header(8, 2) + bytes([0, 7, 1, 0, 8, 1]))))


def test_lines_repeating_past_the_end_of_the_page_are_refused() -> None:
    with pytest.raises(PwgRasterError, match="past the end of the page"):
        list(iter_pages(stream(header(8, 2) + bytes([2, 7, 1]))))


@pytest.mark.parametrize(
    ("width", "height"), [(30_001, 10), (10, 1_000_000), (0, 10), (10, 0), (20_000, 20_000)]
)
def test_absurd_sizes_are_refused_before_allocating(width: int, height: int) -> None:
    data = stream(header(width, height, space=SRGB) + bytes([255, 127, 0, 0, 0]))
    tracemalloc.start()
    try:
        with pytest.raises(PwgRasterLimitError):
            list(iter_pages(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # the claimed page would need up to 1.2 GB


def test_a_limit_error_is_reported_as_a_conversion_limit() -> None:
    from faxgate.convert.errors import ConversionLimitError

    assert issubclass(PwgRasterLimitError, ConversionLimitError)


@pytest.mark.parametrize(
    ("space", "bits", "match"),
    [(CMYK, 8, "colour space 6"), (SRGB, 1, "not supported"), (SGRAY, 4, "not supported")],
)
def test_unsupported_formats_say_what_they_are(space: int, bits: int, match: str) -> None:
    with pytest.raises(PwgRasterError, match=match):
        list(iter_pages(stream(header(8, 1, space=space, bits=bits) + bytes([0, 7, 0]))))


def test_inconsistent_line_length_is_refused() -> None:
    with pytest.raises(PwgRasterError, match="line length"):
        list(iter_pages(stream(header(8, 1, bytes_per_line=9) + bytes([0, 8, 0]))))


def test_impossible_resolution_is_refused() -> None:
    with pytest.raises(PwgRasterError, match="resolution of 0 x 300"):
        list(iter_pages(stream(header(8, 1, dpi=(0, 300)) + bytes([0, 7, 0]))))


def _black_page(width: int, height: int, dpi: tuple[int, int], ink_rows: range) -> bytes:
    """A 1-bit black page, white except full-width ink on `ink_rows`."""
    line_bytes = (width + 7) // 8
    body = bytearray()
    row = 0
    while row < height:
        is_ink = row in ink_rows
        span = 1
        while row + span < height and span < 256 and ((row + span) in ink_rows) == is_ink:
            span += 1
        body += bytes([span - 1])
        remaining = line_bytes
        while remaining:
            count = min(128, remaining)
            body += bytes([count - 1, 0xFF if is_ink else 0x00])
            remaining -= count
        row += span
    return header(width, height, space=BLACK, bits=1, dpi=dpi) + bytes(body)


def test_a_page_printed_at_fax_resolution_keeps_every_pixel() -> None:
    data = stream(_black_page(1728, 2290, (204, 196), range(100, 103)))
    (page,) = list(iter_pages(data))
    (ink,) = page_ink_images(page, FaxPageOptions())
    assert ink.size == (1728, 2290)
    rows_with_ink = [y for y in range(ink.height) if ink.getpixel((5, y))]
    assert rows_with_ink == [100, 101, 102]


def test_a_300_dpi_letter_page_is_scaled_to_the_fax_width() -> None:
    data = stream(_black_page(2550, 3300, (300, 300), range(1500, 1530)))
    (page,) = list(iter_pages(data))
    (fine,) = page_ink_images(page, FaxPageOptions())
    (normal,) = page_ink_images(page, FaxPageOptions(resolution=Resolution.NORMAL))
    assert fine.size == (1728, 2149)  # 11 in at 196 lines, 8.5 in wide scaled to 8.47 in
    assert normal.size == (1728, 1074)
    # a 30-line band at 300 dpi is about 20 lines at 196 and 10 at 98, at the same height
    assert 18 <= sum(1 for y in range(fine.height) if fine.getpixel((800, y))) <= 21
    assert 8 <= sum(1 for y in range(normal.height) if normal.getpixel((800, y))) <= 11
    assert fine.getpixel((800, round(1515 * 196 / 300 * 8.47 / 8.5)))


def test_a_landscape_page_is_turned_to_portrait() -> None:
    # a white A4 landscape page: 2480 lines = 9 x 256 + 176, each 27 x 128 + 52 = 3508 pixels
    line = bytes([127, 0xFF] * 27 + [51, 0xFF])
    body = (bytes([255]) + line) * 9 + bytes([175]) + line
    (page,) = list(iter_pages(stream(header(3508, 2480) + body)))
    (ink,) = page_ink_images(page, FaxPageOptions())
    assert ink.width == 1728
    assert ink.height > ink.width  # portrait now
    assert ink.getbbox() is None  # and still blank


def test_decoded_images_carry_the_header_resolution() -> None:
    (page,) = list(iter_pages(stream(header(4, 1, dpi=(150, 150)) + bytes([0, 3, 0]))))
    assert isinstance(page.image, Image.Image)
    assert page.header.size_inches == (4 / 150, 1 / 150)


_SAMPLE = stream(
    header(8, 4) + bytes([1, 0xFD, 1, 2, 3, 4, 3, 5, 1, 7, 9]),
    header(3, 2, space=SRGB, bits=16) + bytes([1, 2, *range(6)]),
    header(16, 2, space=BLACK, bits=1) + bytes([1, 1, 0x5A]),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(_SAMPLE) - 1), st.integers(0, 255)), max_size=8),
    st.one_of(st.none(), st.integers(0, len(_SAMPLE))),
)
def test_damaged_streams_raise_only_pwg_raster_errors(
    edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(_SAMPLE)
    for position, value in edits:
        data[position] = value
    try:
        for page in iter_pages(bytes(data[:cut] if cut is not None else data)):
            assert page.image.size == (page.header.width, page.header.height)
    except PwgRasterError:
        pass


def test_the_fuzzing_sample_is_a_valid_three_page_stream() -> None:
    assert [page.image.mode for page in iter_pages(_SAMPLE)] == ["L", "RGB", "1"]
