"""The ledger: migrations once each, WAL, several writers at once losing nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger, available_migrations, split_statements

WRITER = """
import sys
from pathlib import Path
from faxgate.spool.ledger import Ledger
ledger = Ledger.open(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    with ledger.transaction() as conn:
        # read-modify-write: loses updates unless the write lock is held from the start
        n = conn.execute("SELECT count(*) FROM audit_log WHERE actor = ?", (sys.argv[2],)).fetchone()[0]
        conn.execute(
            "INSERT INTO audit_log (at, actor, action, detail) VALUES (0, ?, 'n', ?)",
            (sys.argv[2], str(n)),
        )
"""


def test_migrations_apply_once(spool: Spool) -> None:
    first = Ledger.open(spool.ledger_path, migrate=False)
    assert first.migrate() == [name for name, _ in available_migrations()]
    assert first.migrate() == []
    assert first.query_one("PRAGMA journal_mode")[0] == "wal"  # type: ignore[index]
    assert first.integrity_problems() == []
    first.close()


def test_two_processes_writing_concurrently_lose_nothing(spool: Spool) -> None:
    Ledger.open(spool.ledger_path).close()
    count = 200
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(spool.ledger_path), name, str(count)])
        for name in ("a", "b")
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    with Ledger.open(spool.ledger_path) as ledger:
        for name in ("a", "b"):
            values = [
                int(row["detail"])
                for row in ledger.query("SELECT detail FROM audit_log WHERE actor = ?", (name,))
            ]
            assert sorted(values) == list(range(count))


def test_concurrent_first_start_migrates_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s")
    spool.ensure()
    code = "import sys; from pathlib import Path; from faxgate.spool.ledger import Ledger; Ledger.open(Path(sys.argv[1])).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(spool.ledger_path)]) for _ in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    with Ledger.open(spool.ledger_path) as ledger:
        names = [row[0] for row in ledger.query("SELECT name FROM schema_migrations")]
    assert sorted(names) == [name for name, _ in available_migrations()]


def test_an_older_ledger_is_migrated_forward_keeping_its_data(spool: Spool) -> None:
    # What a newer image does with an older volume: apply only what the volume has not seen.
    migrations = available_migrations()
    assert len(migrations) > 1
    with Ledger.open(spool.ledger_path, migrate=False) as old:
        old.conn.execute(
            "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        first_name, first_sql = migrations[0]
        for statement in split_statements(first_sql):
            old.conn.execute(statement)
        old.conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (first_name,))
        old.conn.execute(
            "INSERT INTO fax_devices (extension, format, created_at) VALUES ('100', 'pdf', 0)"
        )
    with Ledger.open(spool.ledger_path, migrate=False) as new:
        applied = new.migrate()
        assert applied == [name for name, _ in migrations[1:]]
        assert [r["extension"] for r in new.query("SELECT extension FROM fax_devices")] == ["100"]
        assert new.integrity_problems() == []


def test_writers_queue_on_the_write_lock(spool: Spool) -> None:
    """A second writer waits on the flock (not in SQLite's sleeping busy handler, whose sleeps
    are 100 ms by then) and goes the moment the first commits."""
    Ledger.open(spool.ledger_path).close()
    first, second = Ledger(spool.ledger_path), Ledger(spool.ledger_path)
    started = threading.Event()
    finished: list[float] = []

    def write() -> None:
        started.set()
        with second.transaction() as conn:
            finished.append(time.monotonic())  # the write lock is ours (before any fsync)
            conn.execute(
                "INSERT INTO audit_log (at, actor, action, detail) VALUES (0, 'b', 'n', '')"
            )

    with first.transaction() as conn:
        conn.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (0, 'a', 'n', '')")
        waiter = threading.Thread(target=write)
        waiter.start()
        started.wait(5)
        time.sleep(0.3)
        assert finished == []  # blocked while the first holds the lock
        released = time.monotonic()
    waiter.join(5)
    assert finished
    assert finished[0] - released < 0.05  # woken by the release, not by a poll
    assert (spool.ledger_path.parent / (spool.ledger_path.name + ".writelock")).exists()
    first.close()
    second.close()


def test_a_nested_ledger_in_the_same_thread_does_not_wait_on_its_own_lock(spool: Spool) -> None:
    Ledger.open(spool.ledger_path).close()
    outer, inner = Ledger(spool.ledger_path), Ledger(spool.ledger_path)
    inner.conn.execute("PRAGMA busy_timeout = 200")
    # SQLite reports the dead-lock after its busy timeout instead of hanging forever
    with (
        outer.transaction(),
        pytest.raises(sqlite3.OperationalError, match="locked"),
        inner.transaction(),
    ):
        pass
    outer.close()
    inner.close()
