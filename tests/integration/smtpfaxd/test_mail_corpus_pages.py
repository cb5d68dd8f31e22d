"""Each mail of the corpus through the interpreter and the real converters: jobs and pages.

The queue's own `prepare_document` converts the parts with the spool's shipped converters, as
faxqueued does after `interpret()`; the page counts are those of the fax that would be sent.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from pathlib import Path

import pytest

from faxgate.appliance import rootfs_dir
from faxgate.convert.tiffio import inspect_tiff
from faxgate.faxqueued.documents import page_options, prepare_document
from faxgate.mail.addresses import fax_recipient
from faxgate.settings import load_settings
from faxgate.smtpfaxd.interpret import interpret
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import FaxRequest, InterpretContext, Rejection

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "mail"

# mail, faxmail mode, fax pages (cover page counted), number of destinations
CASES = [
    ("outlook-html-signature.eml", 0, 1 + 2, 1),  # logo not a page; 2-page PDF
    ("thunderbird-plain-pdf.eml", 0, 1 + 2, 1),
    ("apple-mail-inline-pdf.eml", 0, 1 + 1, 1),
    ("forwarded-as-attachment.eml", 0, 1 + 1, 1),
    ("iso-8859-1-body.eml", 0, 1, 1),
    ("outlook-tnef-winmail.eml", 0, 1 + 1 + 2, 1),
    ("docx-and-pdf.eml", 0, 1 + 1, 1),  # the .docx is skipped (no converter shipped)
    ("attachment-only.eml", 0, 2, 1),  # no subject, no text: no cover page
    ("attachment-only.eml", 1, 2, 1),
    ("thunderbird-plain-pdf.eml", 1, 2, 1),
    ("no-attachment.eml", 0, 1, 1),
    ("ten-recipients.eml", 0, 1 + 2, 10),
]


def interpret_file(spool: Spool, name: str, mode: int, work: Path) -> FaxRequest | Rejection:
    settings = load_settings(environ={"FAXGATE_SYS_FAX_CONFIGURE_FAXMAIL_MODE": str(mode)})
    raw_path = CORPUS / name
    message = email.message_from_bytes(raw_path.read_bytes(), policy=email.policy.default)
    matcher = settings.matcher("sys.fax.configure.faxmail.matcher.fax")
    recipients = [
        fax_recipient(address, matcher, ["fax"]).as_params()
        for _, address in email.utils.getaddresses([str(message["To"])])
    ]
    ctx = InterpretContext(
        spool=spool, settings=settings, submission_id=1, kind="mail", raw_path=raw_path,
        params={"mail_from": "sender@example.com", "recipients": recipients}, owner=None,
        work_dir=work,
    )  # fmt: skip
    result = interpret(ctx)
    if isinstance(result, Rejection):
        return result
    assert isinstance(result, list)
    assert len(result) == 1
    return result[0]


@pytest.mark.parametrize(("name", "mode", "pages", "destinations"), CASES)
def test_mail_becomes_one_job_with_the_right_pages(
    spool: Spool, ledger: Ledger, tmp_path: Path, name: str, mode: int, pages: int,
    destinations: int,
) -> None:  # fmt: skip
    spool.seed_mimetype(rootfs_dir() / "usr/lib/faxgate/mimetype")
    work = tmp_path / "work"
    work.mkdir()
    request = interpret_file(spool, name, mode, work)
    assert isinstance(request, FaxRequest)
    assert len(request.destinations) == destinations
    document = prepare_document(spool, ledger, request.parts, page_options(load_settings()), work)
    assert document.pages == pages
    assert len(inspect_tiff(document.path)) == pages
    # converted once, whatever the number of destinations
    assert len(ledger.query("SELECT id FROM documents")) == 1


@pytest.mark.parametrize(
    ("name", "mode", "words"),
    [
        ("no-attachment.eml", 1, ["no attachment", "PDF"]),
        ("outlook-tnef-damaged.eml", 0, ["winmail.dat", "damaged"]),
    ],
)
def test_mail_that_cannot_be_faxed_is_rejected_in_plain_words(
    spool: Spool, tmp_path: Path, name: str, mode: int, words: list[str]
) -> None:
    spool.seed_mimetype(rootfs_dir() / "usr/lib/faxgate/mimetype")
    rejection = interpret_file(spool, name, mode, tmp_path)
    assert isinstance(rejection, Rejection)
    for word in words:
        assert word in rejection.reason
    assert rejection.notify == "sender@example.com"
