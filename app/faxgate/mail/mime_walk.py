"""The MIME walk: what of a mail is its body and what are its attachments.

Pure (bytes in, dataclasses out), so every rule is tested on the mail corpus in
tests/fixtures/mail/. The rules, as mail clients actually build their messages:

- multipart/alternative holds one body in several forms: the richest one we can render is taken
  (HTML before plain text), never both. Apple Mail puts inline attachments only into the HTML
  alternative (a multipart/mixed of HTML fragments and the files), so the richest form is also the
  one that carries them.
- multipart/related is an HTML body with its resources: images referenced by `cid:` (signature
  logos) belong to the body and are not faxed as pages of their own.
- message/rfc822 is a forwarded mail: its headers and body are appended to the body, its
  attachments are attachments.
- multipart/signed is its first part; an encrypted mail cannot be faxed.
- application/ms-tnef (Outlook's winmail.dat) is unpacked to its attachments.
- Headers are decoded (RFC 2047), bodies by transfer encoding (base64, quoted-printable, 8bit)
  and charset; an unknown charset is read as UTF-8 with replacement characters, never a crash.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import Literal

from faxgate.mail.tnef import TnefError, decode_tnef, is_tnef

MAX_DEPTH = 20
MAX_PARTS = 500

BodyKind = Literal["plain", "html"]
_CID_REFERENCE = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)
_SIGNATURE_TYPES = frozenset(
    {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}
)


@dataclass(frozen=True)
class BodyFragment:
    """A piece of the mail's text in reading order (the body, then forwarded mails)."""

    kind: BodyKind
    text: str


@dataclass(frozen=True)
class Attachment:
    """A file of the mail as declared by its sender (the content decides its real type later)."""

    filename: str
    declared_type: str
    data: bytes
    content_id: str = ""
    origin: str = ""  # where it came from when nested, e.g. "winmail.dat" or a forwarded mail


