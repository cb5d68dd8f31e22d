"""Intake, call-result consumption, crash reconciliation and retention on a real ledger file."""

from __future__ import annotations

import time
from typing import Any

import pytest

from faxgate.faxqueued import intake, results, retention
from faxgate.faxqueued.lines import LineStatus
from faxgate.faxqueued.scheduling import QueuePolicy
from faxgate.faxqueued.upload import pack_files
from faxgate.settings import Settings, load_settings
from faxgate.spool import intake as spool_intake
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

T0 = 1_800_000_000.0


@pytest.fixture
def settings(ledger: Ledger) -> Settings:
    return load_settings(ledger=ledger, environ={})


def owed(ledger: Ledger) -> list[tuple[str, str]]:
    return [
        (r["kind"], r["address"])
        for r in ledger.query("SELECT kind, address FROM queue_notifications ORDER BY id")
    ]


def test_interpreter_crash_sends_submission_to_bad_and_tells_faxmaster(
    spool: Spool, ledger: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = spool_intake.accept(spool, ledger, "upload", b"data", {"numbers": ["1"]})

    def explode(ctx: Any) -> Any:
        raise RuntimeError("interpreter bug")

    monkeypatch.setattr(intake, "load_interpreter", lambda kind: explode)
    [claimed] = intake.claim(ledger, 5)
    assert intake.process(spool, settings, claimed) == "bad"
    row = ledger.query_one("SELECT state, error, path FROM submissions WHERE id = ?", (sid,))
    assert row is not None
    assert row["state"] == "bad"
    assert "interpreter bug" in row["error"]
    assert (spool.bad / row["path"]).exists()
    assert not (spool.incoming / row["path"]).exists()
    assert owed(ledger) == [("bad", "faxmaster@localhost")]


def test_missing_gateway_interpreter_is_a_clear_bad_outcome(
    spool: Spool, ledger: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(intake.INTERPRETERS, "print", "faxgate.no_such_gateway.interpret")
    sid = spool_intake.accept(spool, ledger, "print", b"%!PS", {})
    [claimed] = intake.claim(ledger, 5)
    assert intake.process(spool, settings, claimed) == "bad"
    row = ledger.query_one("SELECT error FROM submissions WHERE id = ?", (sid,))
    assert row is not None
    assert "interpreter (faxgate.no_such_gateway.interpret) is not installed" in row["error"]


def test_upload_without_number_is_rejected_with_notification(
    spool: Spool, ledger: Ledger, settings: Settings
) -> None:
    data = pack_files([("a.txt", b"hello")])
    spool_intake.accept(spool, ledger, "upload", data, {"numbers": [], "notify": "a@x"})
    [claimed] = intake.claim(ledger, 5)
    assert intake.process(spool, settings, claimed) == "rejected"
    assert owed(ledger) == [("rejected", "a@x")]
    assert list(spool.incoming.iterdir()) == []


def test_claimed_submissions_return_after_a_crash(spool: Spool, ledger: Ledger) -> None:
    spool_intake.accept(spool, ledger, "upload", b"x", {})
    assert len(intake.claim(ledger, 5)) == 1
    assert intake.claim(ledger, 5) == []  # claimed once only
    assert intake.recover_claimed(ledger) == 1
    assert len(intake.claim(ledger, 5)) == 1


def test_orphaned_incoming_files_go_to_bad(
    spool: Spool, ledger: Ledger, settings: Settings
) -> None:
    orphan = spool.incoming / "mail-x.eml"
    orphan.write_bytes(b"half")
    old = time.time() - 3600
    import os

    os.utime(orphan, (old, old))
    moved = intake.sweep_orphans(spool, settings, ledger)
    assert moved == [spool.bad / "mail-x.eml"]
    assert owed(ledger) == [("bad", "faxmaster@localhost")]


def make_job(ledger: Ledger, state: str = "active", number: str = "100", **kw: object) -> int:
    columns = {
        "number": number,
        "state": state,
        "send_at": T0,
        "kill_at": T0 + 10800,
        "created_at": T0,
        "updated_at": T0,
        "notify": "a@x",
        "dispatched_at": T0,
        "line": "1",
    }
    columns.update(kw)
    with ledger.transaction() as conn:
        cursor = conn.execute(
            f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608 (column names are the test's own)
            tuple(columns.values()),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def make_call(
    ledger: Ledger,
    job_id: int,
    state: str,
    outcome: str | None = None,
    handshake: int = 0,
    started: float = T0 + 1,
) -> int:
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO calls (job_id, direction, line, number, state, outcome, reached_handshake,"
            " started_at, ended_at) VALUES (?, 'out', '1', '100', ?, ?, ?, ?, ?)",
            (
                job_id,
                state,
                outcome,
                handshake,
                started,
                None if state == "active" else started + 30,
            ),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def job_row(ledger: Ledger, job_id: int) -> Any:
    return ledger.query_one("SELECT * FROM jobs WHERE id = ?", (job_id,))


def test_call_result_is_consumed_exactly_once(spool: Spool, ledger: Ledger) -> None:
    job = make_job(ledger)
    make_call(ledger, job, "ended", "busy")
    assert results.consume_results(spool, ledger, QueuePolicy(), T0 + 40) == [job]
    assert results.consume_results(spool, ledger, QueuePolicy(), T0 + 41) == []
    row = job_row(ledger, job)
    assert (row["state"], row["dials"], row["tries"], row["next_try_at"]) == (
        "sleeping",
        1,
        0,
        T0 + 40 + 180,
    )
    assert owed(ledger) == [("requeued", "a@x")]
    assert "SEND" in (spool.log / "xferfaxlog").read_text()


def test_cancel_requested_during_call_ends_cancelled(spool: Spool, ledger: Ledger) -> None:
    job = make_job(ledger, cancel_requested=1)
    make_call(ledger, job, "ended", "protocol_failure", handshake=1)
    results.consume_results(spool, ledger, QueuePolicy(), T0 + 40)
    assert job_row(ledger, job)["state"] == "cancelled"
    assert owed(ledger) == [("cancelled", "a@x")]


def lines(*jobs: int | None) -> list[LineStatus]:
    return [
        LineStatus(str(i + 1), "idle" if j is None else "sending", "", j)
        for i, j in enumerate(jobs)
    ]


def test_call_of_a_vanished_iaxmodemd_counts_as_attempt(spool: Spool, ledger: Ledger) -> None:
    job = make_job(ledger)
    call = make_call(ledger, job, "active", handshake=1)
    tracker = results.LostTracker()
    # Listed on a line: nothing happens.
    assert results.reconcile(ledger, lines(job), T0 + 5, tracker) == []
    # Not listed: only after the grace period.
    assert results.reconcile(ledger, lines(None), T0 + 10, tracker) == []
    assert results.reconcile(ledger, lines(None), T0 + 10 + results.LOST_GRACE_S, tracker) == [job]
    state = ledger.query_one("SELECT state FROM calls WHERE id = ?", (call,))
    assert state is not None
    assert state["state"] == "interrupted"
    results.consume_results(spool, ledger, QueuePolicy(), T0 + 40)
    row = job_row(ledger, job)
    assert (row["state"], row["dials"], row["tries"]) == ("sleeping", 1, 1)
    assert "interrupted" in row["last_error"]


def test_dial_that_never_reached_a_line_is_not_counted(spool: Spool, ledger: Ledger) -> None:
    job = make_job(ledger)
    tracker = results.LostTracker()
    results.reconcile(ledger, lines(None), T0, tracker)
    assert results.reconcile(ledger, lines(None), T0 + 60, tracker) == [job]
    row = job_row(ledger, job)
    assert (row["state"], row["dials"]) == ("ready", 0)


def test_unreachable_iaxmodemd_waits_before_declaring_calls_lost(
    spool: Spool, ledger: Ledger
) -> None:
    job = make_job(ledger)
    make_call(ledger, job, "active")
    tracker = results.LostTracker()
    assert results.reconcile(ledger, None, T0, tracker) == []
    assert results.reconcile(ledger, None, T0 + results.GONE_GRACE_S - 1, tracker) == []
    results.reconcile(ledger, None, T0 + results.GONE_GRACE_S, tracker)
    assert results.reconcile(
        ledger, None, T0 + results.GONE_GRACE_S + results.LOST_GRACE_S, tracker
    ) == [job]


def test_retention_removes_old_finished_work_only(spool: Spool, ledger: Ledger) -> None:
    now = T0 + 40 * 86400
    with ledger.transaction() as conn:
        old_doc = conn.execute(
            "INSERT INTO documents (sha256, path, pages, created_at) VALUES ('a', 'old.tif', 1, ?)",
            (T0,),
        ).lastrowid
        live_doc = conn.execute(
            "INSERT INTO documents (sha256, path, pages, created_at)"
            " VALUES ('b', 'live.tif', 1, ?)",
            (T0,),
        ).lastrowid
    (spool.docq / "old.tif").write_bytes(b"x" * 100)
    (spool.docq / "live.tif").write_bytes(b"y")
    old_done = make_job(ledger, "done", done_at=T0, document_id=old_doc)
    recent_done = make_job(ledger, "done", done_at=now - 86400, document_id=live_doc)
    active = make_job(ledger, "active", created_at=T0, document_id=live_doc)
    unsent = make_job(ledger, "failed", done_at=T0)
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO queue_notifications (job_id, kind, address, created_at)"
            " VALUES (?, 'failed', 'a@x', ?)",
            (unsent, T0),
        )
        for state, name in (("delivered", "fax00000001.tif"), ("received", "fax00000002.tif")):
            (spool.recvq / name).write_bytes(b"II*\x00")
            conn.execute(
                "INSERT INTO received_faxes (tiff_path, state, received_at) VALUES (?, ?, ?)",
                (str(spool.recvq / name), state, T0),
            )
    # previews the admin cached beside them go with them (but not another fax's)
    derived = ["old.thumb.png", "old.page-1.png"]
    for name in derived:
        (spool.docq / name).write_bytes(b"png")
    for name in ("fax00000001.pdf", "fax00000001.thumb.png", "fax00000002.thumb.png"):
        (spool.recvq / name).write_bytes(b"cached")
    (spool.docq / "live.thumb.png").write_bytes(b"png")
    (spool.log / "c000001.log").write_text("session")
    (spool.log / "xferfaxlog").write_text("kept")
    import os

    for path in (spool.log / "c000001.log", spool.log / "xferfaxlog"):
        os.utime(path, (T0, T0))
    summary = retention.cleanup(spool, ledger, days=30, now=now)
    remaining = {r["id"] for r in ledger.query("SELECT id FROM jobs")}
    assert remaining == {recent_done, active, unsent}
    assert old_done not in remaining
    assert (summary.jobs, summary.documents, summary.received_faxes, summary.logs) == (1, 1, 1, 1)
    assert not (spool.docq / "old.tif").exists()
    assert (spool.docq / "live.tif").exists()
    assert not (spool.recvq / "fax00000001.tif").exists()
    assert (spool.recvq / "fax00000002.tif").exists()  # not delivered yet: kept
    assert (spool.log / "xferfaxlog").exists()
    assert not any((spool.docq / name).exists() for name in derived)
    assert not (spool.recvq / "fax00000001.pdf").exists()
    assert not (spool.recvq / "fax00000001.thumb.png").exists()
    assert (spool.recvq / "fax00000002.thumb.png").exists()
    assert (spool.docq / "live.thumb.png").exists()
    assert summary.bytes_freed >= 100
    assert "removed 1 jobs" in summary.in_words()
    assert retention.last_run(ledger) == now


def test_cleanup_due_follows_schedule(ledger: Ledger, settings: Settings) -> None:
    import datetime as dt

    sunday = dt.datetime(2026, 11, 29, 3, 30).timestamp()
    assert not retention.cleanup_due(settings, None, sunday)
    assert retention.cleanup_due(settings, sunday - 86400, sunday)
    assert not retention.cleanup_due(settings, sunday, sunday + 86400)


def test_cancel_of_a_job_whose_dial_was_lost_ends_cancelled(spool: Spool, ledger: Ledger) -> None:
    job = make_job(ledger, cancel_requested=1)
    tracker = results.LostTracker()
    results.reconcile(ledger, lines(None), T0, tracker)
    assert results.reconcile(ledger, lines(None), T0 + 60, tracker) == [job]
    assert job_row(ledger, job)["state"] == "cancelled"
    assert owed(ledger) == [("cancelled", "a@x")]


def test_unrecorded_received_fax_is_kept_in_bad_and_reported(
    spool: Spool, ledger: Ledger, settings: Settings
) -> None:
    from faxgate.faxqueued import inbound

    recorded = spool.recvq / "fax00000001.tif"
    unrecorded = spool.recvq / "fax00000002.tif"
    young = spool.recvq / "fax00000003.tif"
    for path in (recorded, unrecorded, young):
        path.write_bytes(b"II*\x00")
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO received_faxes (tiff_path, received_at) VALUES (?, ?)", (str(recorded), T0)
        )
    import os

    for path in (recorded, unrecorded):
        os.utime(path, (T0, T0))
    os.utime(young, (T0 + 1000, T0 + 1000))
    moved = inbound.sweep_unrecorded(spool, settings, ledger, now=T0 + 1000)
    assert moved == [spool.bad / "fax00000002.tif"]
    assert recorded.exists()
    assert young.exists()
    assert owed(ledger) == [("bad", "faxmaster@localhost")]


def test_held_print_job_waits_then_is_sent_or_deleted(
    spool: Spool, ledger: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxgate.faxqueued import api
    from faxgate.spool.requests import DocumentPart, PendingPrintJob

    def hold(ctx: Any) -> Any:
        return PendingPrintJob(
            owner="bob",
            title="Offer",
            document=DocumentPart(ctx.raw_path, "application/pdf"),
            notify="bob@x",
        )

    monkeypatch.setattr(intake, "load_interpreter", lambda kind: hold)
    for _ in range(2):
        spool_intake.accept(spool, ledger, "print", b"%PDF-1.4 offer", {}, owner="bob")
    for claimed in intake.claim(ledger, 5):
        assert intake.process(spool, settings, claimed) == "held"
    held = api.list_print_jobs(ledger, owner="bob")
    assert [h.title for h in held] == ["Offer", "Offer"]
    assert api.list_print_jobs(ledger, owner="alice") == []
    sid = api.send_print_job(spool, ledger, held[0].id, ["+49 30 1"], actor="bob")
    row = ledger.query_one("SELECT kind, params, owner FROM submissions WHERE id = ?", (sid,))
    assert row is not None
    assert (row["kind"], row["owner"]) == ("upload", "bob")
    assert '"0049301"' in row["params"]
    api.delete_print_job(spool, ledger, held[1].id, actor="bob")
    assert api.list_print_jobs(ledger) == []
    assert not list(spool.docq.glob("print-*"))


def test_upload_with_time_to_send_and_kill_time(spool: Spool, ledger: Ledger) -> None:
    sub = intake.Submission(1, "upload", "x", '{"send_at": 1900000000, "kill_after": 600}', None)
    assert intake.requested_times(sub) == (1_900_000_000.0, 600.0)
    assert intake.requested_times(intake.Submission(1, "upload", "x", "{}", None)) == (None, None)
    bad = intake.Submission(1, "upload", "x", '{"send_at": "soon", "kill_after": -1}', None)
    assert intake.requested_times(bad) == (None, None)


def test_owed_notifications_go_to_the_outbox_once(
    spool: Spool, ledger: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxgate.faxqueued import notifications
    from faxgate.mail import outbox
    from faxgate.spool.atomic import DiskFullError

    job = make_job(ledger, "done", tag="T9")
    with ledger.transaction() as conn:
        from faxgate.faxqueued.jobstore import add_notification

        add_notification(conn, "done", "a@x", {"reason": "the fax was sent"}, job_id=job)
        add_notification(conn, "failed", "b@x", {"reason": "nobody answered"}, job_id=job)

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise DiskFullError("no space left")

    with monkeypatch.context() as patched:
        patched.setattr(outbox, "enqueue", disk_full)
        assert notifications.send_owed(spool, settings, ledger) == 0
    assert outbox.pending_messages(spool) == []
    assert notifications.send_owed(spool, settings, ledger) == 2
    assert notifications.send_owed(spool, settings, ledger) == 0
    envelopes = sorted(
        outbox.read_message(p)[0].recipients[0] for p in outbox.pending_messages(spool)
    )
    assert envelopes == ["a@x", "b@x"]
    data = b"".join(outbox.read_message(p)[1] for p in outbox.pending_messages(spool))
    assert b"Fax to 100 sent [T9]" in data
    assert b"nobody answered" in data


def test_full_disk_gives_the_submission_back(
    spool: Spool, ledger: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxgate.spool.atomic import DiskFullError

    def full(ctx: Any) -> Any:
        raise DiskFullError("no space left")

    monkeypatch.setattr(intake, "load_interpreter", lambda kind: full)
    sid = spool_intake.accept(spool, ledger, "upload", b"x", {})
    [claimed] = intake.claim(ledger, 1)
    assert intake.process(spool, settings, claimed) == "new"
    row = ledger.query_one("SELECT state, path FROM submissions WHERE id = ?", (sid,))
    assert row is not None
    assert row["state"] == "new"
    assert (spool.incoming / row["path"]).exists()


def test_retention_removes_an_old_print_submission_with_its_ipp_job(
    spool: Spool, ledger: Ledger
) -> None:
    # Review finding: ipp_jobs referenced submissions without ON DELETE, so this cleanup failed
    # on the foreign key, rolled back, and failed again every run after the first print job.
    old = T0
    with ledger.transaction() as conn:
        submission = conn.execute(
            "INSERT INTO submissions (kind, path, params, state, created_at, updated_at)"
            " VALUES ('print', 'x.prn', '{}', 'rejected', ?, ?)",
            (old, old),
        ).lastrowid
        conn.execute(
            "INSERT INTO ipp_jobs (submission_id, created_at) VALUES (?, ?)", (submission, old)
        )
    summary = retention.cleanup(spool, ledger, days=30, now=T0 + 40 * 86400)
    assert summary.submissions == 1
    assert ledger.query("SELECT * FROM ipp_jobs") == []
    assert retention.last_run(ledger) == T0 + 40 * 86400


def test_requeued_notifications_are_settled_unmailed_when_switched_off(
    spool: Spool, ledger: Ledger
) -> None:
    from faxgate.faxqueued import notifications
    from faxgate.faxqueued.jobstore import add_notification
    from faxgate.mail import outbox
    from faxgate.settings import load_settings

    job = make_job(ledger, "done")
    with ledger.transaction() as conn:
        add_notification(conn, "requeued", "a@x", {"reason": "the number was busy"}, job_id=job)
        add_notification(conn, "done", "a@x", {"reason": "the fax was sent"}, job_id=job)
    quiet = load_settings(
        ledger=ledger, environ={"FAXGATE_SYS_FAX_CONFIGURE_NOTIFY_REQUEUED": "false"}
    )
    assert notifications.send_owed(spool, quiet, ledger) == 1
    [message] = outbox.pending_messages(spool)
    assert b"Fax to 100 sent" in outbox.read_message(message)[1]
    owed = ledger.query_one("SELECT count(*) FROM queue_notifications WHERE sent_at IS NULL")
    assert owed is not None
    assert owed[0] == 0  # the requeued one is settled too, not owed forever


def test_a_grown_xferfaxlog_is_rotated_and_the_rotated_file_ages_out(
    spool: Spool, ledger: Ledger
) -> None:
    import os

    from faxgate.faxqueued import xferfaxlog

    now = time.time()  # the rotated file keeps its last write time: now
    big = spool.log / "xferfaxlog"
    big.write_bytes(b"x" * retention.ROTATE_AT_BYTES)
    (spool.log / "sendfax.log").write_text("small\n")
    old_rotated = spool.log / "xferfaxlog.20200101-033000"
    old_rotated.write_text("old")
    os.utime(old_rotated, (now - 40 * 86400, now - 40 * 86400))

    summary = retention.cleanup(spool, ledger, days=30, now=now)

    assert not big.exists()
    [rotated] = [p for p in spool.log.glob("xferfaxlog.*") if p != old_rotated]
    assert rotated.stat().st_size == retention.ROTATE_AT_BYTES  # renamed whole, nothing lost
    assert (spool.log / "sendfax.log").read_text() == "small\n"  # under the size: left alone
    assert not old_rotated.exists()
    assert summary.logs == 1
    xferfaxlog.append(spool.log, xferfaxlog.Transfer(direction="SEND", at=now, commid=1, modem="1"))
    assert big.read_text().count("\n") == 1  # the next transfer starts a new file
