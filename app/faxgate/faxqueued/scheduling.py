"""The scheduling rules of the fax queue (HylaFAX faxq), as pure functions with injected time.

Nothing here reads a clock, a socket or the ledger: the daemon passes `now`, the jobs as
`JobView`s and the free lines, and applies the decisions these functions return. That keeps the
rules testable one by one (tests/unit/faxqueued/test_scheduling.py).

The rules:

- priority 0-255, lower is sent first; equal priorities go in order of submission;
- a job is not sent before its time-to-send (`send_at`, state *pending*) nor before its next try
  after a failed call (`next_try_at`, state *sleeping*);
- a job not done by its kill time fails;
- `max_tries` counts calls that reached the fax handshake, `max_dials` counts every call;
- after a failed call the job sleeps for a delay chosen by the outcome (busy, no answer, protocol
  failure, other);
- at most one call per destination number at a time: the others wait as *blocked*;
- free lines are used round-robin, so every line gets its share of the work;
- a line that frees up always takes the best job *now*, so a long run of bulk jobs (priority 250)
  never starves a high-priority job submitted after them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from faxgate.settings import Settings


class JobState(enum.Enum):
    """Where a job is in its life (the `jobs.state` column)."""

    PENDING = "pending"  # waiting for its time-to-send
    SLEEPING = "sleeping"  # waiting for its next try after a failed call
    BLOCKED = "blocked"  # ready, but another job is calling the same number
    READY = "ready"  # may be sent as soon as a line is free
    ACTIVE = "active"  # a line is calling
    DONE = "done"
    FAILED = "failed"
    SUSPENDED = "suspended"  # held by a user or admin
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES


FINISHED_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})
# States the scheduler re-evaluates on every pass.
WAITING_STATES = frozenset({JobState.PENDING, JobState.SLEEPING, JobState.BLOCKED, JobState.READY})


class RetryClass(enum.Enum):
    """Which requeue delay applies after a failed call."""

    BUSY = "busy"
    NO_ANSWER = "noanswer"
    PROTOCOL = "protocol"
    OTHER = "other"


# Call outcomes as iaxmodemd writes them in `calls.outcome`.
OUTCOME_DONE = "done"
RETRY_CLASS_BY_OUTCOME: dict[str, RetryClass] = {
    "busy": RetryClass.BUSY,
    "no_answer": RetryClass.NO_ANSWER,
    "protocol_failure": RetryClass.PROTOCOL,
    "no_fax": RetryClass.OTHER,
    "interrupted": RetryClass.OTHER,
}
# Outcomes where another call cannot help: the job fails at once.
FINAL_OUTCOMES = frozenset({"remote_refused", "local_error"})

OUTCOME_WORDS: dict[str, str] = {
    "done": "the fax was sent",
    "busy": "the number was busy",
    "no_answer": "nobody answered",
    "no_fax": "the call was answered, but not by a fax machine",
    "protocol_failure": "the fax machines could not complete the transfer",
    "remote_refused": "the receiving fax machine refused the document",
    "local_error": "the fax server could not send the document",
    "interrupted": "the call was interrupted because the fax line program stopped",
}


def outcome_in_words(outcome: str, message: str | None = None) -> str:
    """A plain-words reason for a call outcome, with the line program's own message if any."""
    base = OUTCOME_WORDS.get(outcome, f"the call ended ({outcome})")
    if message and message.strip() and message.strip().lower() != base:
        return f"{base}: {message.strip()}"
    return base


