"""PWG Raster Format (PWG 5102.4) decoder: what IPP Everywhere clients print.

A file is the sync word `RaS2`, then per page a 1796-byte header (big-endian integers at fixed
offsets) and the page's pixels, compressed line by line:

- one byte *line repeat*: the line that follows is used `n + 1` times;
- then, until the line is full, a byte `n`: 0-127 means the next pixel is repeated `n + 1`
  times, 128-255 that `257 - n` literal pixels follow. A "pixel" is `BitsPerPixel / 8` bytes,
  or one byte (8 or more pixels) when BitsPerPixel is below 8.

Supported are the colour spaces a client sends to a fax printer: sGray and black at 1, 8 and
16 bits, sRGB (and RGB, AdobeRGB, read as sRGB) at 8 and 16 bits per colour. Decoding is pure
(bytes in, Pillow images out); every size is checked before anything is allocated, and a
damaged file raises `PwgRasterError` saying which page and line. `page_ink_images` places a
decoded page on fax paper with the pipeline's own layout (`bilevel`), trusting the header's
HWResolution, which, unlike the resolution tags of image files, a raster client always fills in.
"""

from __future__ import annotations

import enum
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from faxgate.convert.bilevel import gray_to_ink, place_on_fax_width, plan_page, split_long_page
from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.options import FAX_WIDTH_PX, FaxPageOptions
from faxgate.errors import ConversionError

SYNC_WORD = b"RaS2"
HEADER_BYTES = 1796
#: The first field of every page header (the rest of its 64 bytes are NULs).
HEADER_NAME = b"PwgRaster\x00"

#: A side longer than this is not a page (24 inches at 1200 dpi is 28 800).
MAX_SIDE_PX = 30_000
#: The decoded pixels of one page may take at most this much memory (A4 sRGB at 600 dpi: 100 MB).
MAX_PAGE_BYTES = 192 * 1024 * 1024
#: Resolutions outside this range (dpi) are not something a client prints with.
DPI_RANGE = (50, 2400)

_INVERT_BYTES = bytes(255 - value for value in range(256))


class PwgRasterError(ConversionError):
    """The PWG raster data is damaged or uses something this decoder does not read."""


class PwgRasterLimitError(ConversionLimitError, PwgRasterError):
    """A page header asks for a page larger than any fax page could use."""


class ColorSpace(enum.IntEnum):
    """PWG 5102.4 ColorSpace values this decoder reads."""

    RGB = 1
    BLACK = 3
    SGRAY = 18
    SRGB = 19
    ADOBE_RGB = 20


_GRAY_SPACES = (ColorSpace.BLACK, ColorSpace.SGRAY)
_RGB_SPACES = (ColorSpace.RGB, ColorSpace.SRGB, ColorSpace.ADOBE_RGB)

# Header field offsets (PWG 5102.4 section 4.3), from the start of the 1796-byte header.
_HW_RESOLUTION = 276
_PAGE_SIZE = 352
_WIDTH = 372
_HEIGHT = 376
_BITS_PER_COLOR = 384
_BITS_PER_PIXEL = 388
_BYTES_PER_LINE = 392
_COLOR_ORDER = 396
_COLOR_SPACE = 400
_NUM_COLORS = 420


