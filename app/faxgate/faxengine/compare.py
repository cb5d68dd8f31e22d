"""Compare the pages of a sent and a received fax TIFF, pixel for pixel.

When the sender prints a header line, spandsp adds it as extra rows above the page image
(32 rows at fine, 16 at normal resolution), so the received page is taller than the sent one by
exactly that band: the comparison skips those top rows of the received page.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageSequence

# No header band spandsp adds is taller than this (superfine doubles fine's 32 rows).
MAX_HEADER_ROWS = 64


def read_pages(tiff_path: Path) -> list[npt.NDArray[np.bool_]]:
    """Every page of a TIFF as a bilevel array, True for black."""
    pages: list[npt.NDArray[np.bool_]] = []
    with Image.open(tiff_path) as image:
        for frame in ImageSequence.Iterator(image):
            # "1" mode: 0 is black whatever the TIFF's photometric interpretation was.
            pages.append(np.asarray(frame.convert("1")) == 0)
    return pages


def page_equal(
    sent: npt.NDArray[np.bool_],
    received: npt.NDArray[np.bool_],
    header_rows: int | None = None,
) -> bool:
    """True when `received` shows exactly `sent`, below any header band.

    `header_rows=None` accepts a received page taller than the sent one by up to
    :data:`MAX_HEADER_ROWS` (a header line added above the image); a number skips that many top
    rows of both pages (a header printed over the image).
    """
    if sent.shape[1] != received.shape[1]:
        return False
    if header_rows is not None:
        if sent.shape != received.shape:
            return False
        return bool(np.array_equal(sent[header_rows:], received[header_rows:]))
    extra = received.shape[0] - sent.shape[0]
    if not 0 <= extra <= MAX_HEADER_ROWS:
        return False
    return bool(np.array_equal(sent, received[extra:]))


def pages_equal(sent_tiff: Path, received_tiff: Path, header_rows: int | None = None) -> list[bool]:
    """One entry per page of either file: True where the received page equals the sent one.

    A page missing on either side counts as unequal, so `all(pages_equal(a, b))` means "same
    number of pages, each identical".
    """
    sent = read_pages(sent_tiff)
    received = read_pages(received_tiff)
    results = [page_equal(s, r, header_rows) for s, r in zip(sent, received, strict=False)]
    return results + [False] * abs(len(sent) - len(received))
