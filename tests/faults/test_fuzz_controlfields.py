"""Fuzzing control-field extraction: the text of printed pages is written by whoever prints.

`find_sections` must read any page texts with the shipped matchers and give sections that
cover the pages in order with digit-only numbers, or problems in plain words — never raise
(a raise would leave the print job without a notification).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from faults_fuzzing import fuzz_settings, replay_params, tolerating_known_bugs
from hypothesis import given
from hypothesis import strategies as st

from faxgate.controlfields import find_sections
from faxgate.ippfaxd.interpret import interpret as interpret_print
from faxgate.ippfaxd.interpret import matchers
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.requests import InterpretContext, PendingPrintJob, Rejection

MATCHERS = matchers(load_settings(environ={}))
digits = st.text(alphabet="0123456789²³¹٣۴߄൬໒+-/ ()", max_size=20)
field_values = st.one_of(st.text(max_size=20), digits, st.sampled_from(["", " ", "@@", "\n"]))
fields = st.builds(
    lambda name, value, spacing: (
        spacing.join(f"@@+{name}:{value}@@") if spacing else f"@@+{name}:{value}@@"
    ),
    st.sampled_from(["FAX", "TAG", "PRIO", "NOTIFY", "fax", "FAX ", "PRIO"]),
    field_values,
    st.sampled_from(["", "", " "]),
)
pages = st.lists(
    st.builds(
        lambda before, found, after: before + "".join(found) + after,
        st.text(max_size=40),
        st.lists(fields, max_size=4),
        st.text(max_size=20),
    ),
    max_size=8,
)


def check_sections(texts: list[str]) -> None:
    found = find_sections(texts, MATCHERS)
    previous_last = 0
    for section in found.sections:
        assert previous_last < section.first_page <= section.last_page <= len(texts)
        previous_last = section.last_page
        assert all(number.isdigit() and number.isascii() for number in section.numbers)
        assert section.priority is None or 0 <= section.priority <= 255
    assert all(problem.message.strip() for problem in found.problems)


@fuzz_settings(share=2)
@given(pages)
def test_any_page_texts_give_sections_or_problems(texts: list[str]) -> None:
    with tolerating_known_bugs():
        check_sections(texts)


@pytest.mark.parametrize("path", replay_params("controlfields"))
def test_kept_fault_page_texts_give_sections_or_problems(path: Path) -> None:
    check_sections(path.read_text(encoding="utf-8").split("\f"))


_PRINT_DIR = tempfile.TemporaryDirectory(prefix="faxgate-fuzz-print-")
_PRINT_SPOOL = Spool(Path(_PRINT_DIR.name) / "spool")
_PRINT_SPOOL.ensure()


def print_job_text(fields: list[str]) -> bytes:
    shown = "\n".join(
        f"72 {700 - 20 * i} moveto ({field.replace('(', '').replace(')', '').replace(chr(92), '')}) show"
        for i, field in enumerate(fields)
    )
    return f"%!PS\n/Helvetica findfont 12 scalefont setfont\n{shown}\nshowpage\n".encode(
        "latin-1", "replace"
    )


@fuzz_settings(share=0.1)
@given(
    st.lists(fields, max_size=4),
    st.sampled_from(["2", "3"]),
    st.sampled_from(["application/postscript", "application/pdf", "text/plain", "x/../../y", ""]),
    st.one_of(
        st.none(),
        st.lists(st.sampled_from(["1-1", "2-1", "0-3", "a-b", "1-99999999999"]), max_size=2),
    ),
    st.booleans(),
)
def test_print_interpreter_gives_faxes_a_rejection_or_a_pending_job(
    found: list[str], mode: str, mime_type: str, ranges: list[str] | None, pjl: bool
) -> None:
    work = Path(tempfile.mkdtemp(dir=_PRINT_SPOOL.tmp))
    raw = work / "job.bin"
    data = print_job_text(found)
    raw.write_bytes(b"\x1b%-12345X@PJL JOB\r\n" + data + b"\x1b%-12345X" if pjl else data)
    out = work / "work"
    out.mkdir()
    params: dict[str, object] = {"mime_type": mime_type, "job_name": "fuzz"}
    if ranges is not None:
        params["job_attributes"] = {"page-ranges": ranges}
    ctx = InterpretContext(
        spool=_PRINT_SPOOL,
        settings=load_settings(environ={"FAXGATE_SYS_FAX_CONFIGURE_FAXPRINT_MODE": mode}),
        submission_id=1, kind="print", raw_path=raw, params=params, owner="alice", work_dir=out,
    )  # fmt: skip
    result = interpret_print(ctx)
    if isinstance(result, Rejection):
        assert result.reason.strip()
    elif isinstance(result, PendingPrintJob):
        assert mode == "3"
    else:
        for request in result:
            assert all(d.number.isdigit() for d in request.destinations)
            for part in request.parts:
                assert part.first_page is None or part.first_page >= 1
                assert (
                    part.last_page is None
                    or part.first_page is None
                    or part.last_page >= part.first_page
                )
