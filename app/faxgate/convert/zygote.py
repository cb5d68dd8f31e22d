"""A warm converter process: the shipped converters without a Python start per document.

Starting Python and loading PDFium, numpy and Pillow costs about 0.1 s of CPU, as much as
converting seven pages of a letter. The runner therefore keeps one *zygote* process with those loaded
(started on first use, ending when its parent closes the control socket). For each document the
runner hands it a fresh socket; the zygote forks a *handler*, which forks the *converter* with
exactly the treatment `limits.run_limited` gives an executable (own session, RLIMIT_AS/CPU/FSIZE,
no core, unprivileged user when root, private directory and environment), waits for it under
the wall-clock limit (killing its process group when it is reached) and reports its exit status.

Only converters whose script is exactly the one faxgate ships run this way (`runner` checks);
an administrator's converter, or a shipped one an administrator edited, is executed as it is.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faxgate.convert.limits import LimitedRun, _limiter

_MAX_REQUEST = 1 << 20


# --- the zygote side ---------------------------------------------------------------------------
def _preload() -> None:
    # Everything the converters import, and libtiff, loaded once before any fork; PDFium has
    # rendered a line of text, so converters do not each pay for setting it up.
    import faxgate.convert.g4 as g4
    import faxgate.convert.htmldoc
    import faxgate.convert.images
    import faxgate.convert.pdfpages
    import faxgate.convert.textdoc
    import faxgate.convert.tools
    import faxgate.convert.typeset

    g4.libtiff_available()
    with contextlib.suppress(Exception):  # a failed warm-up only costs speed
        faxgate.convert.pdfpages.warm_up()


def _run_converter(request: dict[str, Any]) -> None:
    """In the converter process: limits, identity, directory, output files, then the tool."""
    ids = tuple(request["ids"]) if request["ids"] else None
    _limiter(int(request["memory_limit_mb"]), int(request["time_limit_s"]) + 1, ids)()
    workdir = Path(request["cwd"])
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(request["env"])
    out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(err, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    from faxgate.convert import tools

    code = 70
    try:
        code = tools.main(request["args"])
    except MemoryError:
        os.write(2, b"the document needs more memory than the conversion limit allows\n")
        code = tools.EXIT_LIMIT
    except BaseException as exc:  # the converter must end with a message, whatever happened
        os.write(2, f"the converter failed unexpectedly: {type(exc).__name__}\n".encode())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _read_all(connection: socket.socket) -> bytes:
    """Everything the peer sends until it shuts its side down."""
    chunks = []
    size = 0
    while chunk := connection.recv(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_REQUEST:
            raise ValueError("request too large")
    return b"".join(chunks)


def _handle(connection: socket.socket) -> None:
    """In the handler process: run one request, report its outcome, exit."""
    try:
        request = json.loads(_read_all(connection))
        pid = os.fork()
        if pid == 0:
            connection.close()
            os.setsid()
            _run_converter(request)
        deadline = time.monotonic() + float(request["time_limit_s"])
        timed_out = False
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() >= deadline:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                break
            time.sleep(0.002)
        reply = {
            "returncode": os.waitstatus_to_exitcode(status),
            "timed_out": timed_out,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
        }
        connection.sendall(json.dumps(reply).encode())
    finally:
        connection.close()
        os._exit(0)


def serve(control: socket.socket) -> None:
    """The zygote loop: every socket received over `control` is one conversion."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # handlers are reaped by the kernel
    # Ctrl-C in a terminal reaches the whole process group: the runner decides, not us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(control, 16, 1)
        except OSError:
            return
        if not fds:
            return  # the runner's process is gone (or closed us): end
        connection = socket.socket(fileno=fds[0])
        if os.fork() == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _handle(connection)
        connection.close()


def main() -> None:
    """Entry point: `python -m faxgate.convert.zygote FD` (FD: the inherited control socket)."""
    control = socket.socket(fileno=int(sys.argv[1]))
    _preload()
    serve(control)


# --- the runner side ---------------------------------------------------------------------------
class Zygote:
    """The runner's handle on its zygote (thread-safe; restarted if it died)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._control: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def _ensure(self) -> socket.socket:
        if self._control is not None and self._process is not None:
            if self._process.poll() is None:
                return self._control
            self._control.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "faxgate.convert.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self._control = ours
        return ours

    def run(
        self,
        args: list[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        time_limit_s: float,
        memory_limit_mb: int,
        ids: tuple[int, int] | None,
    ) -> LimitedRun:
        """Run `python -m faxgate.convert.tools ARGS` in a forked converter; like run_limited."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        stdout, stderr = cwd / ".converter-stdout", cwd / ".converter-stderr"
        request = {
            "args": args,
            "cwd": str(cwd),
            "env": dict(env),
            "time_limit_s": time_limit_s,
            "memory_limit_mb": memory_limit_mb,
            "ids": list(ids) if ids else None,
            "stdout": str(stdout),
            "stderr": str(stderr),
        }
        try:
            with self._lock:
                socket.send_fds(self._ensure(), [b"r"], [theirs.fileno()])
            theirs.close()
            ours.sendall(json.dumps(request).encode())
            ours.shutdown(socket.SHUT_WR)
            ours.settimeout(time_limit_s + 30)  # the handler itself ends the converter in time
            reply = json.loads(_read_all(ours) or b"{}")
        finally:
            ours.close()
            if theirs.fileno() >= 0:
                theirs.close()
        if "returncode" not in reply:
            raise OSError("the converter zygote did not answer")
        output = stdout.read_bytes() if stdout.exists() else b""
        errors = stderr.read_bytes() if stderr.exists() else b""
        for path in (stdout, stderr):
            path.unlink(missing_ok=True)
        return LimitedRun(
            int(reply["returncode"]),
            output,
            errors,
            bool(reply["timed_out"]),
            float(reply.get("cpu_seconds", 0.0)),
        )

    def close(self) -> None:
        """End the zygote (it also ends by itself when this process exits)."""
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
            if self._process is not None:
                self._process.wait(timeout=10)
                self._process = None


_shared: Zygote | None = None
_shared_lock = threading.Lock()


def shared_zygote() -> Zygote:
    """The process-wide zygote handle (ended when this process exits)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Zygote()
            atexit.register(_shared.close)
        return _shared


if __name__ == "__main__":
    main()
