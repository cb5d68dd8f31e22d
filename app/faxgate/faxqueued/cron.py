"""Five-field cron schedules ("30 3 * * 0"), parsed here rather than with a library.

Fields: minute hour day-of-month month day-of-week; each `*`, a number, a range `a-b`, a step
`*/n` or `a-b/n`, or a comma list of those. Day of week 0-7 (0 and 7 are Sunday). As in Vixie
cron, when both day fields are restricted a day matches if *either* does.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = ("minute", "hour", "day of month", "month", "day of week")


class CronError(ValueError):
    """A schedule that is not five valid cron fields."""


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday .. 6
    days_restricted: bool
    weekdays_restricted: bool

    def matches(self, moment: datetime.datetime) -> bool:
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        weekday = (moment.weekday() + 1) % 7  # Python: Monday 0 → cron: Sunday 0
        day_ok = moment.day in self.days
        weekday_ok = weekday in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first matching minute strictly after `moment` (naive local time)."""
        candidate = moment.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        # Day by day first (cheap), then minute by minute within a matching day.
        for _ in range(366 * 5):
            if self._day_matches(candidate.date()):
                for hour in sorted(h for h in self.hours if h >= candidate.hour):
                    start = candidate.minute if hour == candidate.hour else 0
                    for minute in sorted(m for m in self.minutes if m >= start):
                        return candidate.replace(hour=hour, minute=minute)
            candidate = datetime.datetime.combine(
                candidate.date() + datetime.timedelta(days=1), datetime.time()
            )
        raise CronError("the schedule never matches (e.g. 31 February)")

    def _day_matches(self, day: datetime.date) -> bool:
        return self.matches(
            datetime.datetime.combine(day, datetime.time(min(self.hours), min(self.minutes)))
        )


def _field(text: str, index: int) -> tuple[frozenset[int], bool]:
    low, high = _LIMITS[index]
    values: set[int] = set()
    for item in text.split(","):
        body, _, step_text = item.partition("/")
        if step_text and (not step_text.isdigit() or int(step_text) == 0):
            raise CronError(f"bad step in the {_NAMES[index]} field: {item!r}")
        step = int(step_text) if step_text else 1
        if body == "*":
            start, stop = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            if not (first.isdigit() and last.isdigit()):
                raise CronError(f"bad range in the {_NAMES[index]} field: {item!r}")
            start, stop = int(first), int(last)
        elif body.isdigit():
            start = int(body)
            stop = high if step_text else start
        else:
            raise CronError(f"bad {_NAMES[index]} field: {item!r}")
        if not (low <= start <= high and low <= stop <= high and start <= stop):
            raise CronError(f"{item!r} is outside {low}-{high} in the {_NAMES[index]} field")
        values.update(range(start, stop + 1, step))
    return frozenset(values), text != "*"


def parse(text: str) -> Schedule:
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"a cron schedule has five fields, {text!r} has {len(fields)}")
    parsed = [_field(f, i) for i, f in enumerate(fields)]
    weekdays = frozenset(d % 7 for d in parsed[4][0])
    return Schedule(
        minutes=parsed[0][0],
        hours=parsed[1][0],
        days=parsed[2][0],
        months=parsed[3][0],
        weekdays=weekdays,
        days_restricted=parsed[2][1],
        weekdays_restricted=parsed[4][1],
    )


def due(schedule: Schedule, last_run: datetime.datetime, now: datetime.datetime) -> bool:
    """Whether a run was scheduled after `last_run` and at or before `now`."""
    return schedule.next_after(last_run) <= now
