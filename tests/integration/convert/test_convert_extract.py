"""Control-field text extraction, letter-spaced text included (the vendor's default matchers)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from faxgate.convert import extract_page_texts
from faxgate.convert.pdfpages import pdf_page_texts

# The documented defaults of sys.fax.configure.faxprint.matcher.*
FAX = re.compile(r"@@\+FAX:\s*(.*?)\s*@@")
TAG = re.compile(r"@@\+TAG:\s*(.*?)\s*@@")
PRIO = re.compile(r"@@\+PRIO:\s*(\d+?)\s*@@")
NOTIFY = re.compile(r"@@\+NOTIFY:\s*(.*?@.*?)\s*@@")


def fields(text: str) -> dict[str, str]:
    found = {}
    for name, pattern in (("fax", FAX), ("tag", TAG), ("prio", PRIO), ("notify", NOTIFY)):
        match = pattern.search(text)
        if match:
            found[name] = match.group(1)
    return found


def test_pdf_fields_per_page(documents: Path) -> None:
    texts = extract_page_texts(documents / "a4-3pages.pdf", "application/pdf")
    assert len(texts) == 3
    assert fields(texts[0]) == {
        "fax": "0991234567",
        "tag": "Bestellung 12345",
        "prio": "100",
        "notify": "buyer@example.com",
    }
    assert "page 2 of 3" in texts[1]


def test_letter_spaced_postscript_fields(documents: Path) -> None:
    for name in ("handwritten.ps", "pjl-wrapped.ps"):
        texts = extract_page_texts(documents / name, "application/postscript")
        assert len(texts) == 2
        assert fields(texts[0]) == {"fax": "0991234567", "tag": "Bestellung 12345", "prio": "100"}


def test_letter_spaced_pdf_falls_back_to_ghostscript(documents: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "spaced.pdf"
    subprocess.run(
        ["gs", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dQUIET", "-sDEVICE=pdfwrite",
         f"-sOutputFile={pdf}", str(documents / "handwritten.ps")],
        check=True,
    )  # fmt: skip
    # PDFium alone misses the letter-spaced tag (the reason for the fallback) ...
    assert "tag" not in fields(pdf_page_texts(pdf)[0])
    # ... the extractor finds every field.
    texts = extract_page_texts(pdf, "application/pdf")
    assert fields(texts[0]) == {"fax": "0991234567", "tag": "Bestellung 12345", "prio": "100"}


def test_plain_text_pages(documents: Path) -> None:
    texts = extract_page_texts(documents / "utf8.txt", "text/plain; charset=utf-8")
    assert len(texts) == 2
    assert "Grüße aus Köln" in texts[0]
