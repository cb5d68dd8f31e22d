"""Fuzzing control-field extraction: the text of printed pages is written by whoever prints.

`find_sections` must read any page texts with the shipped matchers and give sections that
cover the pages in order with digit-only numbers, or problems in plain words — never raise
(a raise would leave the print job without a notification).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from faults_fuzzing import fuzz_settings, replay_params, tolerating_known_bugs
from hypothesis import given
from hypothesis import strategies as st

from faxgate.controlfields import find_sections
from faxgate.ippfaxd.interpret import matchers
from faxgate.settings import load_settings

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
