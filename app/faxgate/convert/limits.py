"""Running a converter (or Ghostscript) in a subprocess under time, memory and file limits.

Limits are set in the child between fork and exec (`preexec_fn`): RLIMIT_AS bounds memory,
RLIMIT_CPU backs up the wall-clock timeout, RLIMIT_FSIZE stops a runaway output file and core
dumps are off. The child gets its own session, so on timeout the whole group (a shell script and
the Ghostscript it started) is killed. Run as root, the child drops to an unprivileged user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_OUTPUT_FILE_BYTES = 2 * 1024**3
UNPRIVILEGED_USER = "nobody"


@dataclass(frozen=True)
class LimitedRun:
    """What a limited subprocess did."""

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool
    cpu_seconds: float = 0.0  # user + system time of the process and what it waited for

    @property
    def signal_number(self) -> int | None:
        """The signal that ended the process, if one did."""
        return -self.returncode if self.returncode < 0 else None


def _others_can_execute(program: str) -> bool:
    """True if a user other than the owner may run `program` (every directory on the way +x)."""
    path = Path(os.path.realpath(program))
    for directory in path.parents:
        if not os.stat(directory).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & stat.S_IXOTH)


def unprivileged_ids(programs: Sequence[str] = ()) -> tuple[int, int] | None:
    """(uid, gid) to drop to when running as root, or None.

    None when not root, when the user does not exist, or when the Python interpreter or one of
    `programs` could not be run by that user (a development interpreter under /root, a spool in
    a private test directory): the other limits still apply.
    """
    if os.geteuid() != 0:
        return None
    if not all(_others_can_execute(program) for program in (sys.executable, *programs)):
        return None
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _limiter(
    memory_limit_mb: int, cpu_seconds: int, ids: tuple[int, int] | None
) -> Callable[[], None]:
    def apply_limits() -> None:  # runs in the child, between fork and exec
        memory = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT_FILE_BYTES, MAX_OUTPUT_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if ids is not None:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])

    return apply_limits


def run_limited(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    time_limit_s: float,
    memory_limit_mb: int,
    drop_privileges: bool = True,
) -> LimitedRun:
    """Run `argv` to completion or to its time limit; never raises for the child's failures."""
    ids = unprivileged_ids(argv[:1]) if drop_privileges else None
    # CPU time from the children's totals: exact unless another thread reaps a child meanwhile.
    cpu_before = _children_cpu()
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_limiter(memory_limit_mb, int(time_limit_s) + 1, ids),
    )
    try:
        stdout, stderr = process.communicate(timeout=time_limit_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(process)
        stdout, stderr = process.communicate()
        timed_out = True
    except BaseException:
        _kill_group(process)
        process.wait()
        raise
    cpu = max(0.0, _children_cpu() - cpu_before)
    return LimitedRun(process.returncode, stdout, stderr, timed_out, cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
