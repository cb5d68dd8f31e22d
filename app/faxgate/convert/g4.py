"""CCITT coding of packed bilevel pages with the system libtiff, through ctypes.

Pillow's TIFF writer unpacks and repacks every 1-bit row and costs about twice what libtiff's
coder itself does; on a fax page that is the largest single cost of the pipeline. Here packed
rows (1 = ink, most significant bit first, as min-is-white fax data has them) go to libtiff in
one `TIFFWriteEncodedStrip` call per page, in a thread of its own while the caller renders the
next page. Without the system libtiff the pages are coded through Pillow instead (same result,
slower).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import itertools
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.options import FAX_X_DPI, Compression, FaxPageOptions
from faxgate.convert.tiffio import (
    COMPRESSION_CCITT_T4,
    COMPRESSION_CCITT_T6,
    PHOTOMETRIC_MIN_IS_WHITE,
    RESOLUTION_UNIT_INCH,
    T4_OPTION_2D,
    T4_OPTION_FILL_BITS,
    TAG_BITS_PER_SAMPLE,
    TAG_COMPRESSION,
    TAG_FILL_ORDER,
    TAG_LENGTH,
    TAG_PHOTOMETRIC,
    TAG_RESOLUTION_UNIT,
    TAG_ROWS_PER_STRIP,
    TAG_SAMPLES_PER_PIXEL,
    TAG_T4_OPTIONS,
    TAG_T6_OPTIONS,
    TAG_WIDTH,
    TAG_X_RESOLUTION,
    TAG_Y_RESOLUTION,
    FaxPage,
    encode_page,
    read_fax_pages,
    write_fax_tiff,
)
from faxgate.errors import ConversionError

TAG_PLANAR_CONFIG = 284


@dataclass(frozen=True)
class PackedPage:
    """A bilevel page as packed rows: `width` must be a multiple of 8, 1 bits are ink."""

    data: bytes
    width: int
    height: int


@functools.cache
def _libtiff() -> Any | None:
    library = None
    # The soname first: find_library runs `ldconfig -p` in a subprocess, a cost at every start.
    for name in ("libtiff.so.6", "libtiff.so.5", None):
        if name is None:
            name = ctypes.util.find_library("tiff")
            if name is None:
                break
        try:
            library = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if library is None:
        return None
    library.TIFFOpen.restype = ctypes.c_void_p
    library.TIFFOpen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    library.TIFFWriteEncodedStrip.restype = ctypes.c_ssize_t
    library.TIFFWriteEncodedStrip.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_char_p,
        ctypes.c_ssize_t,
    ]
    library.TIFFWriteDirectory.argtypes = [ctypes.c_void_p]
    library.TIFFClose.argtypes = [ctypes.c_void_p]
    library.TIFFSetField.restype = ctypes.c_int
    return library


def libtiff_available() -> bool:
    """True when the system libtiff can be used for coding."""
    return _libtiff() is not None


def _set(library: Any, tiff: int, tag: int, *values: ctypes._SimpleCData[Any]) -> None:
    # TIFFSetField is variadic: integers travel as C ints, resolutions as doubles.
    if library.TIFFSetField(ctypes.c_void_p(tiff), ctypes.c_uint32(tag), *values) != 1:
        raise ConversionError(f"libtiff refused TIFF tag {tag}")


def _write_page(library: Any, tiff: int, page: PackedPage, options: FaxPageOptions) -> None:
    _set(library, tiff, TAG_WIDTH, ctypes.c_uint32(page.width))
    _set(library, tiff, TAG_LENGTH, ctypes.c_uint32(page.height))
    _set(library, tiff, TAG_BITS_PER_SAMPLE, ctypes.c_int(1))
    _set(library, tiff, TAG_SAMPLES_PER_PIXEL, ctypes.c_int(1))
    _set(library, tiff, TAG_PLANAR_CONFIG, ctypes.c_int(1))
    _set(library, tiff, TAG_PHOTOMETRIC, ctypes.c_int(PHOTOMETRIC_MIN_IS_WHITE))
    _set(library, tiff, TAG_FILL_ORDER, ctypes.c_int(1))
    _set(library, tiff, TAG_ROWS_PER_STRIP, ctypes.c_uint32(page.height))
    _set(library, tiff, TAG_X_RESOLUTION, ctypes.c_double(FAX_X_DPI))
    _set(library, tiff, TAG_Y_RESOLUTION, ctypes.c_double(options.y_dpi))
    _set(library, tiff, TAG_RESOLUTION_UNIT, ctypes.c_int(RESOLUTION_UNIT_INCH))
    if options.compression is Compression.G4:
        _set(library, tiff, TAG_COMPRESSION, ctypes.c_int(COMPRESSION_CCITT_T6))
        _set(library, tiff, TAG_T6_OPTIONS, ctypes.c_uint32(0))
    else:
        two_d = T4_OPTION_2D if options.compression is Compression.G3_2D else 0
        _set(library, tiff, TAG_COMPRESSION, ctypes.c_int(COMPRESSION_CCITT_T4))
        _set(library, tiff, TAG_T4_OPTIONS, ctypes.c_uint32(T4_OPTION_FILL_BITS | two_d))
    written = library.TIFFWriteEncodedStrip(tiff, 0, page.data, len(page.data))
    if written < 0 or library.TIFFWriteDirectory(tiff) != 1:
        raise ConversionError("cannot write the fax pages (libtiff failed to code a page)")


def _coding_thread_wanted() -> bool:
    # On a single core the two stages would only take turns.
    return len(os.sched_getaffinity(0)) >= 2


def _write_with_libtiff(
    library: Any, pages: Iterable[PackedPage], options: FaxPageOptions, path: Path
) -> int:
    tiff = library.TIFFOpen(str(path).encode(), b"w")
    if not tiff:
        raise ConversionError("cannot write the fax pages (libtiff could not open a file)")
    try:
        if not _coding_thread_wanted():
            count = 0
            for page in pages:
                _write_page(library, tiff, page, options)
                count += 1
            return count
        return _write_overlapped(library, tiff, pages, options)
    finally:
        library.TIFFClose(tiff)


def _write_overlapped(
    library: Any, tiff: int, pages: Iterable[PackedPage], options: FaxPageOptions
) -> int:
    """Code each page in a second thread while this one produces the next (PDFium renders).

    ctypes lets go of the GIL during PDFium's and libtiff's calls, which are nearly all of the
    work, so on two cores a document takes about as long as its slower stage instead of the sum
    of both. The queue is short: at most a few packed pages (0.5 MB each) wait.
    """
    handoff: queue.Queue[PackedPage | None] = queue.Queue(maxsize=2)
    failures: list[BaseException] = []

    def code() -> None:
        while (page := handoff.get()) is not None:
            if failures:
                continue  # drain until the producer notices and stops
            try:
                _write_page(library, tiff, page, options)
            except BaseException as exc:
                failures.append(exc)

    coder = threading.Thread(target=code, name="faxgate-g4", daemon=True)
    try:
        coder.start()
    except RuntimeError:  # no thread under a tight memory limit: code here instead
        count = 0
        for page in pages:
            _write_page(library, tiff, page, options)
            count += 1
        return count
    count = 0
    try:
        for page in pages:
            if failures:
                break
            handoff.put(page)
            count += 1
    finally:
        handoff.put(None)
        coder.join()
    if failures:
        raise failures[0]
    return count


def write_packed(pages: Iterable[PackedPage], options: FaxPageOptions, path: Path) -> int:
    """Code packed pages into a fax TIFF at `path` (not fsynced: a scratch file); returns the
    number of pages. `pages` may be a generator that renders as it goes: with libtiff, coding
    overlaps with it (see `_write_overlapped`)."""
    library = _libtiff()
    if library is None:
        coded = [encode_page(_ink_image(page), options) for page in pages]
        write_fax_tiff(coded, path, durable=False)
        return len(coded)
    return _write_with_libtiff(library, pages, options, path)


def encode_packed(
    pages: Iterable[PackedPage], options: FaxPageOptions, scratch: Path
) -> list[FaxPage]:
    """Code packed pages (G4 or G3 as the options say); `scratch` is a file path to use."""
    iterator = iter(pages)
    first = next(iterator, None)
    if first is None:
        return []
    write_packed(itertools.chain((first,), iterator), options, scratch)
    try:
        return read_fax_pages(scratch)
    finally:
        scratch.unlink(missing_ok=True)


def pack_ink(ink: Image.Image) -> PackedPage:
    """A Pillow ink image (mode "1", ink = 1) as packed rows."""
    if ink.mode != "1" or ink.width % 8:
        raise ValueError("pack_ink needs a mode '1' image whose width is a multiple of 8")
    return PackedPage(ink.tobytes(), ink.width, ink.height)


def encode_images(
    images: Iterable[Image.Image], options: FaxPageOptions, workdir: Path
) -> list[FaxPage]:
    """Code ink images (Pillow mode "1", ink = 1), checking the page limit as they come."""

    def packed() -> Iterator[PackedPage]:
        for count, image in enumerate(images, start=1):
            if count > options.page_limit:
                raise ConversionLimitError(
                    f"the document makes more than {options.page_limit} fax pages"
                )
            yield pack_ink(image)

    return encode_packed(packed(), options, workdir / "pages.tif")


def _ink_image(page: PackedPage) -> Image.Image:
    return Image.frombytes("1", (page.width, page.height), page.data)
