"""The daemon as a program: control socket, registration both ways, lost peers, signals.

Each test starts real `python -m faxgate iaxmodemd` processes on a spool made by
`python -m faxgate init`, and real Debian `iaxmodem`s where a foreign peer is needed.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from iaxmodemd_harness import (
    Control,
    IaxModemd,
    RealIaxModem,
    free_ports,
    init_spool,
    make_job,
    rows,
    wait_for,
)


@pytest.fixture
def loopback_daemon(tmp_path: Path) -> IaxModemd:
    spool = init_spool(tmp_path / "spool")
    base = free_ports(2)
    daemon = IaxModemd(spool, {"lines.count": "2", "lines.baseport": str(base)}).start()
    yield daemon  # type: ignore[misc]
    daemon.stop()


def test_control_socket_dial_status_subscribe_abort(
    loopback_daemon: IaxModemd, documents: dict[str, Path]
) -> None:
    daemon = loopback_daemon
    spool = daemon.spool
    status = daemon.request({"op": "status"})
    assert status["ok"] is True
    assert [(s["line"], s["state"], s["job"]) for s in status["lines"]] == [
        ("1", "idle", None),
        ("2", "idle", None),
    ]
    assert (spool / "status" / "line1").read_text() == "idle\n"
    # Refusals come back as plain errors on the same connection.
    job = make_job(spool)
    missing = {"op": "dial", "job": job, "number": "100", "document": "/nonexistent.tif"}
    answer = daemon.request(missing)
    assert answer["ok"] is False
    assert "does not exist" in answer["error"]
    unknown = {**missing, "job": 999_999, "document": str(documents["fine3"])}
    assert "not in the ledger" in daemon.request(unknown)["error"]
    assert daemon.request({"op": "abort", "job": 999})["ok"] is False
    assert daemon.request({"op": "explode"})["ok"] is False

    with Control(daemon.socket_path, 60) as events:
        assert events.request({"op": "subscribe"}) == {"ok": True}
        dial = {"op": "dial", "job": job, "number": "100", "document": str(documents["fine3"])}
        assert daemon.request(dial) == {"ok": True}
        # Both lines are now taken (caller and answerer): a second dial finds no free line.
        second = daemon.request({**dial, "job": make_job(spool)})
        assert second["ok"] is False
        seen = events.events_until(lambda e: e["event"] == "connected" and e["line"] == "1", 30)
        assert any(e["event"] == "ringing" for e in seen)
        during = {s["line"]: s for s in daemon.request({"op": "status"})["lines"]}
        assert during["1"]["job"] == job
        assert during["1"]["state"] in ("dialling", "sending")
        assert during["2"]["state"] == "receiving"
        assert (spool / "status" / "line2").read_text().startswith("receiving")
        assert daemon.request({"op": "abort", "job": job}) == {"ok": True}
        ended = events.events_until(lambda e: e["event"] == "result" and e["line"] == "1", 30)
    result = ended[-1]
    assert result["job"] == job
    assert result["outcome"] == "local_error"
    assert "aborted" in result["message"]
    row = wait_for(
        lambda: rows(spool, "SELECT * FROM calls WHERE job_id = ? AND state = 'ended'", (job,)), 10
    )
    assert row[0]["outcome"] == "local_error"
    assert Path(row[0]["session_log"]).is_file()
    # The answering line also ended (the HANGUP reached it) and both are idle again.
    assert wait_for(
        lambda: all(s["state"] == "idle" for s in daemon.request({"op": "status"})["lines"]), 15
    )


def test_sighup_reloads_and_sigterm_exits_cleanly(loopback_daemon: IaxModemd) -> None:
    daemon = loopback_daemon
    assert daemon.process is not None
    os.kill(daemon.process.pid, signal.SIGHUP)
    assert wait_for(lambda: "settings reloaded" in daemon.log(), 10, 0.1)
    assert daemon.request({"op": "status"})["ok"] is True  # still serving
    assert daemon.stop(timeout=10) == 0  # stop() fails the test if it had to SIGKILL
    assert not daemon.socket_path.exists()
    assert (daemon.spool / "status" / "line1").read_text() == "down\n"


def test_a_real_iaxmodem_registers_with_the_right_secret_and_is_refused_with_a_wrong_one(
    tmp_path: Path,
) -> None:
    spool = init_spool(tmp_path / "spool")
    base = free_ports(2)
    good_port, bad_port = free_ports(1), free_ports(1)
    daemon = IaxModemd(
        spool,
        {
            "lines.count": "2",
            "lines.baseport": str(base),
            "trunk.mode": "register",
            "trunk.server": f"127.0.0.1:{good_port}",
            "trunk.peername": "faxgate",
            "trunk.secret": "s3cret",
        },
    ).start()
    good = RealIaxModem(
        tmp_path, "IAXGOOD", good_port, f"127.0.0.1:{base}", refresh=60,
        peername="faxgate1", secret="s3cret",
    )  # fmt: skip
    bad = RealIaxModem(
        tmp_path, "IAXBAD", bad_port, f"127.0.0.1:{base + 1}", refresh=60,
        peername="faxgate2", secret="not-the-secret",
    )  # fmt: skip
    try:
        good.start()
        bad.start()

        def peers() -> dict[str, object]:
            return {s["line"]: s["peer"] for s in daemon.request({"op": "status"})["lines"]}

        assert wait_for(lambda: peers()["1"] == f"127.0.0.1:{good_port}", 20), daemon.log()
        assert wait_for(lambda: "refused: wrong secret" in daemon.log(), 20), daemon.log()
        assert peers()["2"] is None
        assert "Registration failed" in bad.log() or "refused" in daemon.log()
        # iaxmodem releases its registration (REGREL) when it stops: the line forgets it.
        good.stop()
        assert wait_for(lambda: peers()["1"] is None, 15), daemon.log()
    finally:
        good.stop()
        bad.stop()
        daemon.stop()


def test_lines_register_with_a_server_and_release_on_shutdown(tmp_path: Path) -> None:
    """Our registration client against a registrar: another iaxmodemd plays the server."""
    server_base, client_base = free_ports(1), free_ports(1)
    common = {"lines.count": "1", "trunk.mode": "register", "trunk.secret": "s3cret"}
    server = IaxModemd(
        init_spool(tmp_path / "server"),
        {**common, "lines.baseport": str(server_base), "trunk.peername": "office",
         "trunk.server": f"127.0.0.1:{client_base}"},
    ).start()  # fmt: skip
    client = IaxModemd(
        init_spool(tmp_path / "client"),
        {**common, "lines.baseport": str(client_base), "trunk.peername": "office",
         "trunk.server": f"127.0.0.1:{server_base}"},
    ).start()  # fmt: skip
    try:

        def line(daemon: IaxModemd) -> dict[str, object]:
            first: dict[str, object] = daemon.request({"op": "status"})["lines"][0]
            return first

        assert wait_for(lambda: line(client)["registered"] is True, 20), client.log()
        assert wait_for(lambda: line(server)["peer"] == f"127.0.0.1:{client_base}", 20)
        assert line(client)["state"] == "idle"
        assert client.stop() == 0
        assert wait_for(lambda: line(server)["peer"] is None, 15), server.log()
    finally:
        client.stop()
        server.stop()


def test_a_peer_that_dies_mid_call_is_detected_and_its_call_marked_interrupted(
    tmp_path: Path, documents: dict[str, Path]
) -> None:
    base_a, base_b = free_ports(1), free_ports(1)
    spool_a, spool_b = init_spool(tmp_path / "a"), init_spool(tmp_path / "b")
    settings_b = {"lines.count": "1", "lines.baseport": str(base_b), "trunk.mode": "peer",
                  "trunk.server": f"127.0.0.1:{base_a}"}  # fmt: skip
    caller = IaxModemd(
        spool_a,
        {"lines.count": "1", "lines.baseport": str(base_a), "trunk.mode": "peer",
         "trunk.server": f"127.0.0.1:{base_b}"},
    ).start()  # fmt: skip
    answerer = IaxModemd(spool_b, settings_b).start()
    try:
        job = make_job(spool_a)
        with Control(caller.socket_path, 60) as events:
            events.request({"op": "subscribe"})
            dial = {"op": "dial", "job": job, "number": "100", "document": str(documents["fine3"])}
            assert caller.request(dial) == {"ok": True}
            events.events_until(lambda e: e["event"] == "connected", 20)
            time.sleep(3)
            assert answerer.process is not None
            answerer.process.kill()  # SIGKILL: no HANGUP, the audio just stops
            answerer.process.wait()
            # Bounded: the line notices the silence and ends the call on its own.
            ended = events.events_until(lambda e: e["event"] == "result", 40)
        result = ended[-1]
        assert result["outcome"] == "protocol_failure"
        assert "lost" in result["message"]
        # The dead daemon's call row is still 'active'; its next start marks it interrupted.
        assert rows(spool_b, "SELECT state FROM calls") == [{"state": "active"}]
        answerer = IaxModemd(spool_b, settings_b).start()
        (call,) = rows(spool_b, "SELECT state, outcome, message FROM calls")
        assert call["state"] == "interrupted"
        assert "stopped during the call" in call["message"]
    finally:
        caller.stop()
        answerer.stop()


def test_a_call_from_outside_the_trunk_is_refused(
    tmp_path: Path, documents: dict[str, Path]
) -> None:
    """Peer mode: a line takes calls from its configured peer only."""
    base_a, base_b, elsewhere = free_ports(1), free_ports(1), free_ports(1)
    caller = IaxModemd(
        init_spool(tmp_path / "a"),
        {"lines.count": "1", "lines.baseport": str(base_a), "trunk.mode": "peer",
         "trunk.server": f"127.0.0.1:{base_b}"},
    ).start()  # fmt: skip
    guarded = IaxModemd(
        init_spool(tmp_path / "b"),
        {"lines.count": "1", "lines.baseport": str(base_b), "trunk.mode": "peer",
         "trunk.server": f"127.0.0.1:{elsewhere}"},
    ).start()  # fmt: skip
    try:
        job = make_job(caller.spool)
        with Control(caller.socket_path, 30) as events:
            events.request({"op": "subscribe"})
            dial = {"op": "dial", "job": job, "number": "100", "document": str(documents["fine3"])}
            assert caller.request(dial) == {"ok": True}
            ended = events.events_until(lambda e: e["event"] == "result", 30)
        assert ended[-1]["outcome"] != "done"
        assert not any(e["event"] == "connected" for e in ended)
        assert wait_for(lambda: "refused" in guarded.log(), 10), guarded.log()
        assert rows(guarded.spool, "SELECT id FROM calls") == []
    finally:
        caller.stop()
        guarded.stop()


def test_sigterm_during_a_call_hangs_up_and_records_it(
    loopback_daemon: IaxModemd, documents: dict[str, Path]
) -> None:
    daemon = loopback_daemon
    job = make_job(daemon.spool)
    with Control(daemon.socket_path, 30) as events:
        events.request({"op": "subscribe"})
        dial = {"op": "dial", "job": job, "number": "100", "document": str(documents["fine3"])}
        assert daemon.request(dial) == {"ok": True}
        events.events_until(lambda e: e["event"] == "connected" and e["line"] == "1", 20)
    assert daemon.stop(timeout=10) == 0
    calls = rows(daemon.spool, "SELECT direction, state, outcome, message FROM calls")
    assert {c["direction"] for c in calls} == {"in", "out"}
    for call in calls:
        assert call["state"] == "ended"
        assert call["outcome"] == "protocol_failure"  # retryable: faxqueued tries again
    out = next(c for c in calls if c["direction"] == "out")
    assert "stopped" in out["message"]


def test_a_refused_registration_takes_the_line_out_of_service(
    tmp_path: Path, documents: dict[str, Path]
) -> None:
    server_base, client_base = free_ports(1), free_ports(1)
    server = IaxModemd(
        init_spool(tmp_path / "server"),
        {"lines.count": "1", "lines.baseport": str(server_base), "trunk.mode": "register",
         "trunk.secret": "right", "trunk.peername": "office",
         "trunk.server": f"127.0.0.1:{client_base}"},
    ).start()  # fmt: skip
    client = IaxModemd(
        init_spool(tmp_path / "client"),
        {"lines.count": "1", "lines.baseport": str(client_base), "trunk.mode": "register",
         "trunk.secret": "wrong", "trunk.peername": "office",
         "trunk.server": f"127.0.0.1:{server_base}"},
    ).start()  # fmt: skip
    try:

        def line() -> dict[str, object]:
            first: dict[str, object] = client.request({"op": "status"})["lines"][0]
            return first

        assert wait_for(lambda: line()["state"] == "down", 20), client.log()
        assert str(line()["detail"]).startswith("not registered")
        assert line()["registered"] is False
        assert (client.spool / "status" / "line1").read_text().startswith("not registered")
        job = make_job(client.spool)
        dial = {"op": "dial", "job": job, "number": "100", "document": str(documents["fine3"])}
        answer = client.request(dial)
        assert answer["ok"] is False
        assert "registered" in answer["error"]
    finally:
        client.stop()
        server.stop()