@dataclass
class WalkedMail:
    """The result of the walk: headers decoded, body fragments, attachments, problems."""

    subject: str = ""
    sender: str = ""  # From: header address
    from_header: str = ""  # From: header as written (decoded), for the cover page
    reply_to: str = ""
    message_id: str = ""
    body: list[BodyFragment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    inline_resources: list[str] = field(default_factory=list)  # dropped: signature images etc.
    problems: list[str] = field(default_factory=list)  # plain words: why the mail cannot be faxed
    notes: list[str] = field(default_factory=list)  # plain words: what of the mail is not faxed

    @property
    def body_kind(self) -> BodyKind:
        return "html" if any(f.kind == "html" for f in self.body) else "plain"

    def body_is_blank(self) -> bool:
        return all(not _visible_text(f).strip() for f in self.body)


def parse_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def walk_mail(raw: bytes) -> WalkedMail:
    """Walk a whole mail as received."""
    message = parse_message(raw)
    result = WalkedMail(
        subject=header_text(message, "Subject"),
        sender=_address(header_text(message, "From")),
        from_header=header_text(message, "From"),
        reply_to=_address(header_text(message, "Reply-To")),
        message_id=header_text(message, "Message-ID"),
    )
    walker = _Walker(result)
    walker.walk(message, depth=0, origin="")
    _drop_referenced_resources(result)
    return result


def header_text(message: Message, name: str) -> str:
    """A header decoded (RFC 2047) and unfolded; '' when absent or beyond repair."""
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot make sense of: treat as absent
        value = None
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:  # an encoded word the policy left alone (e.g. inside quotes)
        text = _decode_words(text)
    return " ".join(text.split())


class _Walker:
    def __init__(self, result: WalkedMail) -> None:
        self.result = result
        self.parts_seen = 0

    def walk(self, part: Message, depth: int, origin: str) -> None:
        self.parts_seen += 1
        if depth > MAX_DEPTH or self.parts_seen > MAX_PARTS:
            self._problem("the mail is nested too deeply or has too many parts to be faxed")
            return
        content_type = part.get_content_type()
        if content_type == "multipart/alternative":
            self._alternative(part, depth, origin)
        elif content_type == "multipart/related":
            self._related(part, depth, origin)
        elif content_type == "multipart/signed":
            children = _children(part)
            if children:
                self.walk(children[0], depth + 1, origin)
        elif content_type == "multipart/encrypted" or _is_encrypted_smime(part):
            self._problem(
                "the mail is encrypted; the fax server cannot read it — send it unencrypted"
            )
        elif content_type == "message/rfc822":  # before multipart: the parser nests it as one
            self._forwarded(part, depth, origin)
        elif part.is_multipart():  # mixed, and unknown multiparts are read as mixed (RFC 2046)
            for child in _children(part):
                self.walk(child, depth + 1, origin)
        else:
            self._leaf(part, origin)

    def _alternative(self, part: Message, depth: int, origin: str) -> None:
        # RFC 2046: alternatives are in increasing order of faithfulness; take the last we can use.
        for child in reversed(_children(part)):
            if _renderable(child):
                self.walk(child, depth + 1, origin)
                return

    def _related(self, part: Message, depth: int, origin: str) -> None:
        children = _children(part)
        if not children:
            return
        root = _related_root(part, children)
        self.walk(root, depth + 1, origin)
        for child in children:
            if child is root:
                continue
            if child.get_content_maintype() == "image" or not child.get_filename():
                self.result.inline_resources.append(_describe(child))
            else:
                self.walk(child, depth + 1, origin)

    def _forwarded(self, part: Message, depth: int, origin: str) -> None:
        inner = part.get_payload(0) if part.is_multipart() else None
        if not isinstance(inner, Message):
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes) or not payload:
                return
            inner = parse_message(payload)
        subject = header_text(inner, "Subject")
        heading = ["---------- Forwarded message ----------"]
        for name in ("From", "Date", "Subject", "To", "Cc"):
            value = header_text(inner, name)
            if value:
                heading.append(f"{name}: {value}")
        self.result.body.append(BodyFragment("plain", "\n".join(heading) + "\n"))
        self.walk(inner, depth + 1, origin or f"forwarded mail {subject!r}")

    def _leaf(self, part: Message, origin: str) -> None:
        content_type = part.get_content_type()
        filename = _filename(part)
        disposition = part.get_content_disposition()
        data = _payload_bytes(part)
        if content_type in _SIGNATURE_TYPES:
            return  # a signature belongs to the mail, not to the fax
        if is_tnef(content_type, filename, data):
            self._tnef(data, filename or "winmail.dat")
            return
        if (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and not filename
        ):
            kind: BodyKind = "html" if content_type == "text/html" else "plain"
            self.result.body.append(BodyFragment(kind, _decode_text(part, data)))
            return
        self.result.attachments.append(
            Attachment(
                filename=filename or _default_name(content_type, len(self.result.attachments)),
                declared_type=content_type,
                data=data,
                content_id=_content_id(part),
                origin=origin,
            )
        )

    def _tnef(self, data: bytes, filename: str) -> None:
        try:
            content = decode_tnef(data)
        except TnefError as exc:
            self._problem(str(exc))
            return
        for item in content.attachments:
            self.result.attachments.append(
                Attachment(item.filename, "application/octet-stream", item.data, origin=filename)
            )
        if not self.result.body and content.body_text:
            self.result.body.append(BodyFragment("plain", content.body_text))
        elif not self.result.body and content.body_html:
            self.result.body.append(BodyFragment("html", content.body_html))
        elif not self.result.body and content.has_rtf_body:
            self.result.notes.append(
                "the text of the mail: Outlook sent it only as rich text (RTF) inside winmail.dat, "
                "which cannot be faxed; send the mail as HTML or plain text"
            )

    def _problem(self, text: str) -> None:
        if text not in self.result.problems:
            self.result.problems.append(text)


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    return [child for child in payload if isinstance(child, Message)]


