"""MIME walk rules on small hand-made messages: each rule in isolation."""

from __future__ import annotations

import base64
import struct

import pytest

from faxgate.mail.doctype import attachment_type
from faxgate.mail.mime_walk import walk_mail
from faxgate.mail.tnef import TnefError, decode_tnef, is_tnef


def message(content_type: str, body: str, headers: str = "") -> bytes:
    text = f"From: a@example.com\nTo: x@1.fax\nSubject: t\n{headers}MIME-Version: 1.0\n"
    text += f"Content-Type: {content_type}\n\n{body}"
    return text.replace("\n", "\r\n").encode()


def test_alternative_takes_only_the_richest_form() -> None:
    raw = message(
        'multipart/alternative; boundary="b"',
        "--b\nContent-Type: text/plain\n\nplain form\n--b\nContent-Type: text/html\n\n"
        "<p>html form</p>\n--b--\n",
    )
    mail = walk_mail(raw)
    assert [(f.kind, "form" in f.text) for f in mail.body] == [("html", True)]
    assert "plain form" not in mail.body[0].text


def test_alternative_skips_forms_it_cannot_render() -> None:
    raw = message(
        'multipart/alternative; boundary="b"',
        "--b\nContent-Type: text/plain\n\nplain form\n--b\nContent-Type: text/calendar\n\n"
        "BEGIN:VCALENDAR\n--b--\n",
    )
    assert [f.text.strip() for f in walk_mail(raw).body] == ["plain form"]


def test_base64_body_with_unknown_charset_does_not_crash() -> None:
    encoded = base64.b64encode("Grüße".encode()).decode()
    raw = message(
        "text/plain; charset=x-unknown-charset", encoded + "\n",
        headers="Content-Transfer-Encoding: base64\n",
    )  # fmt: skip
    assert walk_mail(raw).body[0].text == "Grüße"


def test_us_ascii_declared_but_8bit_windows_text_is_read_as_cp1252() -> None:
    raw = b"From: a@b.c\r\nSubject: t\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nPreis 5 \x80\r\n"
    assert walk_mail(raw).body[0].text.strip() == "Preis 5 €"


def test_outlook_rfc2047_filename_is_decoded() -> None:
    raw = message(
        'multipart/mixed; boundary="b"',
        "--b\nContent-Type: text/plain\n\nhi\n--b\n"
        'Content-Type: application/pdf; name="=?utf-8?Q?Pr=C3=BCfbericht.pdf?="\n'
        'Content-Disposition: attachment; filename="=?utf-8?Q?Pr=C3=BCfbericht.pdf?="\n'
        "Content-Transfer-Encoding: base64\n\n"
        + base64.b64encode(b"%PDF-1.4 x").decode()
        + "\n--b--\n",
    )
    (attachment,) = walk_mail(raw).attachments
    assert attachment.filename == "Prüfbericht.pdf"


def test_encrypted_mail_is_a_problem() -> None:
    raw = message(
        'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"',
        "--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--b\n"
        "Content-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\n--b--\n",
    )
    mail = walk_mail(raw)
    assert mail.problems
    assert "encrypted" in mail.problems[0]
    assert mail.attachments == []


def test_signed_mail_faxes_its_content_not_the_signature() -> None:
    raw = message(
        'multipart/signed; protocol="application/pkcs7-signature"; boundary="b"',
        "--b\nContent-Type: text/plain\n\nsigned text\n--b\n"
        'Content-Type: application/pkcs7-signature; name="smime.p7s"\n\nMIIG\n--b--\n',
    )
    mail = walk_mail(raw)
    assert mail.body[0].text.strip() == "signed text"
    assert mail.attachments == []


def test_image_referenced_by_cid_in_mixed_is_not_an_attachment() -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nxx").decode()
    raw = message(
        'multipart/mixed; boundary="b"',
        '--b\nContent-Type: text/html\n\n<p>hi</p><img src="cid:logo@x">\n--b\n'
        "Content-Type: image/png; name=logo.png\nContent-ID: <logo@x>\n"
        f"Content-Transfer-Encoding: base64\n\n{png}\n--b\n"
        "Content-Type: image/png; name=photo.png\nContent-Disposition: attachment\n"
        f"Content-Transfer-Encoding: base64\n\n{png}\n--b--\n",
    )
    mail = walk_mail(raw)
    assert [a.filename for a in mail.attachments] == ["photo.png"]
    assert mail.inline_resources == ["logo.png"]


def test_deep_nesting_is_refused_not_recursed_forever() -> None:
    body = "x"
    for level in reversed(range(40)):
        body = f'--b{level}\nContent-Type: multipart/mixed; boundary="b{level + 1}"\n\n{body}\n--b{level}--\n'
    raw = message('multipart/mixed; boundary="b0"', body)
    assert any("nested" in p for p in walk_mail(raw).problems)


def test_content_beats_a_wrong_declared_type_and_name() -> None:
    assert (
        attachment_type(b"%PDF-1.7\n...", "application/msword", "letter.doc") == "application/pdf"
    )
    assert attachment_type(b"a,b\n1,2\n", "application/octet-stream", "t.csv") == "text/csv"
    assert attachment_type(b"PK\x03\x04\x14\x00\x00", "application/octet-stream", "x.docx") == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert attachment_type(b"\x00\x01\x02", "", "") == "application/octet-stream"


def test_tnef_detection_and_refusal_of_non_tnef() -> None:
    assert is_tnef("application/ms-tnef", "", b"")
    assert is_tnef("application/octet-stream", "WINMAIL.DAT", b"")
    assert not is_tnef("application/pdf", "a.pdf", b"%PDF")
    with pytest.raises(TnefError, match=r"winmail\.dat"):
        decode_tnef(b"%PDF-1.4 not tnef")


def test_tnef_with_only_an_rtf_body_says_the_text_is_not_faxed() -> None:
    def attribute(level: int, type_: int, name: int, data: bytes) -> bytes:
        header = struct.pack("<BHHI", level, name, type_, len(data))
        return header + data + struct.pack("<H", sum(data) & 0xFFFF)

    rtf = b"LZFu" + b"\x00" * 12  # a (tiny) compressed RTF body property
    props = struct.pack("<IHHI", 1, 0x0102, 0x1009, 1) + struct.pack("<I", len(rtf)) + rtf
    winmail = struct.pack("<IH", 0x223E9F78, 1) + attribute(1, 0x0006, 0x9003, props)
    raw = message(
        'multipart/mixed; boundary="b"',
        "--b\nContent-Type: application/ms-tnef; name=winmail.dat\n"
        "Content-Transfer-Encoding: base64\n\n" + base64.b64encode(winmail).decode() + "\n--b--\n",
    )
    mail = walk_mail(raw)
    assert mail.problems == []
    assert len(mail.notes) == 1
    assert "rich text" in mail.notes[0]
