"""Delivering received faxes: routing by extension, formats, bad files, a full disk."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from faxgate import devices
from faxgate.convert.options import FaxPageOptions
from faxgate.convert.tiffio import encode_page, write_fax_tiff
from faxgate.faxqueued import inbound
from faxgate.mail import outbox
from faxgate.settings import Settings, load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

T0 = 1_800_000_000.0


@pytest.fixture
def settings(ledger: Ledger) -> Settings:
    return load_settings(ledger=ledger, environ={})


def fax_file(spool: Spool, name: str, pages: int = 2) -> Path:
    images = []
    for number in range(pages):
        page = Image.new("1", (1728, 2200), 1)
        ImageDraw.Draw(page).rectangle((100, 100 + number * 50, 900, 400), fill=0)
        images.append(encode_page(page, FaxPageOptions()))
    path = spool.recvq / name
    write_fax_tiff(images, path)
    return path


def received(ledger: Ledger, path: Path, dnid: str) -> int:
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO received_faxes (tiff_path, dnid, caller_id, remote_ident, pages, line,"
            " state, received_at) VALUES (?, ?, '0301234', 'ACME', 2, '2', 'received', ?)",
            (str(path), dnid, T0),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def mails(spool: Spool) -> list[EmailMessage]:
    found = []
    for path in outbox.pending_messages(spool):
        message = message_from_bytes(outbox.read_message(path)[1], policy=default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def test_routed_to_each_device_address_in_its_format(
    spool: Spool, ledger: Ledger, settings: Settings
) -> None:
    devices.add(ledger, "100", ["a@x", "b@x"], actor="t", fmt="tif")
    fax_id = received(ledger, fax_file(spool, "fax00000001.tif"), "100")
    assert inbound.deliver_received(spool, settings, ledger) == 1
    got = mails(spool)
    assert sorted(str(m["To"]) for m in got) == ["a@x", "b@x"]
    for m in got:
        assert [p.get_content_type() for p in m.iter_attachments()] == ["image/tiff"]
    row = ledger.query_one("SELECT * FROM received_faxes WHERE id = ?", (fax_id,))
    assert row is not None
    assert row["state"] == "delivered"
    assert row["device_id"] is not None
    assert (spool.root / row["pdf_path"]).read_bytes().startswith(b"%PDF")
    assert (spool.root / row["thumbnail_path"]).read_bytes().startswith(b"\x89PNG")
    assert "RECV" in (spool.log / "xferfaxlog").read_text()


def test_unknown_extension_goes_to_the_faxmaster_as_pdf(
    spool: Spool, ledger: Ledger, settings: Settings
) -> None:
    received(ledger, fax_file(spool, "fax00000002.tif"), "999")
    inbound.deliver_received(spool, settings, ledger)
    [mail] = mails(spool)
    assert mail["To"] == "faxmaster@localhost"
    assert "unknown extension 999" in mail["Subject"]
    [pdf] = list(mail.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"


def test_unreadable_fax_is_kept_in_bad_and_reported(
    spool: Spool, ledger: Ledger, settings: Settings
) -> None:
    broken = spool.recvq / "fax00000003.tif"
    broken.write_bytes(b"II*\x00 not really a tiff")
    fax_id = received(ledger, broken, "100")
    inbound.deliver_received(spool, settings, ledger)
    row = ledger.query_one("SELECT state FROM received_faxes WHERE id = ?", (fax_id,))
    assert row is not None
    assert row["state"] == "bad"
    assert (spool.bad / "fax00000003.tif").exists()
    note = ledger.query_one("SELECT kind, address FROM queue_notifications")
    assert note is not None
    assert (note["kind"], note["address"]) == ("bad", "faxmaster@localhost")


def test_full_disk_leaves_the_fax_waiting(
    spool: Spool, ledger: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxgate.spool.atomic import DiskFullError

    fax_id = received(ledger, fax_file(spool, "fax00000004.tif"), "100")

    def full(*args: Any, **kwargs: Any) -> Any:
        raise DiskFullError("no space left")

    monkeypatch.setattr(outbox, "enqueue", full)
    inbound.deliver_received(spool, settings, ledger)
    row = ledger.query_one("SELECT state FROM received_faxes WHERE id = ?", (fax_id,))
    assert row is not None
    assert row["state"] == "received"
    assert (spool.recvq / "fax00000004.tif").exists()
