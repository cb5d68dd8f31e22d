"""The shipped converters: `python -m faxgate.convert.tools TYPE/SUBTYPE INPUT OUTPUT`.

Each script in the spool's `mimetype/` directory execs this module with its own MIME type. It
writes a fax TIFF (class F, in the format the FAXGATE_* environment asks for) to OUTPUT and
exits 0, or prints one line in plain words on stderr and exits non-zero:

    0  converted (lines on stderr starting with "warning: " are reported to the sender)
    1  the document cannot be converted (damaged, protected, not what it claims to be)
    2  wrong use (unknown type, missing arguments)
    3  the document exceeds a limit (pages, time, memory)

`--extract-text TYPE/SUBTYPE INPUT` prints the text of each page as a JSON list instead.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from faxgate.convert import ghostscript
from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.options import FaxPageOptions
from faxgate.convert.tiffio import FaxPage, decode_page, write_fax_tiff
from faxgate.errors import ConversionError

# The converters import what they need when they run: a process converts one document, and a
# text file should not wait for PDFium and numpy to load (nor a PDF for the HTML parser).

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LIMIT = 3

PageSource = Callable[[Path, Path, FaxPageOptions, list[str]], list[FaxPage]]


def _pdf_pages(
    source: Path, workdir: Path, options: FaxPageOptions, warnings: list[str]
) -> list[FaxPage]:
    from faxgate.convert.pdfpages import open_pdf, pdf_fax_pages

    try:
        open_pdf(source).close()
    except ConversionError as exc:
        if "password" in str(exc):
            raise
        repaired = workdir / "repaired.pdf"
        try:
            ghostscript.repair_pdf(source, repaired, workdir, options.time_limit_s)
            open_pdf(repaired).close()
        except ConversionError as repair_failure:
            raise ConversionError(
                "the PDF file is damaged and could not be repaired"
            ) from repair_failure
        pages = pdf_fax_pages(repaired, options, workdir)
        if all(_blank(page) for page in pages):
            # Ghostscript "repairs" any garbage into an empty page: that is not a recovery.
            raise ConversionError(
                "the PDF file is damaged: nothing printable could be recovered"
            ) from exc
        warnings.append("the PDF file was damaged and has been repaired; check the pages")
        return pages
    return pdf_fax_pages(source, options, workdir)


def _blank(page: FaxPage) -> bool:
    return decode_page(page).convert("L").getextrema()[0] == 255


def _postscript_pages(
    source: Path, workdir: Path, options: FaxPageOptions, warnings: list[str]
) -> list[FaxPage]:
    from faxgate.convert.pdfpages import pdf_fax_pages

    pdf = workdir / "postscript.pdf"
    ghostscript.postscript_to_pdf(source, pdf, workdir, options.page_limit, options.time_limit_s)
    return pdf_fax_pages(pdf, options, workdir)


def _image_pages(
    source: Path, workdir: Path, options: FaxPageOptions, warnings: list[str]
) -> list[FaxPage]:
    from faxgate.convert.g4 import encode_images
    from faxgate.convert.images import image_page_images

    return encode_images(image_page_images(source, options), options, workdir)


def _pwg_raster_pages(
    source: Path, workdir: Path, options: FaxPageOptions, warnings: list[str]
) -> list[FaxPage]:
    from faxgate.convert.g4 import encode_images
    from faxgate.convert.pwgraster import pwg_ink_images

    return encode_images(pwg_ink_images(source, options), options, workdir)


def _text_pages(
    source: Path, workdir: Path, options: FaxPageOptions, warnings: list[str]
) -> list[FaxPage]:
    from faxgate.convert import textdoc
    from faxgate.convert.g4 import encode_images
    from faxgate.convert.typeset import typeset

    layout, decode_warnings = textdoc.read_text_file(source, os.environ.get("FAXGATE_CHARSET"))
    warnings.extend(decode_warnings)
    return encode_images(typeset(layout, options), options, workdir)


def _html_pages(
    source: Path, workdir: Path, options: FaxPageOptions, warnings: list[str]
) -> list[FaxPage]:
    from faxgate.convert import htmldoc, textdoc
    from faxgate.convert.g4 import encode_images
    from faxgate.convert.typeset import typeset

    data = source.read_bytes()
    charset = os.environ.get("FAXGATE_CHARSET") or htmldoc.declared_html_charset(data)
    text, decode_warnings = textdoc.decode_text(data, charset)
    warnings.extend(decode_warnings)
    return encode_images(typeset(htmldoc.html_layout(text), options), options, workdir)


CONVERTERS: dict[str, PageSource] = {
    "application/pdf": _pdf_pages,
    "application/postscript": _postscript_pages,
    "image/tiff": _image_pages,
    "image/png": _image_pages,
    "image/jpeg": _image_pages,
    "image/gif": _image_pages,
    "image/pwg-raster": _pwg_raster_pages,
    "text/plain": _text_pages,
    "text/html": _html_pages,
}


def convert_file(mime_type: str, source: Path, output: Path, options: FaxPageOptions) -> list[str]:
    """Convert one file to a fax TIFF in-process; returns warnings. Raises ConversionError."""
    converter = CONVERTERS.get(mime_type)
    if converter is None:
        raise ConversionError(f"no built-in converter for {mime_type}")
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="faxgate-convert-") as workdir:
        pages = converter(source, Path(workdir), options, warnings)
    if len(pages) > options.page_limit:
        raise ConversionLimitError(
            f"the document has {len(pages)} pages, more than the limit of {options.page_limit}"
        )
    write_fax_tiff(pages, output, durable=False)
    return warnings


def page_texts(mime_type: str, source: Path, time_limit_s: float) -> list[str]:
    """The text of each page, for control fields (see `faxgate.convert.extract`)."""
    from faxgate.convert import textdoc
    from faxgate.convert.pdfpages import pdf_page_texts

    with tempfile.TemporaryDirectory(prefix="faxgate-text-") as workdir:
        if mime_type == "application/pdf":
            texts = pdf_page_texts(source)
            if needs_ghostscript_text(texts):
                texts = ghostscript.page_texts(source, Path(workdir), time_limit_s)
            return texts
        if mime_type == "application/postscript":
            return ghostscript.page_texts(source, Path(workdir), time_limit_s)
        if mime_type == "text/plain":
            text, _ = textdoc.decode_text(source.read_bytes(), os.environ.get("FAXGATE_CHARSET"))
            return text.split("\f")
        return []


def needs_ghostscript_text(texts: Sequence[str]) -> bool:
    """True when PDFium's text may have missed a control field: no `@@`, or a letter-spaced `@ @`."""
    joined = "\n".join(texts)
    return "@@" not in joined or "@ @" in joined


