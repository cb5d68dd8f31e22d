"""Text of each page of a print job, for the print gateway's control fields (`@@+FAX:…@@`).

Two extractors, measured (docs/conversion.md): PDFium is fast (about 1 ms a page) but returns
letter-spaced text as separate letters (`@ @ + F A X`); Ghostscript's txtwrite joins them but
costs about 16 ms a page. PDFs are read with PDFium first and again with Ghostscript only when
PDFium's text holds no `@@` or holds a letter-spaced `@ @`; PostScript always goes to
Ghostscript. Untrusted documents are parsed in a limited subprocess (forked from the warm
converter zygote), never in the daemon.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from faxgate.convert.limits import unprivileged_ids
from faxgate.convert.options import FaxPageOptions
from faxgate.convert.runner import (
    MimeType,
    _raise_for_failure,
    _run_builtin,
    _share_with_converter,
)
from faxgate.errors import ConversionError


def extract_page_texts(
    path: Path,
    mime_type: str,
    options: FaxPageOptions | None = None,
    *,
    temp_root: Path | None = None,
) -> list[str]:
    """The text of each page of a PDF, PostScript or plain-text document (other types: [])."""
    options = options or FaxPageOptions()
    parsed = MimeType.parse(mime_type)
    workdir = Path(tempfile.mkdtemp(prefix="faxgate-text-", dir=temp_root))
    try:
        ids = unprivileged_ids()
        _share_with_converter(workdir, ids)
        private_input = workdir / "input"
        shutil.copyfile(path, private_input)
        private_input.chmod(0o644)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            **options.to_environment(),
        }
        if "charset" in parsed.parameters:
            env["FAXGATE_CHARSET"] = parsed.parameters["charset"][:40]
        run = _run_builtin(
            ["--extract-text", parsed.essence, str(private_input)], workdir, env, options, ids
        )
        _raise_for_failure(run, parsed.essence, options)
        try:
            texts = json.loads(run.stdout)
        except ValueError as exc:
            raise ConversionError("text extraction returned nothing readable") from exc
        return [str(text) for text in texts]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
