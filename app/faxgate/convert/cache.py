"""Convert once: fax TIFFs kept in the spool's `docq/` under the hash of their content.

A mail to several `.fax` recipients or an ERP batch to many numbers submits the same document
many times; each job refers to `docq/<key>.tif`, where the key is the SHA-256 of the document's
bytes, its MIME type and the page format. The page count and warnings sit beside it in
`docq/<key>.json` so a cache hit reports exactly what the conversion reported.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from faxgate.convert.options import FaxPageOptions
from faxgate.convert.runner import ConvertedDocument, MimeType, convert_document

_CHUNK = 1024 * 1024


def document_key(src: Path, mime_type: str, options: FaxPageOptions) -> str:
    """The cache key of a document: hex SHA-256 over content, MIME type (with charset), format."""
    parsed = MimeType.parse(mime_type)
    digest = hashlib.sha256()
    with src.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    charset = parsed.parameters.get("charset", "").lower()
    digest.update(f"\0{parsed.essence}\0{charset}\0{options.cache_key()}".encode())
    return digest.hexdigest()


class DocumentCache:
    """Converted documents in `docq/`, shared by every job that sends the same document."""

    def __init__(self, docq: Path) -> None:
        self.docq = docq

    def tiff_path(self, key: str) -> Path:
        """Where the fax TIFF of a key lives (whether or not it exists yet)."""
        return self.docq / f"{key}.tif"

    def lookup(self, key: str) -> ConvertedDocument | None:
        """The cached conversion of a key, or None."""
        tiff, meta = self.tiff_path(key), self.docq / f"{key}.json"
        if not (tiff.is_file() and meta.is_file()):
            return None
        try:
            record = json.loads(meta.read_text("utf-8"))
            return ConvertedDocument(
                pages=int(record["pages"]), path=tiff, warnings=tuple(record["warnings"])
            )
        except (ValueError, KeyError, TypeError):
            return None  # a damaged record is converted again

    def convert(
        self,
        spool_mimetype_dir: Path,
        src: Path,
        mime_type: str,
        options: FaxPageOptions | None = None,
        *,
        temp_root: Path | None = None,
    ) -> ConvertedDocument:
        """The fax TIFF of `src`: from the cache, or converted now and cached."""
        options = options or FaxPageOptions()
        key = document_key(src, mime_type, options)
        cached = self.lookup(key)
        if cached is not None:
            return cached
        self.docq.mkdir(parents=True, exist_ok=True)
        converted = convert_document(
            spool_mimetype_dir, src, mime_type, self.tiff_path(key), options, temp_root=temp_root
        )
        meta = self.docq / f"{key}.json"
        temporary = meta.with_name(f".{meta.name}.{os.getpid()}.part")
        temporary.write_text(
            json.dumps({"pages": converted.pages, "warnings": list(converted.warnings)}), "utf-8"
        )
        temporary.replace(meta)  # the record appears last: a hit always has its TIFF
        return converted

    def forget(self, key: str) -> None:
        """Drop a cached document (retention cleanup calls this when no job refers to it)."""
        for path in (self.docq / f"{key}.json", self.tiff_path(key)):
            path.unlink(missing_ok=True)