def _renderable(part: Message) -> bool:
    content_type = part.get_content_type()
    if content_type in ("text/plain", "text/html"):
        return True
    if part.is_multipart():
        return any(_renderable(child) for child in _children(part))
    return False


def _related_root(part: Message, children: list[Message]) -> Message:
    start = part.get_param("start")
    if isinstance(start, str):
        wanted = start.strip().strip("<>")
        for child in children:
            if _content_id(child) == wanted:
                return child
    return children[0]


def _is_encrypted_smime(part: Message) -> bool:
    if part.get_content_type() not in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
        return False
    smime_type = part.get_param("smime-type")
    return not (isinstance(smime_type, str) and smime_type.lower() == "signed-data")


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # broken transfer encoding: keep what the raw payload says
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _decode_text(part: Message, data: bytes) -> str:
    charset = part.get_content_charset() or "us-ascii"
    for candidate in (charset, "utf-8"):
        try:
            text = data.decode(_charset_alias(candidate))
        except (LookupError, ValueError):
            # ValueError covers UnicodeDecodeError and a charset name codecs cannot even look up
            # (a NUL byte in it: found by the fuzzer, tests/fixtures/faults/mail).
            continue
        return text.replace("\r\n", "\n")
    # Declared charset wrong or unknown (us-ascii with 8-bit bytes is common): Windows-1252 is the
    # usual truth and decodes every byte.
    return data.decode("cp1252", errors="replace").replace("\r\n", "\n")


def _charset_alias(charset: str) -> str:
    charset = charset.strip().strip('"').lower()
    # ISO-8859-1 mail is nearly always written by Windows with cp1252's extra characters (€, „ “).
    return {
        "iso-8859-1": "cp1252",
        "latin1": "cp1252",
        "us-ascii": "ascii",
        "ks_c_5601-1987": "cp949",
    }.get(charset, charset)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # a parameter the parser cannot decode
        name = None
    if not name:
        name_param = part.get_param("name")
        name = name_param if isinstance(name_param, str) else None
    if not name:
        return ""
    if "=?" in name:  # Outlook writes RFC 2047 words inside quoted parameters
        name = _decode_words(name)
    # Only the last path component: a name is shown to people and used in messages only.
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()


def _decode_words(text: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (ValueError, LookupError, email.errors.HeaderParseError):
        # ValueError covers UnicodeDecodeError and a charset name with a NUL byte (fuzzer).
        return text


def _content_id(part: Message) -> str:
    value = part.get("Content-ID")
    return str(value).strip().strip("<>") if value else ""


def _describe(part: Message) -> str:
    return _filename(part) or _content_id(part) or part.get_content_type()


def _default_name(content_type: str, index: int) -> str:
    return f"attachment-{index + 1} ({content_type})"


def _address(header_value: str) -> str:
    return email.utils.parseaddr(header_value)[1] if header_value else ""


def _visible_text(fragment: BodyFragment) -> str:
    if fragment.kind == "plain":
        return fragment.text
    return re.sub(
        r"<[^>]*>|&nbsp;", " ", re.sub(r"(?is)<(style|script|head)\b.*?</\1>", "", fragment.text)
    )


def _drop_referenced_resources(result: WalkedMail) -> None:
    """Images an HTML body shows by `cid:` are part of the body (logos), not pages to fax."""
    referenced = {
        match.lower()
        for fragment in result.body
        if fragment.kind == "html"
        for match in _CID_REFERENCE.findall(fragment.text)
    }
    if not referenced:
        return
    kept: list[Attachment] = []
    for attachment in result.attachments:
        if attachment.content_id and attachment.content_id.lower() in referenced:
            result.inline_resources.append(attachment.filename)
        else:
            kept.append(attachment)
    result.attachments = kept
