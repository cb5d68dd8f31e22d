"""Turning a request's document parts into one fax document, converted once per content.

The `documents` table is keyed by a sha256 over the parts' bytes, types, page ranges and the
page format: a mail to ten recipients, or the same PDF submitted twice, is converted once and
every job points at the same `docq/` file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from faxgate.convert.errors import UnsupportedTypeError
from faxgate.convert.options import Compression, FaxPageOptions, Resolution
from faxgate.errors import ConversionError
from faxgate.settings import Settings
from faxgate.spool.atomic import fsync_directory
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import DocumentPart


@dataclass(frozen=True)
class PreparedDocument:
    document_id: int
    path: Path
    pages: int
    skipped: list[str] = field(default_factory=list)  # plain words, one per part not faxed
    warnings: list[str] = field(default_factory=list)


def page_options(settings: Settings) -> FaxPageOptions:
    p = "sys.fax.configure.convert."
    return FaxPageOptions(
        resolution=Resolution(settings.get_str(p + "resolution")),
        compression=Compression(settings.get_str(p + "compression")),
        page_limit=settings.get_int(p + "maxpages"),
        time_limit_s=float(settings.get_int(p + "timeout")),
        memory_limit_mb=settings.get_int(p + "memory"),
    )


def content_key(parts: Sequence[DocumentPart], options: FaxPageOptions) -> str:
    """sha256 naming what the converted document will contain."""
    digest = hashlib.sha256(options.cache_key().encode())
    for part in parts:
        file_hash = hashlib.sha256()
        with part.path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                file_hash.update(chunk)
        digest.update(
            f"|{file_hash.hexdigest()}|{part.mime_type}|{part.first_page}|{part.last_page}".encode()
        )
    return digest.hexdigest()


def describe(part: DocumentPart) -> str:
    return part.description or part.path.name


def prepare_document(
    spool: Spool,
    ledger: Ledger,
    parts: Sequence[DocumentPart],
    options: FaxPageOptions,
    work_dir: Path,
) -> PreparedDocument:
    """The document for `parts`, converting only when no identical one exists.

    Parts without a converter are skipped and listed; any other conversion failure raises
    ConversionError (the request is rejected with its message). No pages at all is an error too.
    """
    from faxgate.convert.runner import convert_document, find_converter
    from faxgate.convert.tiffio import merge_fax_tiffs, read_fax_pages, write_fax_tiff

    key = content_key(parts, options)
    known = ledger.query_one("SELECT id, path, pages FROM documents WHERE sha256 = ?", (key,))
    if known is not None and (spool.docq / known["path"]).exists():
        # Converted before: only say again which parts were left out (no converter), so the
        # second identical mail gets the same notice as the first.
        unconverted: list[str] = []
        for part in parts:
            try:
                find_converter(spool.mimetype, part.mime_type)
            except UnsupportedTypeError as exc:
                unconverted.append(f"{describe(part)} ({part.mime_type}): {exc}")
        return PreparedDocument(
            int(known["id"]), spool.docq / known["path"], int(known["pages"]), unconverted
        )

    skipped: list[str] = []
    warnings: list[str] = []
    converted: list[Path] = []
    for index, part in enumerate(parts):
        out = work_dir / f"part-{index}.tif"
        try:
            result = convert_document(
                spool.mimetype, part.path, part.mime_type, out, options, temp_root=spool.tmp
            )
        except UnsupportedTypeError as exc:
            skipped.append(f"{describe(part)} ({part.mime_type}): {exc}")
            continue
        except ConversionError as exc:
            raise ConversionError(f"{describe(part)} could not be converted: {exc}") from exc
        warnings.extend(result.warnings)
        if part.first_page is not None or part.last_page is not None:
            pages = read_fax_pages(out)
            first = (part.first_page or 1) - 1
            last = part.last_page or len(pages)
            chosen = pages[first:last]
            if not chosen:
                skipped.append(
                    f"{describe(part)}: pages {first + 1}-{last} asked, it has {len(pages)}"
                )
                continue
            write_fax_tiff(chosen, out)
        converted.append(out)
    if not converted:
        reasons = "; ".join(skipped) or "no document was given"
        raise ConversionError(f"nothing could be faxed: {reasons}")

    name = f"doc-{key[:24]}.tif"
    staged = spool.tmp / f".staged-{name}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        pages_total = merge_fax_tiffs(converted, staged)
        with staged.open("rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(staged, spool.docq / name)
        fsync_directory(spool.docq)
    finally:
        if staged.exists():
            staged.unlink()
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO documents (sha256, path, pages, created_at) VALUES (?, ?, ?, ?)",
            (key, name, pages_total, time.time()),
        )
        row = conn.execute("SELECT id FROM documents WHERE sha256 = ?", (key,)).fetchone()
        conn.execute(
            "UPDATE documents SET path = ?, pages = ? WHERE id = ?", (name, pages_total, row["id"])
        )
    return PreparedDocument(int(row["id"]), spool.docq / name, pages_total, skipped, warnings)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
