"""The 20 ms frame schedule under an injected clock."""

from __future__ import annotations

from faxgate.iaxmodemd.audio import MAX_CATCH_UP_FRAMES, FrameSchedule


def test_frames_are_due_on_the_absolute_grid_without_drift() -> None:
    schedule = FrameSchedule(start=100.0)
    sent = 0
    # Wake up 3 ms after every deadline for 10 minutes: no frame is lost, none is late.
    for n in range(30_000):
        sent += schedule.due(100.0 + n * 0.020 + 0.003)
    assert sent == 30_000
    assert schedule.late == 0
    assert schedule.next_deadline() == 100.0 + 30_000 * 0.020


def test_early_wake_up_sends_nothing() -> None:
    schedule = FrameSchedule(start=0.0)
    assert schedule.due(0.0) == 1
    assert schedule.due(0.019) == 0
    assert schedule.due(0.0201) == 1


def test_a_stall_is_caught_up_and_counted_late() -> None:
    schedule = FrameSchedule(start=0.0)
    assert schedule.due(0.0) == 1
    # The process stalled for 100 ms: frames 1..5 are due at once.
    assert schedule.due(0.1005) == 5
    assert schedule.late == 4
    assert schedule.sent == 6


def test_a_long_stall_skips_instead_of_bursting() -> None:
    schedule = FrameSchedule(start=0.0)
    schedule.due(0.0)
    count = schedule.due(10.0)
    assert count == MAX_CATCH_UP_FRAMES
    assert schedule.skipped == 500 - MAX_CATCH_UP_FRAMES
    assert schedule.next_deadline() > 10.0


def test_iax_timestamps_follow_the_frame_index() -> None:
    schedule = FrameSchedule(start=5.0)
    assert [schedule.timestamp_ms(n) for n in (0, 1, 50, 3277)] == [0, 20, 1000, 65540]
