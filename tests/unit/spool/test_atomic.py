"""Atomic files: complete or absent, never partial — also when the writer is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faxgate.spool.atomic import TEMP_PREFIX, sweep_stale_temps, write_atomic

# A writer that streams chunks slowly, so the test can kill it in the middle.
SLOW_WRITER = """
import sys, time
from pathlib import Path
from faxgate.spool.atomic import write_atomic
def chunks():
    for i in range(1000):
        yield b"x" * 4096
        if i == 10:
            print("writing", flush=True)
        time.sleep(0.01)
write_atomic(Path(sys.argv[1]), chunks())
"""


def test_write_creates_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "doc.tif"
    assert write_atomic(target, [b"ab", b"cd"]) == 4
    assert target.read_bytes() == b"abcd"
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_replacing_keeps_the_old_file_until_the_new_one_is_complete(tmp_path: Path) -> None:
    target = tmp_path / "status"
    write_atomic(target, b"old")

    def failing() -> object:
        yield b"new-but-"
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        write_atomic(target, failing())  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_killed_writer_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "incoming.eml"
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "writing"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL
    assert not target.exists()
    leftovers = list(tmp_path.glob(f"{TEMP_PREFIX}*"))
    assert len(leftovers) == 1  # the killed writer's temp file, invisible under the real name
    old = time.time() - 7200
    os.utime(leftovers[0], (old, old))
    assert sweep_stale_temps(tmp_path) == leftovers
    assert not list(tmp_path.iterdir())


def test_mode_is_applied(tmp_path: Path) -> None:
    target = tmp_path / "admin-password"
    write_atomic(target, b"secret", mode=0o600)
    assert target.stat().st_mode & 0o777 == 0o600