@dataclass(frozen=True)
class QueuePolicy:
    """The settings the rules depend on (sys.fax.configure.queue.*)."""

    default_priority: int = 200
    max_tries: int = 3
    max_dials: int = 12
    kill_after: float = 3 * 3600.0
    retry_busy: float = 180.0
    retry_no_answer: float = 300.0
    retry_protocol: float = 60.0
    retry_other: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> QueuePolicy:
        p = "sys.fax.configure.queue."
        return cls(
            default_priority=settings.get_int(p + "priority"),
            max_tries=settings.get_int(p + "tries"),
            max_dials=settings.get_int(p + "dials"),
            kill_after=float(settings.get_int(p + "killtime")),
            retry_busy=float(settings.get_int(p + "retry.busy")),
            retry_no_answer=float(settings.get_int(p + "retry.noanswer")),
            retry_protocol=float(settings.get_int(p + "retry.protocol")),
            retry_other=float(settings.get_int(p + "retry.other")),
        )

    def delay_for(self, retry_class: RetryClass) -> float:
        return {
            RetryClass.BUSY: self.retry_busy,
            RetryClass.NO_ANSWER: self.retry_no_answer,
            RetryClass.PROTOCOL: self.retry_protocol,
            RetryClass.OTHER: self.retry_other,
        }[retry_class]


def clamp_priority(value: int) -> int:
    """Priorities live in 0..255 like HylaFAX's."""
    return max(0, min(255, value))


@dataclass(frozen=True)
class JobView:
    """The columns of a job the rules look at."""

    id: int
    number: str
    state: JobState
    priority: int
    send_at: float
    kill_at: float
    next_try_at: float | None = None
    tries: int = 0
    dials: int = 0
    max_tries: int = 3
    max_dials: int = 12
    created_at: float = 0.0


@dataclass(frozen=True)
class StateChange:
    """A job that moves to another state, and why (reason in plain words, or empty)."""

    job_id: int
    state: JobState
    reason: str = ""


def waiting_state(job: JobView, now: float) -> JobState:
    """The state of a waiting job at `now`, ignoring other jobs (blocking comes later)."""
    if now < job.send_at:
        return JobState.PENDING
    if job.next_try_at is not None and now < job.next_try_at:
        return JobState.SLEEPING
    return JobState.READY


def expired(job: JobView, now: float) -> bool:
    return now >= job.kill_at


def dispatch_order(job: JobView) -> tuple[int, float, float, int]:
    """Lower sorts first: priority, then the moment it became sendable, then submission order."""
    became_ready = max(job.send_at, job.next_try_at or 0.0)
    return (job.priority, job.created_at, became_ready, job.id)


@dataclass(frozen=True)
class Assignment:
    job_id: int
    line: str
    number: str


@dataclass(frozen=True)
class Plan:
    """What one scheduler pass decided: state changes, then the calls to start."""

    changes: list[StateChange]
    assignments: list[Assignment]
    next_line_index: int  # where the round-robin continues next pass
    wake_at: float | None  # the earliest moment a waiting job changes state by itself


def rotate_lines(all_lines: Sequence[str], free: Iterable[str], start: int) -> list[str]:
    """The free lines in round-robin order beginning at position `start` of `all_lines`."""
    free_set = set(free)
    if not all_lines:
        return []
    count = len(all_lines)
    return [
        all_lines[(start + offset) % count]
        for offset in range(count)
        if all_lines[(start + offset) % count] in free_set
    ]


