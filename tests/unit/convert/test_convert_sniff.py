"""MIME types judged by content, as print and mail clients often send none or a wrong one."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.convert.sniff import sniff_mime_type, strip_pjl

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "documents"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
        (b"\r\n\r\ngarbage before %PDF-1.4\n", "application/pdf"),
        (b"%!PS-Adobe-3.0\n", "application/postscript"),
        (b"\xc5\xd0\xd3\xc6\x20\x00", "application/postscript"),
        (
            b"\x1b%-12345X@PJL JOB\r\n@PJL ENTER LANGUAGE=POSTSCRIPT\r\n%!PS\n",
            "application/postscript",
        ),
        (b"\x1b%-12345X@PJL ENTER LANGUAGE=PDF\r\n%PDF-1.4\n", "application/pdf"),
        (b"II*\x00\x08\x00", "image/tiff"),
        (b"MM\x00*\x00\x00", "image/tiff"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RaS2PwgRaster\x00" + b"\x00" * 50, "image/pwg-raster"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "text/html"),
        (b"\xef\xbb\xbf  <html lang=de>", "text/html"),
        (b"<!-- mail --> <HTML>", "text/html"),
        (b"Hello,\nsee <b>this</b> and <p>that</p>\n", "text/html"),
        (b"Dear customer,\nplain text only.\n", "text/plain"),
        ("Grüße\n".encode("iso-8859-1"), "text/plain"),
        (b"", "text/plain"),
        (b"\x00\x01\x02\x03binary", "application/octet-stream"),
    ],
)
def test_magic_bytes(head: bytes, expected: str) -> None:
    assert sniff_mime_type(head) == expected


def test_pjl_envelope_is_removed_up_to_the_wrapped_language() -> None:
    job = b"\x1b%-12345X@PJL SET RESOLUTION=600\r\n%!PS-Adobe\nshowpage\n"
    assert strip_pjl(job) == b"%!PS-Adobe\nshowpage\n"
    assert strip_pjl(b"%!PS\n") == b"%!PS\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a4-3pages.pdf", "application/pdf"),
        ("ps2write.ps", "application/postscript"),
        ("pjl-wrapped.ps", "application/postscript"),
        ("grey-wrongres.tif", "image/tiff"),
        ("transparent.png", "image/png"),
        ("photo.jpg", "image/jpeg"),
        ("small.gif", "image/gif"),
        ("latin1.txt", "text/plain"),
        ("mail-body.html", "text/html"),
    ],
)
def test_fixture_files(name: str, expected: str) -> None:
    assert sniff_mime_type(FIXTURES / name) == expected
