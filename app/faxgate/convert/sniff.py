"""MIME type of a document from its first bytes (magic), for clients that send none or lie.

Print clients often send `application/octet-stream` (Windows) and mail clients guess from the file
name; the pipeline decides by content. PJL-wrapped jobs (a printer-language envelope around
PostScript or PDF) are reported as what they wrap.
"""

from __future__ import annotations

import re
from pathlib import Path

OCTET_STREAM = "application/octet-stream"
SNIFF_BYTES = 8192

_PJL_UEL = b"\x1b%-12345X"
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|title|meta)\b", re.I | re.S
)
_HTML_ANYWHERE = re.compile(rb"<(html|body|p|div|table|br)\b[^>]*>", re.I)


def sniff_mime_type(document: Path | bytes) -> str:
    """The MIME type of `document` (a path or its leading bytes) judged by its content."""
    if isinstance(document, Path):
        with document.open("rb") as stream:
            head = stream.read(SNIFF_BYTES)
    else:
        head = document[:SNIFF_BYTES]
    return _sniff_bytes(head)


def strip_pjl(head: bytes) -> bytes:
    """`head` without a leading PJL envelope: the bytes from the wrapped language's first line."""
    if not head.startswith(_PJL_UEL):
        return head
    for marker in (b"%!", b"%PDF-"):
        position = head.find(marker)
        if position >= 0:
            return head[position:]
    return b""


def _sniff_bytes(head: bytes) -> str:
    head = strip_pjl(head)
    binary = _sniff_binary(head)
    if binary is not None:
        return binary
    text = head.removeprefix(b"\xef\xbb\xbf")
    if _HTML_START.match(text) or (_looks_like_text(text) and _HTML_ANYWHERE.search(text[:2048])):
        return "text/html"
    if _looks_like_text(text):
        return "text/plain"
    return OCTET_STREAM


def _sniff_binary(head: bytes) -> str | None:
    signatures: tuple[tuple[bytes, str], ...] = (
        (b"%!", "application/postscript"),
        (b"\xc5\xd0\xd3\xc6", "application/postscript"),  # DOS EPS binary header
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"RaS2PwgRaster\x00", "image/pwg-raster"),
    )
    for signature, mime_type in signatures:
        if head.startswith(signature):
            return mime_type
    # PDF allows junk before the header (PDF 1.7, 7.5.2: within the first 1024 bytes).
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return True
    if b"\x00" in head:
        return False  # UTF-16 and binaries; text converters expect an 8-bit charset or UTF-8
    controls = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\n\r\f\x1b")
    return controls <= len(head) // 100
