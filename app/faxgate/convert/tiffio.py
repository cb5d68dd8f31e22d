"""Fax TIFF files (TIFF class F): read pages as raw coded data, write and merge without re-coding.

Pillow (libtiff) does the CCITT coding; this module owns the container, because class F wants
things Pillow does not do by itself cheaply: min-is-white photometry (Pillow inverts 1-bit images
pixel by pixel in Python for that), one strip per page, PageNumber on every page, and merging
several files by copying their coded strips.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from faxgate.convert.options import FAX_WIDTH_PX, FAX_X_DPI, Compression, FaxPageOptions
from faxgate.errors import ConversionError

# TIFF tag numbers used here (TIFF 6.0 and RFC 2306 "TIFF-F").
TAG_NEW_SUBFILE_TYPE = 254
TAG_WIDTH = 256
TAG_LENGTH = 257
TAG_BITS_PER_SAMPLE = 258
TAG_COMPRESSION = 259
TAG_PHOTOMETRIC = 262
TAG_FILL_ORDER = 266
TAG_STRIP_OFFSETS = 273
TAG_SAMPLES_PER_PIXEL = 277
TAG_ROWS_PER_STRIP = 278
TAG_STRIP_BYTE_COUNTS = 279
TAG_X_RESOLUTION = 282
TAG_Y_RESOLUTION = 283
TAG_T4_OPTIONS = 292
TAG_T6_OPTIONS = 293
TAG_RESOLUTION_UNIT = 296
TAG_PAGE_NUMBER = 297

COMPRESSION_CCITT_T4 = 3
COMPRESSION_CCITT_T6 = 4
PHOTOMETRIC_MIN_IS_WHITE = 0
T4_OPTION_2D = 1
T4_OPTION_FILL_BITS = 4
RESOLUTION_UNIT_INCH = 2
RESOLUTION_UNIT_CM = 3

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_TYPE_FORMATS = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 11: "f", 12: "d"}


@dataclass(frozen=True)
class FaxPage:
    """One page as coded data: what spandsp sends and what a PDF can embed unchanged."""

    width: int
    height: int
    x_dpi: float
    y_dpi: float
    compression: int  # TIFF code: 3 = T.4 (G3), 4 = T.6 (G4)
    t4_options: int
    fill_order: int
    data: bytes


@dataclass(frozen=True)
class TiffPageInfo:
    """What a TIFF directory says about one page (any TIFF, not only fax ones)."""

    width: int
    height: int
    bits_per_sample: int
    samples_per_pixel: int
    compression: int
    photometric: int | None
    x_dpi: float | None
    y_dpi: float | None
    strip_count: int
    t4_options: int
    fill_order: int

    def is_fax_page(self, options: FaxPageOptions | None = None) -> bool:
        """True if spandsp can send this page as it is (and, given options, at that format)."""
        fits = (
            self.width == FAX_WIDTH_PX
            and self.bits_per_sample == 1
            and self.samples_per_pixel == 1
            and self.compression in (COMPRESSION_CCITT_T4, COMPRESSION_CCITT_T6)
            and self.photometric == PHOTOMETRIC_MIN_IS_WHITE
            and self.strip_count == 1
            and self.x_dpi is not None
            and round(self.x_dpi) == FAX_X_DPI
            and self.y_dpi is not None
            and round(self.y_dpi) in (98, 196)
        )
        if not fits or options is None:
            return fits
        return round(self.y_dpi or 0) == options.y_dpi and _compression_matches(self, options)


def _compression_matches(info: TiffPageInfo, options: FaxPageOptions) -> bool:
    if options.compression is Compression.G4:
        return info.compression == COMPRESSION_CCITT_T6
    two_d = bool(info.t4_options & T4_OPTION_2D)
    wanted_two_d = options.compression is Compression.G3_2D
    return info.compression == COMPRESSION_CCITT_T4 and two_d == wanted_two_d


class _TiffReader:
    """Walks the directories of a classic (not Big) TIFF held in memory."""

    def __init__(self, data: bytes) -> None:
        if data[:4] == b"II*\x00":
            self.order = "<"
        elif data[:4] == b"MM\x00*":
            self.order = ">"
        else:
            raise ConversionError("the file is not a TIFF image")
        self.data = data

    def directories(self) -> Iterable[dict[int, tuple[int, ...]]]:
        (offset,) = struct.unpack_from(self.order + "I", self.data, 4)
        seen: set[int] = set()
        while offset and offset not in seen:
            seen.add(offset)  # a loop of directories is a known malformed-TIFF trick
            if offset + 2 > len(self.data):
                raise ConversionError("the TIFF image is truncated")
            (count,) = struct.unpack_from(self.order + "H", self.data, offset)
            entries: dict[int, tuple[int, ...]] = {}
            for index in range(count):
                tag, value = self._entry(offset + 2 + 12 * index)
                entries[tag] = value
            yield entries
            (offset,) = struct.unpack_from(self.order + "I", self.data, offset + 2 + 12 * count)

    def _entry(self, position: int) -> tuple[int, tuple[int, ...]]:
        try:
            tag, kind, count = struct.unpack_from(self.order + "HHI", self.data, position)
            size = _TYPE_SIZES.get(kind, 1) * count
            if size <= 4:
                value_at = position + 8
            else:
                (value_at,) = struct.unpack_from(self.order + "I", self.data, position + 8)
            if kind in (5, 10):  # RATIONAL: keep numerator/denominator pairs flattened
                fmt = "I" if kind == 5 else "i"
                values = struct.unpack_from(f"{self.order}{2 * count}{fmt}", self.data, value_at)
            elif kind in _TYPE_FORMATS:
                fmt = _TYPE_FORMATS[kind]
                values = struct.unpack_from(f"{self.order}{count}{fmt}", self.data, value_at)
            else:
                values = ()
        except struct.error as exc:
            raise ConversionError("the TIFF image is damaged (a directory entry is cut)") from exc
        return tag, tuple(int(v) for v in values)


def _resolution(entries: dict[int, tuple[int, ...]], tag: int) -> float | None:
    value = entries.get(tag)
    if not value or len(value) < 2 or value[1] == 0:
        return None
    dpi = value[0] / value[1]
    if entries.get(TAG_RESOLUTION_UNIT, (RESOLUTION_UNIT_INCH,))[0] == RESOLUTION_UNIT_CM:
        dpi *= 2.54
    return dpi


def _page_info(entries: dict[int, tuple[int, ...]]) -> TiffPageInfo:
    def first(tag: int, default: int) -> int:
        value = entries.get(tag)
        return value[0] if value else default

    photometric = entries.get(TAG_PHOTOMETRIC)
    return TiffPageInfo(
        width=first(TAG_WIDTH, 0),
        height=first(TAG_LENGTH, 0),
        bits_per_sample=first(TAG_BITS_PER_SAMPLE, 1),
        samples_per_pixel=first(TAG_SAMPLES_PER_PIXEL, 1),
        compression=first(TAG_COMPRESSION, 1),
        photometric=photometric[0] if photometric else None,
        x_dpi=_resolution(entries, TAG_X_RESOLUTION),
        y_dpi=_resolution(entries, TAG_Y_RESOLUTION),
        strip_count=len(entries.get(TAG_STRIP_OFFSETS, ())),
        t4_options=first(TAG_T4_OPTIONS, 0),
        fill_order=first(TAG_FILL_ORDER, 1),
    )


def inspect_tiff(source: Path | bytes) -> list[TiffPageInfo]:
    """One `TiffPageInfo` per page of a TIFF file, without decoding any image data."""
    data = source.read_bytes() if isinstance(source, Path) else source
    return [_page_info(entries) for entries in _TiffReader(data).directories()]


def read_fax_pages(source: Path | bytes) -> list[FaxPage]:
    """The coded pages of a fax TIFF (CCITT, 1 bit, min-is-white, one strip) without decoding."""
    data = source.read_bytes() if isinstance(source, Path) else source
    pages = []
    for entries in _TiffReader(data).directories():
        info = _page_info(entries)
        if not info.is_fax_page():
            raise ConversionError(
                "the TIFF image is not a fax page (TIFF class F) that can be copied"
            )
        offset = entries[TAG_STRIP_OFFSETS][0]
        length = entries[TAG_STRIP_BYTE_COUNTS][0]
        if offset + length > len(data):
            raise ConversionError("the TIFF image is truncated")
        pages.append(
            FaxPage(
                width=info.width,
                height=info.height,
                x_dpi=info.x_dpi or FAX_X_DPI,
                y_dpi=info.y_dpi or 196,
                compression=info.compression,
                t4_options=info.t4_options,
                fill_order=info.fill_order,
                data=data[offset : offset + length],
            )
        )
    return pages


def encode_page(image: Image.Image, options: FaxPageOptions) -> FaxPage:
    """Code an *ink image* as G4 or G3 at the options' format.

    An ink image is Pillow mode "1" with ink = 1 and paper = 0, the pipeline's internal page
    convention (see `faxgate.convert.bilevel`).
    """
    if image.mode != "1":
        raise ValueError("encode_page needs a bilevel (mode '1') image")
    # Pillow stores the bits as they are and labels them min-is-black; libtiff's CCITT coder codes
    # 0 bits as white runs. With ink = 1 the coded runs are those of a min-is-white page, which
    # is how `fax_tiff_bytes` labels them; no pixel is touched in Python (Pillow's own
    # min-is-white path inverts pixel by pixel, and ImageChops.invert is wrong for mode "1").
    info: dict[int, int] = {TAG_ROWS_PER_STRIP: image.height}
    if options.compression is Compression.G4:
        compression = "group4"
    else:
        compression = "group3"
        two_d = T4_OPTION_2D if options.compression is Compression.G3_2D else 0
        info[TAG_T4_OPTIONS] = T4_OPTION_FILL_BITS | two_d
    buffer = io.BytesIO()
    image.save(buffer, "TIFF", compression=compression, tiffinfo=info)
    raw = buffer.getvalue()
    (entries,) = list(_TiffReader(raw).directories())[:1]
    offset = entries[TAG_STRIP_OFFSETS][0]
    length = entries[TAG_STRIP_BYTE_COUNTS][0]
    return FaxPage(
        width=image.width,
        height=image.height,
        x_dpi=FAX_X_DPI,
        y_dpi=options.y_dpi,
        compression=COMPRESSION_CCITT_T6
        if options.compression is Compression.G4
        else COMPRESSION_CCITT_T4,
        t4_options=info.get(TAG_T4_OPTIONS, 0),
        fill_order=1,
        data=raw[offset : offset + length],
    )


def fax_tiff_bytes(pages: Sequence[FaxPage]) -> bytes:
    """A little-endian TIFF class F file holding `pages` in order."""
    if not pages:
        raise ConversionError("the document has no pages")
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    previous_next_pointer = 4
    for number, page in enumerate(pages):
        data_offset = len(out)
        out += page.data
        if len(out) % 2:
            out += b"\x00"
        rationals_offset = len(out)
        out += struct.pack("<4I", round(page.x_dpi * 100), 100, round(page.y_dpi * 100), 100)
        entries = [
            (TAG_NEW_SUBFILE_TYPE, 4, 1, 2),  # 2 = one page of a multi-page document
            (TAG_WIDTH, 4, 1, page.width),
            (TAG_LENGTH, 4, 1, page.height),
            (TAG_BITS_PER_SAMPLE, 3, 1, 1),
            (TAG_COMPRESSION, 3, 1, page.compression),
            (TAG_PHOTOMETRIC, 3, 1, PHOTOMETRIC_MIN_IS_WHITE),
            (TAG_FILL_ORDER, 3, 1, page.fill_order),
            (TAG_STRIP_OFFSETS, 4, 1, data_offset),
            (TAG_SAMPLES_PER_PIXEL, 3, 1, 1),
            (TAG_ROWS_PER_STRIP, 4, 1, page.height),
            (TAG_STRIP_BYTE_COUNTS, 4, 1, len(page.data)),
            (TAG_X_RESOLUTION, 5, 1, rationals_offset),
            (TAG_Y_RESOLUTION, 5, 1, rationals_offset + 8),
            (
                TAG_T4_OPTIONS if page.compression == COMPRESSION_CCITT_T4 else TAG_T6_OPTIONS,
                4,
                1,
                page.t4_options if page.compression == COMPRESSION_CCITT_T4 else 0,
            ),
            (TAG_RESOLUTION_UNIT, 3, 1, RESOLUTION_UNIT_INCH),
        ]
        directory_offset = len(out)
        struct.pack_into("<I", out, previous_next_pointer, directory_offset)
        out += struct.pack("<H", len(entries) + 1)
        for tag, kind, count, value in entries:
            packed = (
                struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
            )
            out += struct.pack("<HHI", tag, kind, count) + packed
        # PageNumber: two SHORTs, page index and total, both fit in the entry.
        out += struct.pack("<HHIHH", TAG_PAGE_NUMBER, 3, 2, number, len(pages))
        previous_next_pointer = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)


def write_fax_tiff(pages: Sequence[FaxPage], destination: Path, *, durable: bool = True) -> None:
    """Write `pages` as a TIFF class F file, appearing atomically at `destination`.

    `durable=False` skips the fsync (a converter's output in its scratch directory: the runner
    makes the copy it keeps durable).
    """
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    with temporary.open("wb") as stream:
        stream.write(fax_tiff_bytes(pages))
        if durable:
            stream.flush()
            os.fsync(stream.fileno())
    temporary.replace(destination)


def merge_fax_tiffs(sources: Sequence[Path], destination: Path) -> int:
    """Concatenate fax TIFFs into one (cover page first, then documents); returns the page count.

    The coded data is copied, not decoded: merging is lossless and fast. Every source must be a
    fax TIFF (as the pipeline writes them); resolutions may differ between pages.
    """
    pages: list[FaxPage] = []
    for source in sources:
        pages.extend(read_fax_pages(source))
    write_fax_tiff(pages, destination)
    return len(pages)


def decode_page(page: FaxPage) -> Image.Image:
    """The bilevel image of a coded page (0 = black), through Pillow's libtiff decoder."""
    with Image.open(io.BytesIO(fax_tiff_bytes([page]))) as image:
        image.load()
        return image.convert("1") if image.mode != "1" else image.copy()