def _fail(message: str, code: int) -> int:
    print(message.replace("\n", " ").strip(), file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry of the shipped converters (see the module description)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if len(args) == 3 and args[0] == "--extract-text":
            options = FaxPageOptions.from_environment()
            texts = page_texts(args[1], Path(args[2]), options.time_limit_s)
            sys.stdout.write(json.dumps(texts))
            return EXIT_OK
        if len(args) != 3:
            return _fail(
                "usage: python -m faxgate.convert.tools TYPE/SUBTYPE INPUT OUTPUT", EXIT_USAGE
            )
        mime_type, source, output = args[0].lower(), Path(args[1]), Path(args[2])
        if mime_type not in CONVERTERS:
            return _fail(f"no built-in converter for {mime_type}", EXIT_USAGE)
        for warning in convert_file(mime_type, source, output, FaxPageOptions.from_environment()):
            print(f"warning: {warning}", file=sys.stderr)
        return EXIT_OK
    except ConversionLimitError as exc:
        return _fail(str(exc), EXIT_LIMIT)
    except ConversionError as exc:
        return _fail(str(exc), EXIT_FAILED)
    except MemoryError:
        return _fail("the document needs more memory than the conversion limit allows", EXIT_LIMIT)
    except FileNotFoundError as exc:
        return _fail(f"file not found: {exc.filename}", EXIT_USAGE)
    except Exception as exc:  # a bug or a library's surprise: still one line, not a traceback
        return _fail(f"the converter failed unexpectedly ({type(exc).__name__})", EXIT_FAILED)


if __name__ == "__main__":
    sys.exit(main())
