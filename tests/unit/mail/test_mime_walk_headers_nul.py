"""An encoded word whose charset name holds a NUL byte (found by the mail fuzzer in CI)."""

from __future__ import annotations

from faxgate.mail.mime_walk import walk_mail


def test_a_nul_in_an_encoded_words_charset_leaves_the_header_as_written() -> None:
    raw = (
        b"From: a@example.com\r\nTo: b@0991234.fax\r\n"
        b"Subject: =?us\x00ascii?q?hello?=\r\n\r\nbody\r\n"
    )
    mail = walk_mail(raw)
    assert "hello" in mail.subject or "=?" in mail.subject
