"""The DNS-SD publisher is started again when it exits (avahi-daemon restarted), with a growing
pause, and stop() leaves no publisher behind. A stand-in on PATH plays avahi-publish-service:
it records its pid and lives for $STAND_IN_LIFE seconds."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance_testing import stand_in_publisher
from faxgate.ippfaxd.dnssd import Advertisement, Advertiser

STAND_IN = """#!/bin/sh
echo $$ >> "{pids}"
exec sleep "$STAND_IN_LIFE"
"""

AD = Advertisement(name="Fax", port=631, uuid="urn:uuid:1234", admin_url="http://fax/")


@pytest.fixture
def pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the stand-in publisher, first on PATH, appends its pid to."""
    recorded = tmp_path / "pids"
    for name, value in stand_in_publisher(tmp_path, STAND_IN.format(pids=recorded)).items():
        monkeypatch.setenv(name, value)
    return recorded


@pytest.fixture
def advertiser() -> Iterator[Advertiser]:
    made = Advertiser(AD, first_delay=0.05, max_delay=0.2)
    yield made
    made.stop()  # also when a test failed: no publisher outlives it


def started(pids: Path) -> list[int]:
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []


def wait_for_starts(pids: Path, count: int) -> list[int]:
    deadline = time.monotonic() + 10
    while len(started(pids)) < count:
        assert time.monotonic() < deadline, f"publisher started {len(started(pids))} times"
        time.sleep(0.02)
    return started(pids)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def restart_delays(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        str(record.args[1])  # type: ignore[index]
        for record in caplog.records
        if record.getMessage().startswith("DNS-SD publisher exited")
    ]


def test_an_exited_publisher_is_started_again_with_a_doubling_pause(
    pids: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAND_IN_LIFE", "0")  # avahi-daemon keeps going away at once
    caplog.set_level(logging.INFO, logger="ippfaxd")
    # max_delay 0.4 s: a run shorter than it counts as failing at once, even on a busy machine
    advertiser = Advertiser(AD, first_delay=0.05, max_delay=0.4)
    try:
        assert advertiser.start() is True
        wait_for_starts(pids, 5)
    finally:
        advertiser.stop()
    # one line per restart, the pause doubling from 0.05 s up to 0.4 s
    delays = restart_delays(caplog)
    assert len(delays) == advertiser.restarts >= 4
    assert delays[:4] == ["0.05", "0.1", "0.2", "0.4"]
    assert all(gone(pid) for pid in started(pids))
    count = len(started(pids))
    time.sleep(0.5)  # longer than any pause: nothing starts after stop()
    assert len(started(pids)) == count


def test_a_publisher_that_ran_a_while_is_restarted_after_the_first_pause(
    pids: Path,
    advertiser: Advertiser,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STAND_IN_LIFE", "0.25")  # longer than max_delay: avahi restarted once
    caplog.set_level(logging.INFO, logger="ippfaxd")
    advertiser.start()
    wait_for_starts(pids, 3)
    advertiser.stop()
    assert set(restart_delays(caplog)) == {"0.05"}


def test_stop_ends_a_running_publisher_and_nothing_restarts_it(
    pids: Path, advertiser: Advertiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAND_IN_LIFE", "600")
    advertiser.start()
    [pid] = wait_for_starts(pids, 1)
    assert not gone(pid)
    began = time.monotonic()
    advertiser.stop()
    assert time.monotonic() - began < 3  # terminated, not killed after the grace time
    assert gone(pid)
    assert advertiser.process is None
    assert advertiser.restarts == 0
    time.sleep(0.2)
    assert started(pids) == [pid]


def test_stop_during_the_pause_starts_nothing_more(
    pids: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAND_IN_LIFE", "0")
    advertiser = Advertiser(AD, first_delay=30, max_delay=60)
    advertiser.start()
    [pid] = wait_for_starts(pids, 1)
    while not gone(pid):  # reaped by the supervisor, which now waits 30 s
        time.sleep(0.02)
    began = time.monotonic()
    advertiser.stop()
    assert time.monotonic() - began < 1  # the pause does not hold stop() up
    assert started(pids) == [pid]
    assert advertiser.restarts == 0
