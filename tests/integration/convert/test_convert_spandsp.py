"""Converted documents are accepted by spandsp, sent, and received page for page unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.convert import (
    Compression,
    FaxPageOptions,
    Resolution,
    convert_document,
    cover_page,
    merge_fax_tiffs,
    sniff_mime_type,
)
from faxgate.faxengine.compare import pages_equal
from faxgate.faxengine.loopback import transfer

CASES = [
    ("a4-3pages.pdf", FaxPageOptions(), True),
    ("scanned-colour.pdf", FaxPageOptions(), True),
    ("photo.jpg", FaxPageOptions(), True),
    ("utf8.txt", FaxPageOptions(), True),
    ("mail-body.html", FaxPageOptions(), True),
    ("handwritten.ps", FaxPageOptions(), True),
    ("onebit-wrongres.tif", FaxPageOptions(), True),
    ("landscape-a4.pdf", FaxPageOptions(resolution=Resolution.NORMAL), True),
    ("letter-2pages.pdf", FaxPageOptions(compression=Compression.G3_2D), False),
    ("latin1.txt", FaxPageOptions(Resolution.NORMAL, Compression.G3_1D), False),
]


@pytest.mark.parametrize(
    ("name", "options", "ecm"),
    CASES,
    ids=[f"{n}-{o.cache_key()}-{'ecm' if e else 'noecm'}" for n, o, e in CASES],
)
def test_spandsp_sends_the_converted_pages_unchanged(
    name: str,
    options: FaxPageOptions,
    ecm: bool,
    mimetype_dir: Path,
    documents: Path,
    tmp_path: Path,
) -> None:
    source = documents / name
    sent = convert_document(
        mimetype_dir, source, sniff_mime_type(source), tmp_path / "sent.tif", options
    )
    received = tmp_path / "received.tif"
    result = transfer(sent.path, received, ecm=ecm)
    assert result.succeeded, result
    assert result.sender.pages == result.receiver.pages == sent.pages
    equal = pages_equal(sent.path, received)
    assert len(equal) == sent.pages
    assert all(equal), equal


def test_cover_and_document_merged_are_sent(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    cover = cover_page("Order", "a@example.com", "Purchasing", "0991234567", "2026-11-26",
                       body_text="Attached.", out_tiff=tmp_path / "cover.tif")  # fmt: skip
    doc = convert_document(
        mimetype_dir, documents / "letter-2pages.pdf", "application/pdf", tmp_path / "doc.tif"
    )
    merged = tmp_path / "fax.tif"
    assert merge_fax_tiffs([cover.path, doc.path], merged) == 3
    result = transfer(merged, tmp_path / "received.tif", ecm=True)
    assert result.succeeded
    assert pages_equal(merged, tmp_path / "received.tif") == [True, True, True]
