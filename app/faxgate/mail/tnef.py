"""Outlook's TNEF container (`winmail.dat`, application/ms-tnef) unpacked to its attachments.

Outlook sends rich-text mail as TNEF unless the Exchange admin turns it off for the remote
domain. The attachments inside are ordinary files; the rich-text body (compressed RTF) is not
decoded: Exchange sends a plain-text body beside the TNEF part, and that is what is faxed.
Decoding uses `tnefparse`; anything it cannot read becomes a TnefError with a plain reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import tnefparse  # type: ignore[import-untyped]

from faxgate.errors import FaxgateError

TNEF_MIME_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78 little-endian

log = logging.getLogger("faxgate.mail.tnef")


class TnefError(FaxgateError):
    """A winmail.dat that cannot be unpacked (message in plain words for the sender)."""


@dataclass(frozen=True)
class TnefFile:
    filename: str
    data: bytes


@dataclass(frozen=True)
class TnefContent:
    """What a winmail.dat held that can be faxed."""

    attachments: list[TnefFile] = field(default_factory=list)
    body_text: str | None = None  # the plain-text body, when Outlook put one inside
    body_html: str | None = None
    has_rtf_body: bool = False


def is_tnef(mime_type: str, filename: str, data: bytes) -> bool:
    """A part is TNEF by its type, its conventional name, or its signature."""
    return (
        mime_type.lower() in TNEF_MIME_TYPES
        or filename.lower() == "winmail.dat"
        or data.startswith(TNEF_SIGNATURE)
    )


def decode_tnef(data: bytes) -> TnefContent:
    """Unpack a winmail.dat; TnefError when it is not one or is damaged."""
    if not data.startswith(TNEF_SIGNATURE):
        raise TnefError("the Outlook attachment winmail.dat is not in TNEF format")
    try:
        parsed = tnefparse.TNEF(data, do_checksum=False)
    except Exception as exc:  # the library raises whatever its parser hits on damaged data
        log.info("TNEF decoding failed: %r", exc)
        raise TnefError(
            "the Outlook attachment winmail.dat (rich-text format) is damaged and cannot be "
            "read; send the mail as HTML or plain text"
        ) from exc
    files: list[TnefFile] = []
    for index, attachment in enumerate(parsed.attachments, start=1):
        payload = bytes(attachment.data or b"")
        if not payload:
            continue
        files.append(TnefFile(filename=_attachment_name(attachment, index), data=payload))
    return TnefContent(
        attachments=files,
        body_text=_text(parsed.body),
        body_html=_text(parsed.htmlbody),
        has_rtf_body=bool(getattr(parsed, "_rtfbody", None)),
    )


def _attachment_name(attachment: object, index: int) -> str:
    for getter in ("long_filename", "name"):
        try:
            value = getattr(attachment, getter)
            name = value() if callable(value) else value
        except Exception as exc:  # names in odd code pages: fall back to the next source
            log.debug("TNEF attachment name via %s failed: %r", getter, exc)
            continue
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if isinstance(name, str) and name.strip("\x00 "):
            return name.strip("\x00 ")
    return f"attachment-{index}"


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").rstrip("\x00") or None
    if isinstance(value, str):
        return value.rstrip("\x00") or None
    return None
