"""ThreadShare and Meter, the bookkeeping of the worker's thread share and rate deadlines."""

from __future__ import annotations

from faxgate.web.body_rate import Meter, RateLimit
from faxgate.web.gunicorn_worker import HeadDeadlineWorker
from faxgate.web.thread_share import ThreadShare


def test_an_address_gets_its_share_and_the_rest_waits_in_order() -> None:
    share: ThreadShare[str] = ThreadShare(2)
    assert [share.admit("a", name) for name in ("a1", "a2", "a3", "a4")] == [
        True, True, False, False,
    ]  # fmt: skip
    assert share.admit("b", "b1")  # another address is not held up by a's
    assert (share.running("a"), share.waiting("a")) == (2, 2)
    assert share.release("a") == "a3"  # the freed thread goes to a's next request
    assert share.release("a") == "a4"
    assert (share.running("a"), share.waiting("a")) == (2, 0)
    assert share.release("a") is None
    assert share.release("a") is None
    assert share.running("a") == 0
    assert share.admit("a", "a5")


def test_the_allowance_is_the_grace_plus_what_the_bytes_paid_for() -> None:
    meter = Meter(RateLimit(grace=20.0, min_rate=500.0, idle=60.0))
    assert meter.allowance() == 20.0
    meter.waited = 15.0
    assert meter.allowance() == 5.0
    meter.bytes = 5000  # 10 s at 500 B/s
    assert meter.allowance() == 15.0
    meter.bytes = 10**9  # however much came, one wait is bounded
    assert meter.allowance() == 60.0


def test_a_slow_office_link_keeps_ahead_of_the_worker_rate() -> None:
    """50 MiB at 64 kbit/s (8000 B/s), a second of waiting for each 8000 bytes, never runs out
    of allowance under the worker's own limits."""
    meter = Meter(HeadDeadlineWorker.body_rate)
    for _ in range(50 * 2**20 // 8000):
        assert meter.allowance() >= 1.0
        meter.waited += 1.0
        meter.bytes += 8000
