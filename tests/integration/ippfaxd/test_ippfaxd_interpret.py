"""The print interpreter on real documents (Ghostscript text extraction), all three modes."""

from __future__ import annotations

from pathlib import Path

import pytest
from ipp_documents import postscript, ps_to_pdf
from ippfaxd_helpers import interpret_submission, mode

from faxgate.spool import intake
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import FaxRequest, Interpretation, PendingPrintJob, Rejection

SERIAL_LETTER = [
    ["@@+FAX:0991 111@@ @@+TAG:Invoice 1@@ @@+PRIO:100@@", "Dear customer one,"],
    ["page two of letter one"],
    ["@@+FAX:0992222@@ @@+NOTIFY:erp@example.com@@", "Dear customer two,"],
    ["@@+FAX:+49 993 333@@ @@+PRIO:250@@ @@+TAG:Invoice 3@@", "Dear customer three,"],
    ["page two of letter three"],
    ["page three of letter three"],
]


def submit(spool: Spool, data: bytes, mime_type: str, owner: str | None = "anna") -> int:
    params = {"mime_type": mime_type, "job_name": "letters.pdf", "user_name": "CORP\\Anna",
              "ipp_job_id": 7}  # fmt: skip
    with Ledger.open(spool.ledger_path) as ledger:
        return intake.accept(spool, ledger, "print", data, params, owner)


def pdf_of(tmp_path: Path, pages: list[list[str]], name: str = "doc") -> bytes:
    ps = tmp_path / f"{name}.ps"
    ps.write_bytes(postscript(pages))
    ps_to_pdf(ps, tmp_path / f"{name}.pdf")
    return (tmp_path / f"{name}.pdf").read_bytes()


def sendfax_log(spool: Spool) -> list[str]:
    return (spool.log / "sendfax.log").read_text().splitlines()


def test_serial_letter_becomes_one_fax_per_field_with_its_pages(
    spool: Spool, tmp_path: Path
) -> None:
    submission = submit(spool, pdf_of(tmp_path, SERIAL_LETTER), "application/pdf")
    result = interpret_submission(spool, submission, mode(2))
    assert isinstance(result, list)
    assert all(isinstance(r, FaxRequest) for r in result)
    pages = [(r.parts[0].first_page, r.parts[0].last_page) for r in result]
    assert pages == [(1, 2), (3, 3), (4, 6)]
    assert [[d.number for d in r.destinations] for r in result] == [
        ["0991111"],
        ["0992222"],
        ["0049993333"],
    ]
    assert [r.priority for r in result] == [100, 200, 250]  # 200: faxprint.priority default
    assert [r.tag for r in result] == ["Invoice 1", "letters.pdf", "Invoice 3"]
    assert [r.notify for r in result] == [
        "faxmaster@localhost",
        "erp@example.com",
        "faxmaster@localhost",
    ]
    assert {r.max_tries for r in result} == {3}
    assert {r.owner for r in result} == {"anna"}
    log = sendfax_log(spool)
    assert len(log) == 3
    assert all(f"submission={submission}" in line and "decision=fax" in line for line in log)


def test_mode_2_without_fields_is_rejected_with_a_reason(spool: Spool, tmp_path: Path) -> None:
    submission = submit(spool, pdf_of(tmp_path, [["just a letter"]]), "application/pdf")
    result = interpret_submission(spool, submission, mode(2))
    assert isinstance(result, Rejection)
    assert "no fax number field" in result.reason
    assert "@@+FAX:" in result.reason
    assert result.notify == "faxmaster@localhost"
    assert "decision=rejected" in sendfax_log(spool)[-1]


def test_mode_2_with_a_bad_field_is_rejected_naming_it(spool: Spool, tmp_path: Path) -> None:
    data = pdf_of(tmp_path, [["@@+FAX:0991@@ @@+PRIO:999@@"]])
    result = interpret_submission(spool, submit(spool, data, "application/pdf"), mode(2))
    assert isinstance(result, Rejection)
    assert "PRIO '999'" in result.reason


def test_mode_1_goes_to_the_users_pending_jobs_without_searching(
    spool: Spool, tmp_path: Path
) -> None:
    data = pdf_of(tmp_path, SERIAL_LETTER)
    env = mode(1, FAXGATE_SYS_FAX_CONFIGURE_FAXPRINT_NOTIFY="user",
               FAXGATE_SYS_FAX_CONFIGURE_MAIL_DOMAIN="example.com")  # fmt: skip
    result = interpret_submission(spool, submit(spool, data, "application/pdf"), env)
    assert isinstance(result, PendingPrintJob)
    assert result.owner == "anna"
    assert result.notify == "anna@example.com"
    assert result.document.path.read_bytes() == data
    assert "decision=pending" in sendfax_log(spool)[-1]


@pytest.mark.parametrize(("pages", "expected"), [([["no fields"]], PendingPrintJob),
                                                 (SERIAL_LETTER, list)])  # fmt: skip
