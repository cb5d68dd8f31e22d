"""page-ranges in a job request: RFC 8011 §5.2.7 (1setOf rangeOfInteger(1:MAX), ascending,
not overlapping), checked with the other request checks."""

from __future__ import annotations

import pytest

from faxgate.ipp.codec import Attribute, AttributeGroup, IntRange, Message, Value
from faxgate.ipp.constants import GroupTag, Operation, Status, ValueTag
from faxgate.ipp.semantics import IppRequestError, check_page_ranges, check_request


def ranges(*pairs: tuple[int, int]) -> Attribute:
    return Attribute.of(
        "page-ranges", ValueTag.RANGE_OF_INTEGER, *(IntRange(low, high) for low, high in pairs)
    )


def job_request(job_attributes: list[Attribute]) -> Message:
    operation = AttributeGroup(GroupTag.OPERATION, [
        Attribute.of("attributes-charset", ValueTag.CHARSET, "utf-8"),
        Attribute.of("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
        Attribute.of("printer-uri", ValueTag.URI, "ipp://localhost/printers/sendfax"),
    ])  # fmt: skip
    return Message((2, 0), Operation.PRINT_JOB, 1,
                   [operation, AttributeGroup(GroupTag.JOB, job_attributes)])  # fmt: skip


@pytest.mark.parametrize(
    "pairs",
    [
        [(1, 1)],
        [(1, 2), (5, 5)],
        [(2, 3), (4, 4), (9, 2**31 - 1)],  # touching is not overlapping; MAX is fine
    ],
)
def test_ascending_ranges_that_do_not_overlap_are_accepted(pairs: list[tuple[int, int]]) -> None:
    assert check_page_ranges(ranges(*pairs)) == [IntRange(a, b) for a, b in pairs]
    check_request(job_request([ranges(*pairs)]))


@pytest.mark.parametrize(
    ("pairs", "status", "words"),
    [
        ([(5, 5), (1, 2)], Status.CLIENT_ERROR_BAD_REQUEST, "ascending"),
        ([(1, 3), (3, 4)], Status.CLIENT_ERROR_BAD_REQUEST, "overlap"),
        ([(1, 9), (2, 3)], Status.CLIENT_ERROR_BAD_REQUEST, "overlap"),
        ([(4, 2)], Status.CLIENT_ERROR_BAD_REQUEST, "after the last"),
        ([(0, 2)], Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED, "from 1"),
        ([(1, 2), (-3, 7)], Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED, "from 1"),
    ],
)
def test_ranges_out_of_order_overlapping_or_below_one_are_refused(
    pairs: list[tuple[int, int]], status: Status, words: str
) -> None:
    with pytest.raises(IppRequestError) as caught:
        check_request(job_request([ranges(*pairs)]))
    assert caught.value.status == status
    assert words in caught.value.message
    assert [a.name for a in caught.value.unsupported] == ["page-ranges"]


def test_page_ranges_of_another_syntax_are_a_bad_request() -> None:
    mixed = Attribute("page-ranges", [Value(ValueTag.RANGE_OF_INTEGER, IntRange(1, 2)),
                                      Value(ValueTag.INTEGER, 5)])  # fmt: skip
    for attribute in (Attribute.of("page-ranges", ValueTag.KEYWORD, "1-2"), mixed):
        with pytest.raises(IppRequestError) as caught:
            check_request(job_request([attribute]))
        assert caught.value.status == Status.CLIENT_ERROR_BAD_REQUEST


def test_requests_without_page_ranges_are_not_affected() -> None:
    check_request(job_request([Attribute.of("copies", ValueTag.INTEGER, 1)]))
    check_request(job_request([]))
