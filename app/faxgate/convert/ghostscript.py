"""Ghostscript, only ever with -dSAFER, only ever inside a converter process.

-dSAFER (the default of Ghostscript 10, stated anyway) lets a job read only the files named on
the command line and write only its OutputFile; the converter also runs it in a private empty
directory under the converter's own limits. Messages from Ghostscript are turned into words a
sender understands.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.sniff import strip_pjl
from faxgate.errors import ConversionError

GHOSTSCRIPT = "gs"
SAFE_FLAGS = ("-dSAFER", "-dNOPAUSE", "-dBATCH", "-dQUIET", "-dNOPROMPT", "-dNOINTERPOLATE")


def gs_argv(device: str, output: Path, source: Path, extra: Sequence[str] = ()) -> list[str]:
    """The Ghostscript command line for one job: safe flags first, input last."""
    return [
        GHOSTSCRIPT,
        *SAFE_FLAGS,
        f"-sDEVICE={device}",
        f"-sOutputFile={output}",
        *extra,
        "-f",
        str(source),
    ]


def explain_gs_failure(output: str) -> str:
    """A plain-words message for a failed Ghostscript run, from what it printed."""
    if "invalidfileaccess" in output:
        return "the PostScript job tried to open files it is not allowed to open; it was stopped"
    if "VMerror" in output or "out of memory" in output.lower():
        return "the document needs more memory than the conversion limit allows"
    for name in ("undefined", "typecheck", "rangecheck", "syntaxerror", "stackunderflow"):
        if name in output:
            return f"the PostScript/PDF document has an error ({name}) and cannot be printed"
    if "Unrecoverable error" in output or "Error" in output:
        return "the document cannot be read by Ghostscript (damaged or not PostScript/PDF)"
    return "Ghostscript could not convert the document"


def run_gs(argv: Sequence[str], workdir: Path, time_limit_s: float) -> None:
    """Run Ghostscript in `workdir`; raise `ConversionError` with plain words on failure."""
    try:
        completed = subprocess.run(
            list(argv),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=time_limit_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConversionLimitError(
            f"the document took longer than the time limit of {time_limit_s:g} s to convert"
        ) from exc
    except FileNotFoundError as exc:
        raise ConversionError("Ghostscript is not installed (Debian package ghostscript)") from exc
    if completed.returncode != 0:
        text = (completed.stdout + completed.stderr).decode("utf-8", "replace")
        raise ConversionError(explain_gs_failure(text))


def unwrap_pjl(source: Path, workdir: Path) -> Path:
    """The PostScript/PDF inside a PJL envelope, as a file in `workdir` (or `source` if bare)."""
    with source.open("rb") as stream:
        head = stream.read(4)
    if head != b"\x1b%-1":
        return source
    data = strip_pjl(source.read_bytes())
    end = data.rfind(b"\x1b%-12345X")
    unwrapped = workdir / "unwrapped.ps"
    unwrapped.write_bytes(data[:end] if end > 0 else data)
    return unwrapped


def postscript_to_pdf(
    source: Path, pdf: Path, workdir: Path, page_limit: int, time_limit_s: float
) -> None:
    """PostScript (bare or PJL-wrapped) to PDF with pdfwrite, stopping after page_limit + 1 pages."""
    inner = unwrap_pjl(source, workdir)
    argv = gs_argv("pdfwrite", pdf, inner, [f"-dLastPage={page_limit + 1}"])
    run_gs(argv, workdir, time_limit_s)
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise ConversionError("the PostScript job printed no pages")


def repair_pdf(source: Path, repaired: Path, workdir: Path, time_limit_s: float) -> None:
    """Rewrite a damaged PDF with pdfwrite (Ghostscript rebuilds broken cross-references)."""
    run_gs(gs_argv("pdfwrite", repaired, source), workdir, time_limit_s)


def page_texts(source: Path, workdir: Path, time_limit_s: float) -> list[str]:
    """The text of each page with Ghostscript's txtwrite (joins letter-spaced text)."""
    inner = unwrap_pjl(source, workdir)
    pattern = workdir / "page-%05d.txt"
    run_gs(gs_argv("txtwrite", pattern, inner), workdir, time_limit_s)
    pages = sorted(workdir.glob("page-*.txt"))
    return [page.read_text("utf-8", errors="replace") for page in pages]