@dataclass(frozen=True)
class PwgPageHeader:
    """The fields of a page header the decoder uses."""

    width: int
    height: int
    x_dpi: int
    y_dpi: int
    bits_per_color: int
    bits_per_pixel: int
    bytes_per_line: int
    color_space: ColorSpace
    page_size_points: tuple[int, int]

    @property
    def pixel_unit(self) -> int:
        """Bytes per compression unit: one pixel, or one byte when pixels are smaller."""
        return max(1, self.bits_per_pixel // 8)

    @property
    def size_inches(self) -> tuple[float, float]:
        """The page's physical size, from its pixels and resolution."""
        return self.width / self.x_dpi, self.height / self.y_dpi


@dataclass(frozen=True)
class PwgPage:
    """One decoded page: its header and its pixels as a Pillow image ("1", "L" or "RGB")."""

    number: int
    header: PwgPageHeader
    image: Image.Image


def _u32(raw: bytes, offset: int) -> int:
    value: int = struct.unpack_from(">I", raw, offset)[0]
    return value


def parse_header(raw: bytes, page_number: int) -> PwgPageHeader:
    """Read and check one 1796-byte page header; nothing is allocated for the page yet."""
    if len(raw) != HEADER_BYTES:
        raise PwgRasterError(
            f"the PWG raster file is truncated in the header of page {page_number}"
        )
    if not raw.startswith(HEADER_NAME):
        raise PwgRasterError(f"page {page_number} of the PWG raster file has no valid page header")
    width, height = _u32(raw, _WIDTH), _u32(raw, _HEIGHT)
    x_dpi, y_dpi = _u32(raw, _HW_RESOLUTION), _u32(raw, _HW_RESOLUTION + 4)
    bits_per_color, bits_per_pixel = _u32(raw, _BITS_PER_COLOR), _u32(raw, _BITS_PER_PIXEL)
    bytes_per_line = _u32(raw, _BYTES_PER_LINE)
    where = f"page {page_number} of the PWG raster file"
    if not (0 < width <= MAX_SIDE_PX and 0 < height <= MAX_SIDE_PX):
        raise PwgRasterLimitError(f"{where} is {width} x {height} pixels: not a printable page")
    if not (DPI_RANGE[0] <= x_dpi <= DPI_RANGE[1] and DPI_RANGE[0] <= y_dpi <= DPI_RANGE[1]):
        raise PwgRasterError(f"{where} has an impossible resolution of {x_dpi} x {y_dpi} dpi")
    try:
        color_space = ColorSpace(_u32(raw, _COLOR_SPACE))
    except ValueError:
        raise PwgRasterError(
            f"{where} uses colour space {_u32(raw, _COLOR_SPACE)}; print in grey, black or sRGB"
        ) from None
    colors = 1 if color_space in _GRAY_SPACES else 3
    supported_bits = (1, 8, 16) if colors == 1 else (8, 16)
    if (
        bits_per_color not in supported_bits
        or bits_per_pixel != bits_per_color * colors
        or _u32(raw, _COLOR_ORDER) != 0  # chunky: the only order PWG raster allows
        or _u32(raw, _NUM_COLORS) not in (0, colors)
    ):
        raise PwgRasterError(
            f"{where} has {bits_per_color} bits per colour and {bits_per_pixel} per pixel "
            f"in {color_space.name.lower()}, which is not supported"
        )
    if bytes_per_line != (width * bits_per_pixel + 7) // 8:
        raise PwgRasterError(f"{where} has an inconsistent line length")
    if bytes_per_line * height > MAX_PAGE_BYTES:
        raise PwgRasterLimitError(f"{where} is {width} x {height} pixels: too large to convert")
    return PwgPageHeader(
        width=width,
        height=height,
        x_dpi=x_dpi,
        y_dpi=y_dpi,
        bits_per_color=bits_per_color,
        bits_per_pixel=bits_per_pixel,
        bytes_per_line=bytes_per_line,
        color_space=color_space,
        page_size_points=(_u32(raw, _PAGE_SIZE), _u32(raw, _PAGE_SIZE + 4)),
    )


def decode_pixels(
    data: memoryview, offset: int, header: PwgPageHeader, page_number: int
) -> tuple[bytearray, int]:
    """Decompress one page's pixels starting at `offset`; returns them and the offset after."""
    line_bytes, unit, height = header.bytes_per_line, header.pixel_unit, header.height
    pixels = bytearray(line_bytes * height)
    end = len(data)
    position, row = offset, 0
    while row < height:
        where = f"on page {page_number}, line {row + 1}"
        if position >= end:
            raise PwgRasterError(f"the PWG raster file is truncated {where}")
        repeat = data[position] + 1
        position += 1
        start = row * line_bytes
        filled = 0
        while filled < line_bytes:
            if position >= end:
                raise PwgRasterError(f"the PWG raster file is truncated {where}")
            code = data[position]
            position += 1
            if code < 128:
                count = (code + 1) * unit
                chunk = bytes(data[position : position + unit]) * (code + 1)
                position += unit
            else:
                count = (257 - code) * unit
                chunk = bytes(data[position : position + count])
                position += count
            if position > end:
                raise PwgRasterError(f"the PWG raster file is truncated {where}")
            if filled + count > line_bytes:
                raise PwgRasterError(f"a run goes past the end of the line {where}")
            pixels[start + filled : start + filled + count] = chunk
            filled += count
        if row + repeat > height:
            raise PwgRasterError(f"lines repeat past the end of the page {where}")
        if repeat > 1:
            line = pixels[start : start + line_bytes]
            pixels[start + line_bytes : start + repeat * line_bytes] = line * (repeat - 1)
        row += repeat
    return pixels, position


def pixels_to_image(header: PwgPageHeader, pixels: bytearray) -> Image.Image:
    """The decoded pixels as a Pillow image: "1" or "L" (255 = white) or "RGB", dpi set."""
    size = (header.width, header.height)
    data: bytes | bytearray = pixels
    if header.bits_per_color == 16:
        data = pixels[0::2]  # big-endian samples: the high bytes are an 8-bit image
    black = header.color_space is ColorSpace.BLACK  # 1 / 255 = ink, where sGray has 0 = black
    if header.bits_per_color == 1:
        image = Image.frombytes("1", size, data, "raw", "1;I" if black else "1")
    elif header.color_space in _GRAY_SPACES:
        image = Image.frombytes("L", size, data, "raw", "L;I" if black else "L")
    else:
        image = Image.frombytes("RGB", size, data)
    image.info["dpi"] = (float(header.x_dpi), float(header.y_dpi))
    return image


def iter_pages(data: bytes | bytearray | memoryview | mmap.mmap) -> Iterator[PwgPage]:
    """Decode a PWG raster stream page by page (each page is checked before it is allocated)."""
    view = data if isinstance(data, memoryview) else memoryview(data)
    if len(view) < len(SYNC_WORD) or bytes(view[: len(SYNC_WORD)]) != SYNC_WORD:
        raise PwgRasterError("not a PWG raster file (it does not start with RaS2)")
    position, number = len(SYNC_WORD), 0
    while position < len(view):
        number += 1
        header = parse_header(bytes(view[position : position + HEADER_BYTES]), number)
        pixels, position = decode_pixels(view, position + HEADER_BYTES, header, number)
        yield PwgPage(number, header, pixels_to_image(header, pixels))
    if number == 0:
        raise PwgRasterError("the PWG raster file has no pages")


def read_pages(path: Path) -> Iterator[PwgPage]:
    """The pages of a PWG raster file, read through a memory map (a long job is not loaded)."""
    with path.open("rb") as stream:
        if path.stat().st_size == 0:
            raise PwgRasterError("the PWG raster file is empty")
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                yield from iter_pages(view)
            finally:
                view.release()


def page_ink_images(page: PwgPage, options: FaxPageOptions) -> list[Image.Image]:
    """One decoded page as fax-width ink images (mode "1", ink = 1), long pages split."""
    width_in, height_in = page.header.size_inches
    plan = plan_page(width_in, height_in, options)
    image = page.image
    if (
        image.mode == "1"
        and image.width == FAX_WIDTH_PX
        and image.height == plan.height_px
        and not plan.rotate
    ):
        # Printed at the fax resolution already: keep every pixel.
        ink = Image.frombytes("1", image.size, image.tobytes().translate(_INVERT_BYTES))
        return split_long_page(ink, options.y_dpi)
    gray = image.convert("L")
    if plan.rotate:
        gray = gray.transpose(Image.Transpose.ROTATE_270)  # clockwise, as for other documents
    gray = gray.resize((plan.width_px, plan.height_px), Image.Resampling.BOX, reducing_gap=3.0)
    pieces = split_long_page(gray_to_ink(gray), options.y_dpi)
    return [place_on_fax_width(piece, plan.left_px) for piece in pieces]


def pwg_ink_images(path: Path, options: FaxPageOptions) -> Iterator[Image.Image]:
    """The ink images of every page of a PWG raster file, for `g4.encode_images`."""
    for page in read_pages(path):
        yield from page_ink_images(page, options)
