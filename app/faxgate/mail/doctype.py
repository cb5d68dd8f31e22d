"""The real type of a mail attachment: its content first, then what the sender declared.

Mail clients type attachments by file name, and some (and many gateways) send everything as
application/octet-stream: a PDF is a PDF by its bytes whatever it is called. Content sniffing
cannot tell Office files or CSV from other zips and texts, so for those the declared type, then
the file name, decide.
"""

from __future__ import annotations

import mimetypes

from faxgate.convert.sniff import OCTET_STREAM, sniff_mime_type

_GENERIC = frozenset({"", OCTET_STREAM, "application/x-download", "application/download",
                      "application/force-download", "binary/octet-stream"})  # fmt: skip


def type_by_name(filename: str) -> str:
    """The type a file name suggests ('' when it says nothing)."""
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or ""


def attachment_type(data: bytes, declared: str, filename: str) -> str:
    """The MIME type an attachment is converted as."""
    declared = declared.lower().strip()
    sniffed = sniff_mime_type(data)
    if sniffed not in (OCTET_STREAM, "text/plain"):
        return sniffed  # recognised by its magic bytes: the content is the truth
    by_name = type_by_name(filename)
    if sniffed == "text/plain":
        # Sniffing says "some text"; a declared or named text type says which (HTML, CSV, ...).
        for candidate in (declared, by_name):
            if candidate.startswith("text/"):
                return candidate
        return "text/plain"
    if declared not in _GENERIC:
        return declared
    return by_name or OCTET_STREAM