def test_mode_3_searches_and_falls_back_to_pending(
    spool: Spool, tmp_path: Path, pages: list[list[str]], expected: type
) -> None:
    result = interpret_submission(
        spool, submit(spool, pdf_of(tmp_path, pages), "application/pdf"), mode(3)
    )
    assert isinstance(result, expected)


def test_pjl_wrapped_postscript_from_a_windows_driver(spool: Spool) -> None:
    ps = postscript([["@@+FAX:0991234@@ @@+TAG:from Windows@@"]])
    pjl = (b"\x1b%-12345X@PJL JOB NAME=\"doc\"\r\n@PJL ENTER LANGUAGE=POSTSCRIPT\r\n" + ps
           + b"\x1b%-12345X@PJL EOJ\r\n\x1b%-12345X")  # fmt: skip
    result = interpret_submission(spool, submit(spool, pjl, "application/postscript"), mode(2))
    assert isinstance(result, list)
    assert result[0].tag == "from Windows"
    unwrapped = result[0].parts[0].path.read_bytes()
    assert unwrapped.startswith(b"%!PS")
    assert b"@PJL" not in unwrapped


def test_letter_spaced_and_white_fields_in_postscript(spool: Spool) -> None:
    # Each glyph placed on its own, in white, the way some drivers render invisible fields.
    glyphs = " ".join(
        f"{72 + 9 * i} 600 moveto ({c}) show" for i, c in enumerate("@@+FAX:0997777@@")
    )
    ps = (b"%!PS-Adobe-3.0\n/Helvetica findfont 11 scalefont setfont 1 setgray\n"
          + glyphs.encode() + b"\n0 setgray 72 500 moveto (Visible letter text) show\nshowpage\n")  # fmt: skip
    result = interpret_submission(spool, submit(spool, ps, "application/postscript"), mode(2))
    assert isinstance(result, list)
    assert [d.number for d in result[0].destinations] == ["0997777"]


def test_ipp_page_ranges_limit_the_pages_searched_and_sent(spool: Spool, tmp_path: Path) -> None:
    data = pdf_of(tmp_path, SERIAL_LETTER)
    params = {"mime_type": "application/pdf", "job_name": "x", "job_attributes":
              {"page-ranges": ["3-4"]}}  # fmt: skip
    with Ledger.open(spool.ledger_path) as ledger:
        submission = intake.accept(spool, ledger, "print", data, params, "anna")
    result = interpret_submission(spool, submission, mode(2))
    assert isinstance(result, list)
    assert [(r.parts[0].first_page, r.parts[0].last_page) for r in result] == [(3, 3), (4, 4)]


def interpret_with_ranges(spool: Spool, data: bytes, ranges: list[str]) -> Interpretation:
    params = {"mime_type": "application/pdf", "job_name": "x", "job_attributes":
              {"page-ranges": ranges}}  # fmt: skip
    with Ledger.open(spool.ledger_path) as ledger:
        submission = intake.accept(spool, ledger, "print", data, params, "anna")
    return interpret_submission(spool, submission, mode(2))


def test_every_page_range_counts_not_only_the_first(spool: Spool, tmp_path: Path) -> None:
    data = pdf_of(tmp_path, SERIAL_LETTER)
    # Pages 1 and 4-5: letter one without its page two, letter three without its page three.
    result = interpret_with_ranges(spool, data, ["1-1", "4-5"])
    assert isinstance(result, list)
    assert [[(p.first_page, p.last_page) for p in r.parts] for r in result] == [
        [(1, 1)], [(4, 5)]
    ]  # fmt: skip
    assert [r.destinations[0].number for r in result] == ["0991111", "0049993333"]
    assert " pages 1-1 to " in sendfax_log(spool)[-2]
    assert " pages 4-5 to " in sendfax_log(spool)[-1]


def test_a_letter_across_a_gap_between_ranges_is_sent_as_the_pages_asked_for(
    spool: Spool, tmp_path: Path
) -> None:
    data = pdf_of(tmp_path, SERIAL_LETTER)
    # 3 and 6-99 of six pages: page 6 follows page 3 in what was printed, so it belongs to
    # letter two's fax; 7-99 do not exist and select nothing.
    result = interpret_with_ranges(spool, data, ["3-3", "6-99"])
    assert isinstance(result, list)
    [request] = result
    assert [(p.first_page, p.last_page) for p in request.parts] == [(3, 3), (6, 6)]
    assert {p.path for p in request.parts} == {request.parts[0].path}


def test_ranges_past_the_last_page_say_so_when_nothing_is_left(
    spool: Spool, tmp_path: Path
) -> None:
    result = interpret_with_ranges(spool, pdf_of(tmp_path, SERIAL_LETTER), ["7-9"])
    assert isinstance(result, Rejection)
    assert "the pages asked for (7-9) are past its last page (6)" in result.reason
