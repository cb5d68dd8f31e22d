"""Control fields on extracted page texts: driver spacing, line breaks, splitting, bad values."""

from __future__ import annotations

import pytest

from faxgate.controlfields import (
    FieldMatchers,
    find_sections,
    letter_spacing_collapsed,
    page_text_variants,
)
from faxgate.settings.regex_notation import parse_matcher

# The documented defaults (sys.fax.configure.faxprint.matcher.*)
MATCHERS = FieldMatchers(
    fax=parse_matcher(r"/@@\+FAX:\s*(.*?)\s*@@/"),
    tag=parse_matcher(r"/@@\+TAG:\s*(.*?)\s*@@/"),
    priority=parse_matcher(r"/@@\+PRIO:\s*(\d+?)\s*@@/"),
    notify=parse_matcher(r"/@@\+NOTIFY:\s*(.*?@.*?)\s*@@/"),
)


def test_plain_field_on_one_page() -> None:
    found = find_sections(["Dear customer,\n@@+FAX:0991 234-56@@\nregards"], MATCHERS)
    assert found.problems == []
    assert len(found.sections) == 1
    section = found.sections[0]
    assert (section.first_page, section.last_page) == (1, 1)
    assert section.numbers == ("099123456",)
    assert section.written == ("0991 234-56",)


@pytest.mark.parametrize(
    "text",
    [
        "@ @ + F A X : 0 9 9 1 2 3 4 @ @",  # letter-spaced glyph-by-glyph rendering
        "@@+FAX:\n0991234@@",  # wrapped by the driver
        "@@+FAX:0991234\n@@",
        "@@+\u200bFAX:0991\u00ad234@@",  # zero-width space and soft hyphen
        "\uff20\uff20\uff0bFAX:0991234\uff20\uff20",  # full-width forms
        "@@+FAX:\u00a00991234\u00a0@@",  # non-breaking spaces
        "header text   @@+FAX:  0991234  @@   footer",
    ],
)
def test_fields_survive_driver_renderings(text: str) -> None:
    found = find_sections([text], MATCHERS)
    assert [s.numbers for s in found.sections] == [("0991234",)]


def test_letter_spacing_keeps_wide_gaps_as_word_boundaries() -> None:
    assert letter_spacing_collapsed("@ @ + T A G : B e s t e l l u n g  1 2 3 @ @") == (
        "@@+TAG:Bestellung 123@@"
    )
    assert letter_spacing_collapsed("ordinary words stay as they are") == (
        "ordinary words stay as they are"
    )


def test_tag_with_spaces_is_read_from_the_literal_text_first() -> None:
    found = find_sections(["@@+FAX:0991234@@ @@+TAG:Bestellung 12345@@"], MATCHERS)
    assert found.sections[0].tag == "Bestellung 12345"


def test_all_four_fields() -> None:
    text = "@@+FAX:+49 991 234@@ @@+TAG:Order 7@@ @@+PRIO:100@@ @@+NOTIFY:anna@example.com@@"
    section = find_sections([text], MATCHERS).sections[0]
    assert section.numbers == ("0049991234",)
    assert (section.tag, section.priority, section.notify) == ("Order 7", 100, "anna@example.com")


def test_three_fax_fields_split_the_document_at_each_field() -> None:
    pages = [
        "@@+FAX:0991111@@ @@+TAG:letter one@@ page 1",
        "page 2 of letter one",
        "@@+FAX:0992222@@ @@+PRIO:250@@",
        "@@+FAX:0993333@@ @@+NOTIFY:c@example.com@@",
        "second page of letter three",
        "third page of letter three",
    ]
    found = find_sections(pages, MATCHERS)
    assert found.problems == []
    assert [(s.first_page, s.last_page, s.numbers) for s in found.sections] == [
        (1, 2, ("0991111",)),
        (3, 3, ("0992222",)),
        (4, 6, ("0993333",)),
    ]
    assert [s.tag for s in found.sections] == ["letter one", None, None]
    assert [s.priority for s in found.sections] == [None, 250, None]
    assert [s.notify for s in found.sections] == [None, None, "c@example.com"]
    assert found.fax_fields == 3


def test_pages_before_the_first_field_belong_to_the_first_section() -> None:
    found = find_sections(["cover", "@@+FAX:0991@@", "more"], MATCHERS)
    assert [(s.first_page, s.last_page) for s in found.sections] == [(1, 3)]


def test_two_fields_on_one_page_send_that_section_to_both() -> None:
    found = find_sections(["@@+FAX:0991@@ and @@+FAX:0992@@", "p2"], MATCHERS)
    assert [(s.first_page, s.last_page, s.numbers) for s in found.sections] == [
        (1, 2, ("0991", "0992"))
    ]


def test_no_fields() -> None:
    found = find_sections(["just a letter", "no fields"], MATCHERS)
    assert found.sections == []
    assert found.fax_fields == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("@@+FAX:call me@@", "fax number"),
        ("@@+FAX:0991@@ @@+PRIO:300@@", "PRIO '300'"),
        ("@@+FAX:0991@@ @@+NOTIFY:not-an@address@@", "NOTIFY"),
    ],
)
def test_invalid_values_are_problems_in_plain_words(text: str, problem: str) -> None:
    found = find_sections([text], MATCHERS)
    assert len(found.problems) == 1
    assert problem in found.problems[0].message
    assert found.fax_fields == 1


def test_variants_are_not_duplicated_for_ordinary_text() -> None:
    assert page_text_variants("a plain page") == ["a plain page"]
