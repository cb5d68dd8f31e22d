"""The five-field cron parser of the cleanup schedule."""

from __future__ import annotations

import datetime as dt

import pytest

from faxgate.faxqueued.cron import CronError, due, parse

SUNDAY = dt.datetime(2026, 11, 29, 3, 30)  # a Sunday


def test_weekly_default_runs_sunday_0330() -> None:
    s = parse("30 3 * * 0")
    assert s.next_after(dt.datetime(2026, 11, 26, 12, 0)) == SUNDAY
    assert s.next_after(SUNDAY) == SUNDAY + dt.timedelta(days=7)
    assert parse("30 3 * * 7").next_after(dt.datetime(2026, 11, 26)) == SUNDAY


def test_steps_ranges_and_lists() -> None:
    s = parse("*/15 9-17 * * 1-5")
    assert s.next_after(dt.datetime(2026, 11, 27, 17, 50)) == dt.datetime(2026, 11, 30, 9, 0)
    assert s.next_after(dt.datetime(2026, 11, 27, 9, 1)) == dt.datetime(2026, 11, 27, 9, 15)
    assert parse("0 0,12 * * *").next_after(dt.datetime(2026, 1, 1, 0, 0)) == dt.datetime(
        2026, 1, 1, 12, 0
    )


def test_day_of_month_or_day_of_week_when_both_set() -> None:
    s = parse("0 6 1 * 1")  # the 1st of the month OR any Monday
    assert s.next_after(dt.datetime(2026, 11, 26)) == dt.datetime(2026, 11, 30, 6, 0)  # Monday
    assert s.next_after(dt.datetime(2026, 11, 30, 7)) == dt.datetime(2026, 12, 1, 6, 0)


def test_due() -> None:
    s = parse("30 3 * * 0")
    last = dt.datetime(2026, 11, 22, 3, 30)
    assert not due(s, last, dt.datetime(2026, 11, 29, 3, 29))
    assert due(s, last, dt.datetime(2026, 11, 29, 3, 30))
    assert due(s, last, dt.datetime(2026, 12, 5))  # a missed run is made up for


@pytest.mark.parametrize(
    "text",
    [
        "",
        "* * * *",
        "60 * * * *",
        "* 24 * * *",
        "*/0 * * * *",
        "a * * * *",
        "5-1 * * * *",
        "* * 0 * *",
    ],
)
def test_invalid_schedules(text: str) -> None:
    with pytest.raises(CronError):
        parse(text)


def test_impossible_date_is_reported() -> None:
    with pytest.raises(CronError, match="never"):
        parse("0 0 31 2 *").next_after(dt.datetime(2026, 1, 1))
