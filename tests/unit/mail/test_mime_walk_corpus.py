"""The MIME walk on mails as real clients write them (tests/fixtures/mail/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.mail.doctype import attachment_type
from faxgate.mail.mime_walk import WalkedMail, walk_mail

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "mail"


def walk(name: str) -> WalkedMail:
    return walk_mail((CORPUS / name).read_bytes())


def test_outlook_html_takes_the_html_body_and_not_the_signature_logo() -> None:
    mail = walk("outlook-html-signature.eml")
    assert mail.subject == "Offer 2026-117"
    assert [f.kind for f in mail.body] == ["html"]  # one body of the alternative, not both
    assert "please find our offer attached" in mail.body[0].text
    assert [a.filename for a in mail.attachments] == ["Offer 2026-117.pdf"]
    assert mail.inline_resources == ["image001.png"]


def test_thunderbird_plain_text_with_pdf() -> None:
    mail = walk("thunderbird-plain-pdf.eml")
    assert mail.body_kind == "plain"
    assert "invoice 4711, two pages" in mail.body[0].text
    (pdf,) = mail.attachments
    assert pdf.filename == "Invoice-4711.pdf"
    assert pdf.data.startswith(b"%PDF-1.4")


def test_apple_mail_inline_pdf_is_an_attachment_and_html_fragments_are_the_body() -> None:
    mail = walk("apple-mail-inline-pdf.eml")
    assert mail.body_kind == "html"
    assert len(mail.body) == 2  # the fragments before and after the inline PDF
    assert "Thanks, Lea" in mail.body[1].text
    assert [a.filename for a in mail.attachments] == ["Delivery note 88.pdf"]


def test_forwarded_mail_brings_its_headers_body_and_attachments() -> None:
    mail = walk("forwarded-as-attachment.eml")
    text = "\n".join(f.text for f in mail.body)
    assert "Please see the forwarded mail below." in text
    assert "From: Legal Department <legal@example.com>" in text
    assert "Please check §4." in text  # quoted-printable UTF-8 inside the forwarded mail
    (pdf,) = mail.attachments
    assert pdf.filename == "Contract-draft.pdf"
    assert "Contract draft" in pdf.origin


def test_iso_8859_1_body_and_rfc2047_headers_are_decoded() -> None:
    mail = walk("iso-8859-1-body.eml")
    assert mail.subject == "Preisänderung für Öl"
    assert mail.from_header == "Jürgen Groß <juergen.gross@example.de>"
    assert "Preisänderung für Öl und Maß" in mail.body[0].text
    assert "Grüßen" in mail.body[0].text


def test_tnef_winmail_is_unpacked_to_its_files() -> None:
    mail = walk("outlook-tnef-winmail.eml")
    assert mail.problems == []
    assert [a.filename for a in mail.attachments] == ["Contract signed.pdf", "Price list 2027.pdf"]
    assert all(a.data.startswith(b"%PDF-") and a.origin == "winmail.dat" for a in mail.attachments)
    assert "signed contract" in mail.body[0].text


def test_damaged_tnef_is_a_problem_in_plain_words() -> None:
    mail = walk("outlook-tnef-damaged.eml")
    assert mail.attachments == []
    assert len(mail.problems) == 1
    assert "winmail.dat" in mail.problems[0]


@pytest.mark.parametrize(
    ("name", "expected_types"),
    [
        (
            "docx-and-pdf.eml",
            [
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/pdf",  # sent as application/octet-stream without extension
            ],
        ),
        ("outlook-tnef-winmail.eml", ["application/pdf", "application/pdf"]),
    ],
)
def test_attachments_are_typed_by_content_then_declared_type(
    name: str, expected_types: list[str]
) -> None:
    mail = walk(name)
    found = [attachment_type(a.data, a.declared_type, a.filename) for a in mail.attachments]
    assert found == expected_types


def test_blank_body_is_recognised() -> None:
    assert walk("attachment-only.eml").body_is_blank()
    assert not walk("no-attachment.eml").body_is_blank()


def test_reply_to_is_read() -> None:
    mail = walk("ten-recipients.eml")
    assert (mail.sender, mail.reply_to) == ("office@example.org", "orders@example.org")
