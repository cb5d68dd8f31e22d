"""Spool layout and the gateway intake contract."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxgate.spool import intake
from faxgate.spool.layout import DIRECTORIES, Spool
from faxgate.spool.ledger import Ledger


def test_layout_has_hylafax_names_and_ours(spool: Spool) -> None:
    for name in (
        "sendq",
        "doneq",
        "docq",
        "recvq",
        "log",
        "info",
        "status",
        "etc",
        "tmp",
        "archive",
        "client",
        "mimetype",
        "incoming",
        "outbox",
        "bad",
    ):
        assert (spool.root / name).is_dir(), name
    assert spool.problems() == []


def test_problems_are_reported_in_words(spool: Spool) -> None:
    (spool.root / "bad").rmdir()
    spool.status.chmod(0o777)
    problems = spool.problems()
    assert f"{spool.root / 'bad'} is missing" in problems
    assert any("world-writable" in p and "status" in p for p in problems)


def test_no_directory_is_world_writable(spool: Spool) -> None:
    for name in DIRECTORIES:
        assert not (spool.root / name).stat().st_mode & 0o002


def test_seed_mimetype_keeps_admin_converters(spool: Spool, tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    (shipped / "application").mkdir(parents=True)
    (shipped / "application" / "pdf").write_text("#!/bin/sh\necho shipped\n")
    (shipped / "text").mkdir()
    (shipped / "text" / "plain").write_text("#!/bin/sh\necho shipped\n")
    own = spool.mimetype / "text" / "plain"
    own.parent.mkdir()
    own.write_text("#!/bin/sh\necho admin\n")
    copied = spool.seed_mimetype(shipped)
    assert copied == [spool.mimetype / "application" / "pdf"]
    assert own.read_text() == "#!/bin/sh\necho admin\n"
    assert os.access(copied[0], os.X_OK)


def test_accept_stores_file_and_row(spool: Spool, ledger: Ledger) -> None:
    sid = intake.accept(
        spool, ledger, "mail", [b"Subject: x\r\n", b"\r\nbody"], {"rcpt": ["a@1.fax"]}, owner="bob"
    )
    row = ledger.query_one("SELECT * FROM submissions WHERE id = ?", (sid,))
    assert row is not None
    assert (row["kind"], row["state"], row["owner"]) == ("mail", "new", "bob")
    assert json.loads(row["params"]) == {"rcpt": ["a@1.fax"]}
    assert (spool.incoming / row["path"]).read_bytes() == b"Subject: x\r\n\r\nbody"


def test_failed_write_rolls_back_the_row(spool: Spool, ledger: Ledger) -> None:
    def broken() -> object:
        yield b"part"
        raise OSError(5, "I/O error")

    with pytest.raises(Exception, match="cannot write"):
        intake.accept(spool, ledger, "print", broken(), {})  # type: ignore[arg-type]
    assert ledger.query("SELECT * FROM submissions") == []
    assert [p for p in spool.incoming.iterdir()] == []


def test_orphaned_files_are_found(spool: Spool, ledger: Ledger) -> None:
    intake.accept(spool, ledger, "upload", b"ok", {})
    orphan = spool.incoming / "mail-crashed.eml"
    orphan.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    assert intake.orphaned_files(spool, ledger) == [orphan]


def test_poke_reaches_a_listener(spool: Spool) -> None:
    assert intake.poke(spool) is False  # nobody listens: no error, just False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(spool.faxqueued_socket))
        assert intake.poke(spool) is True
        assert listener.recv(16) == b"poke"


class CommitFails(Ledger):
    """A ledger whose COMMIT fails after the body ran (disk full for the WAL, say)."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        yield self.conn
        self.conn.execute("ROLLBACK")
        raise sqlite3.OperationalError("database or disk is full")


def test_failed_commit_leaves_no_file(spool: Spool) -> None:
    Ledger.open(spool.ledger_path).close()
    failing = CommitFails(spool.ledger_path)
    with pytest.raises(sqlite3.OperationalError):
        intake.accept(spool, failing, "mail", b"data", {})
    failing.close()
    assert list(spool.incoming.iterdir()) == []


def test_the_ledger_is_not_locked_while_the_data_arrives(spool: Spool, ledger: Ledger) -> None:
    # A print client trickling its document must not hold the ledger's write lock: another
    # writer (iaxmodemd recording a call, smtpfaxd accepting mail) gets through at once.
    other = Ledger.open(spool.ledger_path)
    other.conn.execute("PRAGMA busy_timeout = 100")
    written_meanwhile: list[int] = []

    def slow_upload() -> Iterator[bytes]:
        yield b"%PDF-1.4\n"
        with other.transaction() as conn:
            conn.execute("INSERT INTO audit_log (at, actor, action) VALUES (0, 'other', 'x')")
        written_meanwhile.append(1)
        yield b"%%EOF\n"

    intake.accept(spool, ledger, "print", slow_upload(), {})
    other.close()
    assert written_meanwhile == [1]
    assert len(ledger.query("SELECT * FROM submissions")) == 1


def test_link_commits_with_the_submission_or_not_at_all(spool: Spool, ledger: Ledger) -> None:
    def failing_link(conn: sqlite3.Connection, submission_id: int) -> None:
        conn.execute(
            "INSERT INTO audit_log (at, actor, action) VALUES (0, 'link', ?)", (str(submission_id),)
        )
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(sqlite3.OperationalError):
        intake.accept(spool, ledger, "print", b"doc", {}, link=failing_link)
    assert ledger.query("SELECT * FROM submissions") == []
    assert ledger.query("SELECT * FROM audit_log WHERE actor = 'link'") == []
    assert list(spool.incoming.iterdir()) == []


def test_a_batch_is_stored_with_one_commit_and_a_failing_part_fails_alone(
    spool: Spool, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = intake.write_atomic

    def write(path: Path, data: bytes, **kwargs: object) -> int:
        if data == b"bad":
            raise OSError(28, "No space left on device")
        return real(path, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(intake, "write_atomic", write)
    batch = [intake.Pending(b"one", {"n": 1}, "bob"), intake.Pending(b"bad", {"n": 2}),
             intake.Pending(b"three", {"n": 3})]  # fmt: skip
    results = intake.accept_batch(spool, ledger, "mail", batch)
    assert isinstance(results[1], OSError)
    first, third = results[0], results[2]
    assert isinstance(first, int)
    assert isinstance(third, int)
    rows = {r["id"]: r for r in ledger.query("SELECT * FROM submissions")}
    assert sorted(rows) == sorted([first, third])
    assert (spool.incoming / rows[first]["path"]).read_bytes() == b"one"
    assert rows[first]["owner"] == "bob"
    assert json.loads(rows[third]["params"]) == {"n": 3}
    assert len(list(spool.incoming.iterdir())) == 2


def test_a_batch_whose_commit_fails_leaves_no_file(spool: Spool, ledger: Ledger) -> None:
    ledger.conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON submissions"
                        " BEGIN SELECT RAISE(ABORT, 'refused'); END")  # fmt: skip
    results = intake.accept_batch(
        spool, ledger, "mail", [intake.Pending(b"a", {}), intake.Pending(b"b", {})]
    )
    assert all(isinstance(r, Exception) and "refused" in str(r) for r in results)
    assert list(spool.incoming.iterdir()) == []
