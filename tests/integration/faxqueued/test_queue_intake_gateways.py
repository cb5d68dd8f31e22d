"""Intake with the real gateway interpreters and the real converters (no daemon loop)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faxgate.appliance import initialise
from faxgate.faxqueued import intake
from faxgate.faxqueued.api import jobs_of_submission
from faxgate.settings import load_settings
from faxgate.spool import intake as spool_intake
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

MAIL = Path(__file__).parents[2] / "fixtures" / "mail"
pytest.importorskip("faxgate.smtpfaxd.interpret", reason="the mail gateway is not here yet")


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    made = Spool(tmp_path / "spool")
    initialise(made)
    return made


def submit_mail(spool: Spool, ledger: Ledger, name: str, numbers: list[str]) -> int:
    recipients = [{"address": f"{n}@fax.example", "number": n} for n in numbers]
    return spool_intake.accept(
        spool,
        ledger,
        "mail",
        (MAIL / name).read_bytes(),
        {"recipients": recipients, "mail_from": "alice@example.com"},
    )


def test_mail_to_two_numbers_is_converted_once_and_becomes_two_jobs(spool: Spool) -> None:
    with Ledger.open(spool.ledger_path) as ledger:
        settings = load_settings(ledger=ledger, environ={})
        sid = submit_mail(spool, ledger, "apple-mail-inline-pdf.eml", ["100", "200"])
        [claimed] = intake.claim(ledger, 1)
        assert intake.process(spool, settings, claimed) == "done"
        jobs = jobs_of_submission(ledger, sid)
        documents = ledger.query("SELECT * FROM documents")
    assert sorted(j.number for j in jobs) == ["100", "200"]
    assert len(documents) == 1
    assert {j.pages_total for j in jobs} == {documents[0]["pages"]}
    assert documents[0]["pages"] >= 1
    assert (spool.docq / documents[0]["path"]).exists()
    assert not any(spool.incoming.iterdir())


def test_same_mail_again_reuses_the_converted_document(spool: Spool) -> None:
    with Ledger.open(spool.ledger_path) as ledger:
        settings = load_settings(ledger=ledger, environ={})
        for _ in range(2):
            submit_mail(spool, ledger, "no-attachment.eml", ["100"])
        for claimed in intake.claim(ledger, 2):
            assert intake.process(spool, settings, claimed) == "done"
        assert len(ledger.query("SELECT id FROM documents")) == 1
        assert len(ledger.query("SELECT id FROM jobs")) == 2


def test_unsupported_attachment_is_skipped_and_told(spool: Spool) -> None:
    with Ledger.open(spool.ledger_path) as ledger:
        settings = load_settings(ledger=ledger, environ={})
        sid = submit_mail(spool, ledger, "docx-and-pdf.eml", ["100"])
        [claimed] = intake.claim(ledger, 1)
        assert intake.process(spool, settings, claimed) == "done"
        [job] = jobs_of_submission(ledger, sid)
        notes = ledger.query("SELECT kind, detail FROM queue_notifications")
    assert job.skipped
    assert any(".docx" in note for note in job.skipped)
    skipped_notes = [n for n in notes if n["kind"] == "skipped"]
    assert len(skipped_notes) == 1
    assert ".docx" in json.dumps(json.loads(skipped_notes[0]["detail"]))


def test_the_same_mail_again_is_told_its_skipped_parts_too(spool: Spool) -> None:
    # Review finding: a second identical mail reused the converted document and lost the list of
    # parts that had been left out, so its sender was not told about the .docx.
    with Ledger.open(spool.ledger_path) as ledger:
        settings = load_settings(ledger=ledger, environ={})
        first = submit_mail(spool, ledger, "docx-and-pdf.eml", ["100"])
        second = submit_mail(spool, ledger, "docx-and-pdf.eml", ["100"])
        for claimed in intake.claim(ledger, 2):
            assert intake.process(spool, settings, claimed) == "done"
        assert len(ledger.query("SELECT id FROM documents")) == 1
        skipped = [jobs_of_submission(ledger, sid)[0].skipped for sid in (first, second)]
    assert skipped[0] == skipped[1]
    assert any(".docx" in note for note in skipped[1])
