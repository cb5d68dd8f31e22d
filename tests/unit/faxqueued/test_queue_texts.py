"""Notification and received-fax mails, FaxNotify parsing and the xferfaxlog line."""

from __future__ import annotations

from email.message import EmailMessage

from faxgate.faxqueued.notifications import DEFAULT_FAXNOTIFY, faxnotify_inline
from faxgate.faxqueued.xferfaxlog import Transfer, format_line
from faxgate.mail.compose import (
    JobFacts,
    ReceivedFacts,
    inline_notification,
    plain_notification,
    received_fax_mail,
)


def test_faxnotify_default_is_off_and_uncommenting_turns_it_on() -> None:
    assert faxnotify_inline(DEFAULT_FAXNOTIFY) is False
    assert faxnotify_inline(DEFAULT_FAXNOTIFY.replace("#INLINE=true", "INLINE=true")) is True
    assert faxnotify_inline('INLINE = "yes"  # comment\n') is True
    assert faxnotify_inline("INLINE=false\n") is False


def test_plain_notification_names_everything_in_plain_words() -> None:
    facts = JobFacts(
        kind="requeued",
        job_id=12,
        tag="Offer 7",
        number="0301234",
        recipient_name="ACME",
        pages_sent=1,
        pages_total=3,
        remote_ident="+49 30 1234",
        duration_s=75,
        reason="nobody answered",
        tries=0,
        dials=1,
        next_try_at=1_800_000_000.0,
    )
    m = plain_notification(facts, "fax@example.com", "alice@example.com")
    text = m.get_content()
    assert m["Subject"] == "Fax to 0301234 not sent yet, will try again [Offer 7]"
    for expected in (
        "Offer 7",
        "ACME (0301234)",
        "1 of 3",
        "+49 30 1234",
        "1 min 15 s",
        "nobody answered",
        "Next try:",
    ):
        assert expected in text
    assert not m.is_multipart()


def test_inline_notification_has_html_image_and_pdf() -> None:
    facts = JobFacts(kind="done", number="100", pages_sent=1, pages_total=1)
    m = inline_notification(facts, "f@x", "a@y", (b"\x89PNG fake", "png"), b"%PDF-1.4 fake")
    types = [p.get_content_type() for p in m.walk()]
    assert types.count("text/plain") == 1
    assert "text/html" in types
    assert "image/png" in types
    assert "application/pdf" in types
    html = m.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage)
    image = next(p for p in m.walk() if p.get_content_type() == "image/png")
    assert f"cid:{image['Content-ID'][1:-1]}" in html.get_content()


def facts(**kw: object) -> ReceivedFacts:
    base: dict[str, object] = dict(
        fax_id=5,
        extension="100",
        caller_id="0301234",
        remote_ident="ACME FAX",
        pages=2,
        received_at=1_800_000_000.0,
    )
    base.update(kw)
    return ReceivedFacts(**base)  # type: ignore[arg-type]


def test_received_fax_formats() -> None:
    pdf, tif, gif = b"%PDF", b"II*\x00", b"GIF89a"
    as_pdf = received_fax_mail(facts(), "f@x", "bob@y", "pdf", pdf, tif, None)
    assert [p.get_filename() for p in as_pdf.iter_attachments()] == ["fax00000005.pdf"]
    assert "ACME FAX" in as_pdf["Subject"]
    assert "0301234" in as_pdf.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    as_tif = received_fax_mail(facts(), "f@x", "bob@y", "tif", pdf, tif, None)
    assert [p.get_content_type() for p in as_tif.iter_attachments()] == ["image/tiff"]
    inline = received_fax_mail(facts(), "f@x", "bob@y", "inlinegif", pdf, None, gif)
    types = [p.get_content_type() for p in inline.walk()]
    assert "image/gif" in types
    assert "application/pdf" in types
    unknown = received_fax_mail(
        facts(unknown_extension=True, extension="999"), "f@x", "fm@y", "pdf", pdf, None, None
    )
    assert unknown["Subject"].startswith("Fax for unknown extension 999")


def test_xferfaxlog_line_has_hylafax_fields() -> None:
    line = format_line(
        Transfer(
            direction="SEND",
            at=1_800_000_000.0,
            commid=42,
            modem="1",
            jobid="7",
            jobtag="tag\twith tab",
            sender="alice@x",
            number="100",
            remote_ident='He said "hi"',
            params=14400,
            pages=3,
            job_time_s=3725,
            connect_time_s=65,
            reason="",
        )
    )
    fields = line.rstrip("\n").split("\t")
    assert len(fields) == 20
    assert fields[1:5] == ["SEND", "000000042", "1", "7"]
    assert fields[5] == "tag with tab"
    assert fields[7] == '"100"'
    assert fields[8] == '"He said \\"hi\\""'
    assert fields[9:13] == ["14400", "3", "1:02:05", "0:01:05"]
