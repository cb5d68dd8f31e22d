"""Invariants of one scheduler pass over random queues (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from faxgate.faxqueued.scheduling import JobState, JobView, plan

T0 = 1_000_000.0
LINES = ["1", "2", "3", "4", "5"]

job_states = st.sampled_from(
    [
        JobState.PENDING,
        JobState.SLEEPING,
        JobState.BLOCKED,
        JobState.READY,
        JobState.ACTIVE,
        JobState.SUSPENDED,
    ]
)


@st.composite
def queues(draw: st.DrawFn) -> list[JobView]:
    count = draw(st.integers(0, 25))
    jobs = []
    for job_id in range(1, count + 1):
        jobs.append(
            JobView(
                id=job_id,
                number=draw(st.sampled_from(["100", "200", "300", "400", "500", "600"])),
                state=draw(job_states),
                priority=draw(st.sampled_from([0, 50, 127, 200, 250, 255])),
                send_at=T0 + draw(st.sampled_from([-100, 0, 100])),
                kill_at=T0 + draw(st.sampled_from([-1, 50, 10_000])),
                next_try_at=draw(st.sampled_from([None, T0 - 5, T0 + 60])),
                created_at=T0 - 1000 + job_id,
            )
        )
    return jobs


@settings(max_examples=300, deadline=None)
@given(queues(), st.sets(st.sampled_from(LINES)), st.integers(0, 4))
def test_plan_invariants(jobs: list[JobView], free: set[str], start: int) -> None:
    p = plan(jobs, LINES, free, T0, start)
    by_id = {j.id: j for j in jobs}
    assigned = [by_id[a.job_id] for a in p.assignments]
    active_numbers = {j.number for j in jobs if j.state is JobState.ACTIVE}
    # Never more calls than free lines, each on a distinct free line.
    assert len(p.assignments) <= len(free)
    assert len({a.line for a in p.assignments}) == len(p.assignments)
    assert all(a.line in free for a in p.assignments)
    # One call per number, never to a number already being called.
    numbers = [j.number for j in assigned]
    assert len(set(numbers)) == len(numbers)
    assert not set(numbers) & active_numbers
    # Only jobs that may go now: waiting, not expired, time-to-send and next try reached.
    for j in assigned:
        assert j.state in (JobState.PENDING, JobState.SLEEPING, JobState.BLOCKED, JobState.READY)
        assert j.kill_at > T0
        assert j.send_at <= T0
        assert j.next_try_at is None or j.next_try_at <= T0
    # Nobody better was left behind: a job left ready (sendable, number not busy) means every
    # line was taken, by jobs that rank at least as high.
    changes = {c.job_id: c.state for c in p.changes}
    assigned_ids = {a.job_id for a in p.assignments}
    for j in jobs:
        if j.id not in assigned_ids and changes.get(j.id, j.state) is JobState.READY:
            assert len(p.assignments) == len(free)
            assert all(a.priority <= j.priority for a in assigned)
    # Suspended and active jobs are never changed by a pass.
    for j in jobs:
        if j.state in (JobState.SUSPENDED, JobState.ACTIVE):
            assert j.id not in changes
