"""First-page previews (PNG) of fax TIFFs and PDFs, for notification mails and the admin pages.

Runs in the caller's process: use it on files faxgate made (received faxes, converted
documents), not on documents as users sent them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pypdfium2
from PIL import Image

from faxgate.convert.sniff import sniff_mime_type
from faxgate.errors import ConversionError

DEFAULT_WIDTH = 400


def _first_page_tiff(path: Path, width: int) -> Image.Image:
    with Image.open(path) as image:
        image.seek(0)
        x_dpi, y_dpi = image.info.get("dpi", (204.0, 196.0))
        gray = image.convert("L")
    # Normal-resolution pages have half as many lines per inch: restore the page's shape.
    aspect = (gray.height / float(y_dpi or 196)) / (gray.width / float(x_dpi or 204))
    height = max(1, round(width * aspect))
    # Box filtering averages the fine black and white dots into grey: legible when small.
    return gray.resize((width, height), Image.Resampling.BOX, reducing_gap=2.0)


def _first_page_pdf(path: Path, width: int) -> Image.Image:
    document = pypdfium2.PdfDocument(path)
    try:
        page = document[0]
        scale = width / page.get_width()
        bitmap = page.render(scale=scale, grayscale=True)
        image: Image.Image = bitmap.to_pil().copy()
        page.close()
        return image
    finally:
        document.close()


def thumbnail(source: Path, png: Path, width: int = DEFAULT_WIDTH) -> tuple[int, int]:
    """Write a PNG of page 1 of a TIFF or PDF, `width` pixels wide; returns its size."""
    kind = sniff_mime_type(source)
    try:
        if kind == "image/tiff":
            image = _first_page_tiff(source, width)
        elif kind == "application/pdf":
            image = _first_page_pdf(source, width)
        else:
            raise ConversionError(f"no preview for {kind}: only TIFF and PDF")
    except (OSError, pypdfium2.PdfiumError) as exc:
        raise ConversionError("the document cannot be read for a preview") from exc
    temporary = png.with_name(f".{png.name}.{os.getpid()}.part")
    image.save(temporary, "PNG", optimize=True)
    temporary.replace(png)
    return image.size
