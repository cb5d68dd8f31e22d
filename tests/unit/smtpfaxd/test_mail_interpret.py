"""The mail interpreter on the corpus: requests, parts, skipped files and rejections.

Uses a real spool with the shipped converters (their presence decides what can be faxed) and the
real cover-page renderer; the page counts after conversion are checked in the integration tier.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from pathlib import Path

import pytest

from faxgate.appliance import rootfs_dir
from faxgate.convert.tiffio import inspect_tiff
from faxgate.mail.addresses import fax_recipient
from faxgate.settings import Settings, load_settings
from faxgate.smtpfaxd.interpret import interpret
from faxgate.spool.layout import Spool
from faxgate.spool.requests import FaxRequest, InterpretContext, Rejection

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
SENDER = "envelope.sender@example.com"


@pytest.fixture
def converters(spool: Spool) -> Spool:
    spool.seed_mimetype(rootfs_dir() / "usr/lib/faxgate/mimetype")
    return spool


def settings_with(**overrides: str) -> Settings:
    environ = {
        "FAXGATE_SYS_FAX_CONFIGURE_" + name.upper(): value for name, value in overrides.items()
    }
    return load_settings(environ=environ)


def run(
    spool: Spool, tmp_path: Path, name: str, settings: Settings | None = None,
    mail_from: str = SENDER,
) -> FaxRequest | Rejection:  # fmt: skip
    raw_path = CORPUS / name
    message = email.message_from_bytes(raw_path.read_bytes(), policy=email.policy.default)
    settings = settings or settings_with()
    matcher = settings.matcher("sys.fax.configure.faxmail.matcher.fax")
    addresses = [addr for _, addr in email.utils.getaddresses([str(message["To"])])]
    recipients = [fax_recipient(a, matcher, ["fax"]).as_params() for a in addresses]
    work_dir = tmp_path / "work"
    work_dir.mkdir(exist_ok=True)
    ctx = InterpretContext(
        spool=spool, settings=settings, submission_id=1, kind="mail", raw_path=raw_path,
        params={"mail_from": mail_from, "recipients": recipients, "received_at": 1_790_000_000.0},
        owner=None, work_dir=work_dir,
    )  # fmt: skip
    result = interpret(ctx)
    if isinstance(result, Rejection):
        return result
    assert isinstance(result, list)
    assert len(result) == 1, "one request per mail"
    return result[0]


def describe(request: FaxRequest) -> list[tuple[str, str]]:
    return [(p.description, p.mime_type) for p in request.parts]


def test_outlook_html_mail_is_cover_then_pdf(converters: Spool, tmp_path: Path) -> None:
    request = run(converters, tmp_path, "outlook-html-signature.eml")
    assert isinstance(request, FaxRequest)
    assert describe(request) == [
        ("subject and text", "image/tiff"),
        ("Offer 2026-117.pdf", "application/pdf"),
    ]
    assert [(d.number, d.name) for d in request.destinations] == [("0991234", "Mueller")]
    assert request.notify == SENDER
    assert request.skipped == []
    cover = inspect_tiff(request.parts[0].path)
    assert len(cover) == 1
    assert cover[0].width == 1728
    assert request.parts[1].path.read_bytes().startswith(b"%PDF-")


def test_tnef_attachments_are_faxed(converters: Spool, tmp_path: Path) -> None:
    request = run(converters, tmp_path, "outlook-tnef-winmail.eml")
    assert isinstance(request, FaxRequest)
    assert [d for d, _ in describe(request)] == [
        "subject and text", "Contract signed.pdf", "Price list 2027.pdf",
    ]  # fmt: skip


def test_damaged_tnef_is_rejected_with_a_reason(converters: Spool, tmp_path: Path) -> None:
    rejection = run(converters, tmp_path, "outlook-tnef-damaged.eml")
    assert isinstance(rejection, Rejection)
    assert "winmail.dat" in rejection.reason
    assert "Signed contract (broken)" in rejection.reason
    assert rejection.notify == SENDER


def test_unsupported_docx_is_skipped_and_named_pdf_by_content_is_sent(
    converters: Spool, tmp_path: Path
) -> None:
    request = run(converters, tmp_path, "docx-and-pdf.eml")
    assert isinstance(request, FaxRequest)
    assert describe(request) == [
        ("subject and text", "image/tiff"),
        ("drawing_scan", "application/pdf"),
    ]
    assert len(request.skipped) == 1
    assert "Specification.docx" in request.skipped[0]


def test_docx_is_faxed_once_the_admin_adds_a_converter(converters: Spool, tmp_path: Path) -> None:
    docx = "vnd.openxmlformats-officedocument.wordprocessingml.document"
    converter = converters.mimetype / "application" / docx
    converter.write_text("#!/bin/sh\nexit 1\n")
    converter.chmod(0o755)
    request = run(converters, tmp_path, "docx-and-pdf.eml")
    assert isinstance(request, FaxRequest)
    assert "Specification.docx" in [p.description for p in request.parts]
    assert request.skipped == []


def test_iso_8859_1_mail_is_a_cover_page_only(converters: Spool, tmp_path: Path) -> None:
    request = run(converters, tmp_path, "iso-8859-1-body.eml")
    assert isinstance(request, FaxRequest)
    assert describe(request) == [("subject and text", "image/tiff")]
    assert [(d.number, d.name) for d in request.destinations] == [("0049991234", "Mueller")]
    assert request.tag == "Preisänderung für Öl"


def test_mode_0_without_subject_or_text_sends_only_the_attachment(
    converters: Spool, tmp_path: Path
) -> None:
    request = run(converters, tmp_path, "attachment-only.eml")
    assert isinstance(request, FaxRequest)
    assert describe(request) == [("Invoice-4711.pdf", "application/pdf")]
    assert [d.name for d in request.destinations] == [""]  # 0991234@0991234.fax has no name


def test_mode_1_sends_only_attachments(converters: Spool, tmp_path: Path) -> None:
    request = run(
        converters, tmp_path, "thunderbird-plain-pdf.eml", settings_with(faxmail_mode="1")
    )
    assert isinstance(request, FaxRequest)
    assert describe(request) == [("Invoice-4711.pdf", "application/pdf")]


def test_mode_1_without_attachment_is_rejected(converters: Spool, tmp_path: Path) -> None:
    rejection = run(converters, tmp_path, "no-attachment.eml", settings_with(faxmail_mode="1"))
    assert isinstance(rejection, Rejection)
    assert "no attachment" in rejection.reason
    assert "attach" in rejection.reason
    assert rejection.notify == SENDER


def test_mode_1_with_only_unsupported_attachments_names_them(
    converters: Spool, tmp_path: Path
) -> None:
    (converters.mimetype / "application" / "pdf").unlink()
    rejection = run(
        converters, tmp_path, "thunderbird-plain-pdf.eml", settings_with(faxmail_mode="1")
    )
    assert isinstance(rejection, Rejection)
    assert "Invoice-4711.pdf" in rejection.reason


def test_ten_recipients_make_one_request_with_ten_destinations(
    converters: Spool, tmp_path: Path
) -> None:
    request = run(converters, tmp_path, "ten-recipients.eml")
    assert isinstance(request, FaxRequest)
    assert len(request.destinations) == 10
    assert len({d.number for d in request.destinations}) == 10
    assert [d for d, _ in describe(request)] == ["subject and text", "Price list 2027.pdf"]
    assert request.notify == SENDER


def test_two_addresses_for_one_number_send_one_fax(converters: Spool, tmp_path: Path) -> None:
    settings = settings_with()
    matcher = settings.matcher("sys.fax.configure.faxmail.matcher.fax")
    recipients = [
        fax_recipient(address, matcher, ["fax"]).as_params()
        for address in ("Mueller@0991234.fax", "Schmidt@0991234.fax", "Lager@0995555.fax")
    ]
    ctx = InterpretContext(
        spool=converters, settings=settings, submission_id=1, kind="mail",
        raw_path=CORPUS / "thunderbird-plain-pdf.eml",
        params={"mail_from": SENDER, "recipients": recipients}, owner=None, work_dir=tmp_path,
    )  # fmt: skip
    (request,) = interpret(ctx)  # type: ignore[misc]
    assert isinstance(request, FaxRequest)
    assert [(d.number, d.name) for d in request.destinations] == [
        ("0991234", "Mueller"),
        ("0995555", "Lager"),
    ]


def test_reply_to_gets_notifications_when_configured(converters: Spool, tmp_path: Path) -> None:
    settings = settings_with(faxmail_notify_replyto="true")
    request = run(converters, tmp_path, "ten-recipients.eml", settings)
    assert isinstance(request, FaxRequest)
    assert request.notify == "orders@example.org"


def test_null_sender_is_never_notified(converters: Spool, tmp_path: Path) -> None:
    rejection = run(converters, tmp_path, "outlook-tnef-damaged.eml", mail_from="")
    assert isinstance(rejection, Rejection)
    assert rejection.notify is None


def test_forwarded_and_apple_mails_fax_their_pdfs(converters: Spool, tmp_path: Path) -> None:
    forwarded = run(converters, tmp_path, "forwarded-as-attachment.eml")
    apple = run(converters, tmp_path, "apple-mail-inline-pdf.eml")
    assert isinstance(forwarded, FaxRequest)
    assert isinstance(apple, FaxRequest)
    assert [d for d, _ in describe(forwarded)] == ["subject and text", "Contract-draft.pdf"]
    assert [d for d, _ in describe(apple)] == ["subject and text", "Delivery note 88.pdf"]
