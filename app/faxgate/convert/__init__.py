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

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faxgate.convert.cache import DocumentCache, document_key
    from faxgate.convert.cover import cover_page
    from faxgate.convert.errors import ConversionLimitError, UnsupportedTypeError
    from faxgate.convert.extract import extract_page_texts
    from faxgate.convert.options import Compression, FaxPageOptions, Resolution
    from faxgate.convert.previews import thumbnail
    from faxgate.convert.received import received_fax_to_pdf
    from faxgate.convert.runner import ConvertedDocument, convert_document, find_converter
    from faxgate.convert.sniff import sniff_mime_type
    from faxgate.convert.tiffio import TiffPageInfo, inspect_tiff, merge_fax_tiffs

# Names are imported on first use: the converter processes import submodules of this package
# and should not pay for the whole API at every start (a fax document is often one page).
_HOMES = {
    "DocumentCache": "cache",
    "document_key": "cache",
    "cover_page": "cover",
    "ConversionLimitError": "errors",
    "UnsupportedTypeError": "errors",
    "extract_page_texts": "extract",
    "Compression": "options",
    "FaxPageOptions": "options",
    "Resolution": "options",
    "received_fax_to_pdf": "received",
    "ConvertedDocument": "runner",
    "convert_document": "runner",
    "find_converter": "runner",
    "sniff_mime_type": "sniff",
    "thumbnail": "previews",
    "TiffPageInfo": "tiffio",
    "inspect_tiff": "tiffio",
    "merge_fax_tiffs": "tiffio",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'faxgate.convert' has no attribute {name!r}")
    return getattr(importlib.import_module(f"faxgate.convert.{home}"), name)


def to_fax_tiff(pdf: Path, out_tiff: Path, options: FaxPageOptions | None = None) -> int:
    """Render a PDF faxgate made itself to a fax TIFF in this process; returns the page count.

    Untrusted PDFs go through `convert_document` (a limited subprocess) instead.
    """
    import tempfile

    from faxgate.convert.options import FaxPageOptions
    from faxgate.convert.pdfpages import pdf_fax_pages
    from faxgate.convert.tiffio import write_fax_tiff

    options = options or FaxPageOptions()
    with tempfile.TemporaryDirectory(prefix="faxgate-pdf-") as workdir:
        pages = pdf_fax_pages(pdf, options, Path(workdir))
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
