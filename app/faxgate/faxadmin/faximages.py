"""Page images, thumbnails and downloads of faxes (received TIFFs and sent documents).

Each image is made once and kept beside its TIFF (`<name>.thumb.png`, `<name>.page-N.png`,
`<name>.pdf`), so a list of 50 faxes costs 50 file reads, not 50 renderings.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PIL import Image

from faxgate.errors import ConversionError, NotFoundError
from faxgate.spool.layout import Spool

PAGE_WIDTH = 850
THUMBNAIL_WIDTH = 200
# Two workers asking for the same image at once would both render it; harmless, but wasteful.
_render_lock = threading.Lock()


def spool_file(spool: Spool, stored: str | None, *folders: Path) -> Path:
    """A ledger path as a file inside the spool: absolute, relative to the spool root, or a
    bare name in one of `folders` (documents are stored as names in docq/)."""
    if not stored:
        raise NotFoundError("the fax has no file")
    root = spool.root.resolve()
    for candidate in spool.stored_candidates(stored, *folders):
        resolved = candidate.resolve()
        if root not in resolved.parents:
            raise NotFoundError("the fax file is outside the spool")
        if resolved.is_file():
            return resolved
    raise NotFoundError("the fax file is missing (cleaned up?)")


def page_count(tiff: Path) -> int:
    with Image.open(tiff) as image:
        return int(getattr(image, "n_frames", 1))


def _render_page(tiff: Path, index: int, width: int) -> Image.Image:
    with Image.open(tiff) as image:
        frames = int(getattr(image, "n_frames", 1))
        if not 0 <= index < frames:
            raise NotFoundError(f"the fax has no page {index + 1}")
        image.seek(index)
        x_dpi, y_dpi = image.info.get("dpi", (204.0, 196.0))
        gray = image.convert("L")
    # A normal-resolution page has half the lines per inch of a fine one: restore its shape.
    aspect = (gray.height / float(y_dpi or 196)) / (gray.width / float(x_dpi or 204))
    return gray.resize((width, max(1, round(width * aspect))), Image.Resampling.BOX)


def _write_png(image: Image.Image, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    image.save(temporary, "PNG", optimize=True)
    temporary.replace(target)


def page_png(tiff: Path, page: int) -> Path:
    """The PNG of page `page` (1-based) of a fax TIFF, made on first use."""
    target = tiff.with_name(f"{tiff.stem}.page-{page}.png")
    if not target.is_file():
        with _render_lock:
            if not target.is_file():
                try:
                    _write_png(_render_page(tiff, page - 1, PAGE_WIDTH), target)
                except OSError as exc:
                    raise ConversionError(f"page {page} cannot be shown: {exc}") from exc
    return target


def thumbnail_png(tiff: Path, stored_thumbnail: Path | None = None) -> Path:
    """The first-page thumbnail: the one faxqueued made, else one made here once."""
    if stored_thumbnail is not None and stored_thumbnail.is_file():
        return stored_thumbnail
    target = tiff.with_name(f"{tiff.stem}.thumb.png")
    if not target.is_file():
        with _render_lock:
            if not target.is_file():
                try:
                    _write_png(_render_page(tiff, 0, THUMBNAIL_WIDTH), target)
                except OSError as exc:
                    raise ConversionError(f"no preview: {exc}") from exc
    return target


def pdf_of(tiff: Path, stored_pdf: Path | None = None) -> Path:
    """The PDF of a fax: the one faxqueued made, else one made here once."""
    if stored_pdf is not None and stored_pdf.is_file():
        return stored_pdf
    target = tiff.with_suffix(".pdf")
    if not target.is_file():
        from faxgate.convert.received import received_fax_to_pdf

        with _render_lock:
            if not target.is_file():
                received_fax_to_pdf(tiff, target)
    return target