def plan(
    jobs: Sequence[JobView],
    all_lines: Sequence[str],
    free_lines: Iterable[str],
    now: float,
    next_line_index: int = 0,
) -> Plan:
    """Decide one scheduler pass.

    `jobs` are the unfinished jobs (any state), `all_lines` every line in a fixed order and
    `free_lines` those idle now. Active jobs occupy their number; suspended ones are left alone.
    """
    changes: list[StateChange] = []
    busy_numbers = {job.number for job in jobs if job.state is JobState.ACTIVE}
    candidates: list[JobView] = []
    wake_at: float | None = None

    for job in jobs:
        if job.state not in WAITING_STATES:
            continue
        if expired(job, now):
            changes.append(
                StateChange(
                    job.id, JobState.FAILED, "the job's kill time passed before it was sent"
                )
            )
            continue
        state = waiting_state(job, now)
        if state is JobState.READY:
            candidates.append(job)
        else:
            moment = job.send_at if state is JobState.PENDING else (job.next_try_at or now)
            wake_at = moment if wake_at is None else min(wake_at, moment)
            if state is not job.state:
                changes.append(StateChange(job.id, state))
        wake_at = job.kill_at if wake_at is None else min(wake_at, job.kill_at)

    rotation = rotate_lines(all_lines, free_lines, next_line_index)
    assignments: list[Assignment] = []
    for job in sorted(candidates, key=dispatch_order):
        if job.number in busy_numbers:
            if job.state is not JobState.BLOCKED:
                changes.append(StateChange(job.id, JobState.BLOCKED))
            continue
        if len(assignments) < len(rotation):
            line = rotation[len(assignments)]
            assignments.append(Assignment(job.id, line, job.number))
            busy_numbers.add(job.number)
            changes.append(StateChange(job.id, JobState.ACTIVE))
            continue
        if job.state is not JobState.READY:
            changes.append(StateChange(job.id, JobState.READY))

    if assignments:
        last = all_lines.index(assignments[-1].line)
        next_line_index = (last + 1) % len(all_lines)
    return Plan(changes, assignments, next_line_index, wake_at)


@dataclass(frozen=True)
class CallResult:
    """What a finished call reports (a `calls` row)."""

    outcome: str  # done, busy, no_answer, no_fax, protocol_failure, remote_refused, local_error,
    #             or "interrupted" for a call cut off by a crash
    reached_handshake: bool
    pages: int = 0
    message: str = ""


class Verdict(enum.Enum):
    """What happens to the job after a call; the notification kind is the same word."""

    DONE = "done"
    REQUEUED = "requeued"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class AfterCall:
    verdict: Verdict
    state: JobState
    tries: int
    dials: int
    next_try_at: float | None
    reason: str  # plain words


def after_call(
    job: JobView,
    result: CallResult,
    now: float,
    policy: QueuePolicy,
    cancel_requested: bool = False,
) -> AfterCall:
    """The job's fate once a call for it ended."""
    dials = job.dials + 1
    tries = job.tries + (1 if result.reached_handshake else 0)
    reason = outcome_in_words(result.outcome, result.message)

    if result.outcome == OUTCOME_DONE:
        return AfterCall(Verdict.DONE, JobState.DONE, tries, dials, None, reason)
    if cancel_requested:
        return AfterCall(
            Verdict.CANCELLED, JobState.CANCELLED, tries, dials, None, "cancelled while calling"
        )
    if result.outcome in FINAL_OUTCOMES:
        return AfterCall(Verdict.FAILED, JobState.FAILED, tries, dials, None, reason)
    if tries >= job.max_tries:
        why = f"{reason}; gave up after {tries} tries"
        return AfterCall(Verdict.FAILED, JobState.FAILED, tries, dials, None, why)
    if dials >= job.max_dials:
        why = f"{reason}; gave up after {dials} dials"
        return AfterCall(Verdict.FAILED, JobState.FAILED, tries, dials, None, why)
    retry_class = RETRY_CLASS_BY_OUTCOME.get(result.outcome, RetryClass.OTHER)
    next_try = now + policy.delay_for(retry_class)
    if next_try >= job.kill_at:
        why = f"{reason}; the next try would be after the job's kill time"
        return AfterCall(Verdict.FAILED, JobState.FAILED, tries, dials, None, why)
    return AfterCall(Verdict.REQUEUED, JobState.SLEEPING, tries, dials, next_try, reason)


def new_job_times(
    now: float, policy: QueuePolicy, send_at: float | None = None, kill_after: float | None = None
) -> tuple[float, float]:
    """(send_at, kill_at) of a new job: the kill time counts from the time-to-send."""
    start = now if send_at is None else max(now, send_at)
    return start, start + (policy.kill_after if kill_after is None else kill_after)


def with_state(job: JobView, state: JobState) -> JobView:
    """A copy of `job` in another state (tests and simulations apply plans with it)."""
    return replace(job, state=state)
