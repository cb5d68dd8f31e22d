"""The queue's scheduling rules, with injected time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faxgate.faxqueued.scheduling import (
    CallResult,
    JobState,
    JobView,
    QueuePolicy,
    Verdict,
    after_call,
    new_job_times,
    plan,
    rotate_lines,
)

T0 = 1_000_000.0
POLICY = QueuePolicy()
LINES = ["1", "2", "3", "4"]


def job(job_id: int, number: str = "100", priority: int = 200, **kw: object) -> JobView:
    base = JobView(
        id=job_id,
        number=number,
        state=JobState.PENDING,
        priority=priority,
        send_at=T0,
        kill_at=T0 + 3 * 3600,
        created_at=T0 + job_id,  # submission order follows the id
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def assigned(p: object) -> list[int]:
    return [a.job_id for a in p.assignments]  # type: ignore[attr-defined]


def states(p: object) -> dict[int, JobState]:
    return {c.job_id: c.state for c in p.changes}  # type: ignore[attr-defined]


def test_lower_priority_value_goes_first() -> None:
    jobs = [job(1, "101", 200), job(2, "102", 50), job(3, "103", 127)]
    p = plan(jobs, LINES, ["1"], T0)
    assert assigned(p) == [2]
    assert states(p) == {2: JobState.ACTIVE, 1: JobState.READY, 3: JobState.READY}


def test_equal_priority_in_submission_order() -> None:
    jobs = [job(5, "105"), job(3, "103"), job(4, "104")]
    assert assigned(plan(jobs, LINES, ["1", "2"], T0)) == [3, 4]


def test_job_waits_for_time_to_send_then_becomes_ready() -> None:
    later = job(1, send_at=T0 + 600)
    p = plan([later], LINES, LINES, T0)
    assert assigned(p) == []
    assert states(p) == {}  # already pending: no change
    assert p.wake_at == T0 + 600
    p = plan([later], LINES, LINES, T0 + 600)
    assert assigned(p) == [1]


def test_sleeping_job_waits_for_next_try() -> None:
    sleeping = job(1, state=JobState.READY, next_try_at=T0 + 180)
    p = plan([sleeping], LINES, LINES, T0 + 10)
    assert states(p) == {1: JobState.SLEEPING}
    assert p.wake_at == T0 + 180
    assert assigned(plan([sleeping], LINES, LINES, T0 + 180)) == [1]


def test_one_call_per_number_others_blocked() -> None:
    jobs = [job(1, "555"), job(2, "555"), job(3, "777")]
    p = plan(jobs, LINES, LINES, T0)
    assert assigned(p) == [1, 3]
    assert states(p)[2] is JobState.BLOCKED


def test_active_call_blocks_same_number_even_with_better_priority() -> None:
    jobs = [job(1, "555", 250, state=JobState.ACTIVE), job(2, "555", 10)]
    p = plan(jobs, LINES, ["2", "3"], T0)
    assert assigned(p) == []
    assert states(p) == {2: JobState.BLOCKED}


def test_blocked_job_goes_when_number_frees() -> None:
    jobs = [job(2, "555", state=JobState.BLOCKED)]
    p = plan(jobs, LINES, ["1"], T0)
    assert assigned(p) == [2]


def test_kill_time_fails_waiting_job() -> None:
    old = job(1, kill_at=T0 + 5, state=JobState.SLEEPING, next_try_at=T0 + 100)
    p = plan([old], LINES, LINES, T0 + 5)
    assert states(p) == {1: JobState.FAILED}
    assert "kill time" in p.changes[0].reason


def test_kill_time_never_touches_an_active_or_suspended_job() -> None:
    jobs = [
        job(1, state=JobState.ACTIVE, kill_at=T0),
        job(2, "9", state=JobState.SUSPENDED, kill_at=T0),
    ]
    assert plan(jobs, LINES, LINES, T0 + 1).changes == []


def test_free_lines_round_robin_across_passes() -> None:
    p1 = plan([job(1, "1")], LINES, LINES, T0, next_line_index=0)
    p2 = plan([job(2, "2")], LINES, LINES, T0, next_line_index=p1.next_line_index)
    p3 = plan([job(3, "3")], LINES, LINES, T0, next_line_index=p2.next_line_index)
    assert [p.assignments[0].line for p in (p1, p2, p3)] == ["1", "2", "3"]
    # Wraps round and skips a busy line.
    p4 = plan([job(4, "4")], LINES, ["1", "2"], T0, next_line_index=3)
    assert p4.assignments[0].line == "1"
    assert p4.next_line_index == 1


def test_rotate_lines_keeps_order_from_start() -> None:
    assert rotate_lines(["1", "2", "3"], ["1", "3"], 1) == ["3", "1"]
    assert rotate_lines([], ["1"], 0) == []


def test_busy_bulk_jobs_never_starve_a_new_high_priority_job() -> None:
    """Forty bulk jobs at 250 keep all lines busy; a job at 100 submitted later is next."""
    jobs = {i: job(i, f"9{i:03d}", 250) for i in range(1, 41)}
    now = T0
    index = 0
    first = plan(list(jobs.values()), LINES, LINES, now, index)
    for a in first.assignments:
        jobs[a.job_id] = replace(jobs[a.job_id], state=JobState.ACTIVE)
    index = first.next_line_index
    urgent = job(100, "12345", 100, send_at=now + 1, created_at=now + 1)
    jobs[100] = urgent
    # One call ends: its line frees and the scheduler runs again.
    finished = first.assignments[0]
    jobs[finished.job_id] = replace(jobs[finished.job_id], state=JobState.DONE)
    p = plan(
        [j for j in jobs.values() if j.state is not JobState.DONE],
        LINES,
        [finished.line],
        now + 60,
        index,
    )
    assert assigned(p) == [100]


def test_call_done() -> None:
    a = after_call(job(1, state=JobState.ACTIVE), CallResult("done", True, pages=3), T0, POLICY)
    assert (a.verdict, a.state, a.tries, a.dials, a.next_try_at) == (
        Verdict.DONE,
        JobState.DONE,
        1,
        1,
        None,
    )


@pytest.mark.parametrize(
    ("outcome", "handshake", "delay"),
    [
        ("busy", False, 180),
        ("no_answer", False, 300),
        ("protocol_failure", True, 60),
        ("no_fax", False, 300),
        ("interrupted", True, 300),
    ],
)
def test_requeue_delay_by_outcome(outcome: str, handshake: bool, delay: int) -> None:
    a = after_call(job(1, state=JobState.ACTIVE), CallResult(outcome, handshake), T0, POLICY)
    assert a.verdict is Verdict.REQUEUED
    assert a.state is JobState.SLEEPING
    assert a.next_try_at == T0 + delay
    assert a.tries == (1 if handshake else 0)
    assert a.dials == 1


def test_requeue_delays_come_from_policy() -> None:
    policy = replace(POLICY, retry_busy=7.0)
    a = after_call(job(1), CallResult("busy", False), T0, policy)
    assert a.next_try_at == T0 + 7


def test_max_tries_counts_only_calls_that_reached_handshake() -> None:
    j = job(1, tries=2, dials=5, max_tries=3)
    busy = after_call(j, CallResult("busy", False), T0, POLICY)
    assert busy.verdict is Verdict.REQUEUED
    assert busy.tries == 2
    failed = after_call(j, CallResult("protocol_failure", True), T0, POLICY)
    assert failed.verdict is Verdict.FAILED
    assert "3 tries" in failed.reason


def test_max_dials_counts_every_call() -> None:
    j = job(1, dials=11, max_dials=12)
    a = after_call(j, CallResult("busy", False), T0, POLICY)
    assert a.verdict is Verdict.FAILED
    assert "12 dials" in a.reason
    assert "busy" in a.reason


def test_refused_and_local_errors_fail_at_once() -> None:
    for outcome in ("remote_refused", "local_error"):
        a = after_call(job(1), CallResult(outcome, True, message="page too wide"), T0, POLICY)
        assert a.verdict is Verdict.FAILED
        assert "page too wide" in a.reason


def test_no_retry_after_kill_time() -> None:
    j = job(1, kill_at=T0 + 100)
    a = after_call(j, CallResult("busy", False), T0, POLICY)
    assert a.verdict is Verdict.FAILED
    assert "kill time" in a.reason


def test_cancel_requested_during_call() -> None:
    a = after_call(job(1), CallResult("busy", False), T0, POLICY, cancel_requested=True)
    assert a.verdict is Verdict.CANCELLED
    # A fax that went through is done even if someone pressed cancel too late.
    a = after_call(job(1), CallResult("done", True), T0, POLICY, cancel_requested=True)
    assert a.verdict is Verdict.DONE


def test_busy_destination_retried_on_schedule_then_failed() -> None:
    """A number that is always busy: dials at the busy interval until max dials."""
    policy = replace(POLICY, max_dials=4, kill_after=10 * 3600)
    send_at, kill_at = new_job_times(T0, policy)
    j = job(1, send_at=send_at, kill_at=kill_at, max_dials=4)
    now = T0
    dial_times = []
    while True:
        p = plan([j], LINES, LINES, now)
        if not p.assignments:
            assert p.wake_at is not None
            now = p.wake_at
            j = replace(j, state=JobState.SLEEPING)
            continue
        dial_times.append(now)
        a = after_call(j, CallResult("busy", False), now, policy)
        if a.verdict is Verdict.FAILED:
            break
        j = replace(j, state=a.state, tries=a.tries, dials=a.dials, next_try_at=a.next_try_at)
    assert [t - T0 for t in dial_times] == [0, 180, 360, 540]


def test_new_job_times() -> None:
    assert new_job_times(T0, POLICY) == (T0, T0 + 3 * 3600)
    assert new_job_times(T0, POLICY, send_at=T0 + 60, kill_after=600) == (T0 + 60, T0 + 660)
    assert new_job_times(T0, POLICY, send_at=T0 - 60) == (T0, T0 + 3 * 3600)
