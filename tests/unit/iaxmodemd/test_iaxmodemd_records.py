"""The ledger rows of calls and received faxes, and recvq numbering."""

from __future__ import annotations

import time
from pathlib import Path

from faxgate.iaxmodemd.records import (
    CallEnd,
    CallStart,
    ReceivedFax,
    end_call,
    fax_file_name,
    keep_in_bad,
    mark_interrupted,
    next_fax_number,
    start_call,
    store_received,
    sweep_partial_receptions,
)
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


def make_job(ledger: Ledger) -> int:
    now = time.time()
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO jobs (number, state, send_at, kill_at, created_at, updated_at)"
            " VALUES ('100', 'active', ?, ?, ?, ?)",
            (now, now + 3600, now, now),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def test_a_call_row_goes_active_then_ended(ledger: Ledger) -> None:
    job = make_job(ledger)
    call = start_call(ledger, CallStart("out", "2", "100", job))
    row = ledger.query_one("SELECT * FROM calls WHERE id = ?", (call,))
    assert row is not None
    assert row["state"] == "active"
    assert row["job_id"] == job
    end_call(
        ledger,
        call,
        CallEnd("busy", "The number was busy.", False, 0, "", None, None, None),
    )
    row = ledger.query_one("SELECT * FROM calls WHERE id = ?", (call,))
    assert row is not None
    assert (row["state"], row["outcome"], row["consumed"]) == ("ended", "busy", 0)
    assert row["ended_at"] >= row["started_at"]


def test_calls_left_active_by_a_dead_daemon_become_interrupted(ledger: Ledger) -> None:
    first = start_call(ledger, CallStart("in", "1", "100"))
    second = start_call(ledger, CallStart("in", "2", "101"))
    end_call(ledger, second, CallEnd("done", "ok", True, 1, "x", 14400, True, "fine"))
    assert mark_interrupted(ledger) == 1
    states = {r["id"]: (r["state"], r["outcome"]) for r in ledger.query("SELECT * FROM calls")}
    assert states[first] == ("interrupted", "local_error")
    assert states[second] == ("ended", "done")


def test_fax_numbers_count_up_and_skip_existing_files(spool: Spool) -> None:
    assert next_fax_number(spool) == 1
    assert next_fax_number(spool) == 2
    (spool.recvq / fax_file_name(3)).write_bytes(b"")  # e.g. seqf restored from a backup
    assert next_fax_number(spool) == 4
    assert (spool.recvq / "seqf").read_text().strip() == "4"


def test_a_received_fax_lands_in_recvq_with_its_row(
    spool: Spool, ledger: Ledger, tmp_path: Path
) -> None:
    partial = spool.tmp / "receiving-line2-1.tif"  # where the fax engine writes it
    partial.write_bytes(b"II*\x00 fax data")
    fax = ReceivedFax("100", "0991234", "+49 30 1234", 3, "2", 14400, True, 71.5)
    target = store_received(ledger, spool, partial, fax)
    assert target.parent == spool.recvq
    assert target.name == "fax00000001.tif"
    assert target.read_bytes() == b"II*\x00 fax data"
    assert not partial.exists()  # moved, not copied: a full disk cannot stop it
    row = ledger.query_one("SELECT * FROM received_faxes")
    assert row is not None
    assert (row["tiff_path"], row["dnid"], row["pages"], row["state"], row["ecm"]) == (
        str(target),
        "100",
        3,
        "received",
        1,
    )


def test_a_reception_that_cannot_be_stored_is_kept_in_bad(spool: Spool) -> None:
    # Review finding: the partial was deleted when storing failed, after the sender was told
    # every page had arrived.
    partial = spool.tmp / "receiving-line1-7.tif"
    partial.write_bytes(b"II*\x00 pages")
    kept = keep_in_bad(spool, partial)
    assert kept == spool.bad / "receiving-line1-7.tif"
    assert kept.read_bytes() == b"II*\x00 pages"
    assert keep_in_bad(spool, partial) is None  # already gone: nothing to do


def test_receptions_cut_short_by_a_kill_go_to_bad_at_start(spool: Spool) -> None:
    for name in ("receiving-line1-1.tif", "receiving-line3-2.tif"):
        (spool.tmp / name).write_bytes(b"II*\x00")
    (spool.tmp / "unrelated.tmp").write_bytes(b"x")
    kept = sweep_partial_receptions(spool)
    assert sorted(p.name for p in kept) == ["receiving-line1-1.tif", "receiving-line3-2.tif"]
    assert sorted(p.name for p in spool.tmp.iterdir()) == ["unrelated.tmp"]
