"""Documents to fax pages and faxes to PDFs: the conversion pipeline.

Public API (what faxqueued and the gateways call):

- `convert_document(spool_mimetype_dir, src, mime_type, out_tiff, options)` runs the spool's
  converter for a MIME type under limits → `ConvertedDocument(pages, path, warnings)`; raises
  `UnsupportedTypeError` ("skipped: no converter for image/gif"), `ConversionLimitError` or
  `ConversionError` with a message for the sender.
- `DocumentCache(docq).convert(...)`: the same, converted once per content (`docq/<sha256>.tif`).
- `to_fax_tiff(pdf, out_tiff, options)`: a PDF we trust (made by faxgate) to fax pages in-process.
- `merge_fax_tiffs([cover, doc, ...], out)`: pages concatenated without recoding.
- `sniff_mime_type(path_or_bytes)`: the type by magic bytes.
- `extract_page_texts(path, mime_type)`: text per page for control fields.
- `cover_page(subject, sender, recipient_name, number, date, body_text|body_html, out_tiff=)`.
- `received_fax_to_pdf(tiff, pdf)`, `thumbnail(tiff_or_pdf, png, width)`.
- `inspect_tiff(path)` → per-page `TiffPageInfo` (width, resolution, coding, strips).
"""

from __future__ import annotations

from pathlib import Path

from faxgate.convert.cache import DocumentCache, document_key
from faxgate.convert.cover import cover_page
from faxgate.convert.errors import ConversionLimitError, UnsupportedTypeError
from faxgate.convert.extract import extract_page_texts
from faxgate.convert.options import Compression, FaxPageOptions, Resolution
from faxgate.convert.received import received_fax_to_pdf
from faxgate.convert.runner import ConvertedDocument, convert_document, find_converter
from faxgate.convert.sniff import sniff_mime_type
from faxgate.convert.thumbnail import thumbnail
from faxgate.convert.tiffio import TiffPageInfo, inspect_tiff, merge_fax_tiffs


def to_fax_tiff(pdf: Path, out_tiff: Path, options: FaxPageOptions | None = None) -> int:
    """Render a PDF faxgate made itself to a fax TIFF in this process; returns the page count.

    Untrusted PDFs go through `convert_document` (a limited subprocess) instead.
    """
    from faxgate.convert.pdfpages import pdf_page_images
    from faxgate.convert.tiffio import encode_page, write_fax_tiff

    options = options or FaxPageOptions()
    pages = [encode_page(page, options) for page in pdf_page_images(pdf, options)]
    write_fax_tiff(pages, out_tiff)
    return len(pages)


__all__ = [
    "Compression",
    "ConversionLimitError",
    "ConvertedDocument",
    "DocumentCache",
    "FaxPageOptions",
    "Resolution",
    "TiffPageInfo",
    "UnsupportedTypeError",
    "convert_document",
    "cover_page",
    "document_key",
    "extract_page_texts",
    "find_converter",
    "inspect_tiff",
    "merge_fax_tiffs",
    "received_fax_to_pdf",
    "sniff_mime_type",
    "thumbnail",
    "to_fax_tiff",
]
