"""Bench: how many simultaneous loopback fax calls iaxmodemd carries in real time.

1. Capacity: for growing numbers of simultaneous calls (each a 1-page fine fax from one line to
   another of the same `python -m faxgate iaxmodemd`, over real UDP on 127.0.0.1), count the
   20 ms audio frames sent late (more than 10 ms after their due time) and whether every call
   completed. The largest count with under 0.1 % late frames and all calls done is the
   capacity. Goal: 60 calls (two E1 trunks).
2. Reference: the time of a 3-page fine call between two of our lines, compared with the same
   document between two real Debian iaxmodems (efax sending to efax; efax needs 1-D MH
   single-page files and has no ECM, so our call is also timed with ECM off at 1-D… as spandsp
   negotiates with efax) — reported side by side.

Writes the figures under "## Lines" in docs/performance.md (only that section).
Run: `.venv/bin/python bench/lines.py [--counts 10,20,40,60] [--skip-reference]`.
Ports 45800-45999 on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "iaxmodemd"))
import documents as test_documents  # noqa: E402

PERFORMANCE = REPO / "docs" / "performance.md"
BASEPORT = 45800
LATE_LIMIT = 0.001


def init_spool(root: Path) -> Path:
    env = {**os.environ, "FAXGATE_SPOOL": str(root)}
    subprocess.run([PYTHON, "-m", "faxgate", "init"], env=env, check=True, capture_output=True)
    return root


def start_daemon(spool: Path, settings: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FAXGATE_SPOOL": str(spool)}
    for key, value in settings.items():
        env["FAXGATE_SYS_FAX_CONFIGURE_" + key.upper().replace(".", "_")] = value
    with log.open("ab") as out:
        process = subprocess.Popen(
            [PYTHON, "-m", "faxgate", "iaxmodemd"], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            request(spool, {"op": "status"})
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(log.read_text())


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def connect(spool: Path, timeout: float) -> tuple[socket.socket, Any]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(spool / "iaxmodemd.sock"))
    return sock, sock.makefile("rwb")


def request(spool: Path, message: dict[str, Any]) -> dict[str, Any]:
    sock, stream = connect(spool, 10)
    with sock:
        stream.write(json.dumps(message).encode() + b"\n")
        stream.flush()
        answer: dict[str, Any] = json.loads(stream.readline())
        return answer


def make_jobs(spool: Path, count: int) -> list[int]:
    with contextlib.closing(sqlite3.connect(spool / "etc" / "faxgate.db", timeout=30)) as db:
        now = time.time()
        ids = []
        for _ in range(count):
            cursor = db.execute(
                "INSERT INTO jobs (number, state, send_at, kill_at, created_at, updated_at)"
                " VALUES ('100', 'active', ?, ?, ?, ?)",
                (now, now + 3600, now, now),
            )
            ids.append(int(cursor.lastrowid or 0))
        db.commit()
        return ids


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_calls(
    workdir: Path, calls: int, document: Path, ecm: bool = True, spread: float = 0.0
) -> dict[str, Any]:
    """`calls` simultaneous loopback calls; late-frame share, outcomes, wall and CPU time.

    The dials are spread evenly over `spread` seconds (0: all at once, the worst case).
    """
    spool = init_spool(workdir / f"spool-{calls}-{int(ecm)}")
    settings = {
        "lines.count": str(2 * calls),
        "lines.baseport": str(BASEPORT),
        "ecm": "true" if ecm else "false",
    }
    daemon = start_daemon(spool, settings, workdir / f"daemon-{calls}.log")
    try:
        sock, stream = connect(spool, 600)
        with sock:
            stream.write(b'{"op":"subscribe"}\n')
            stream.flush()
            stream.readline()
            cpu_before = cpu_seconds(daemon.pid)
            started = time.monotonic()
            for index, job in enumerate(make_jobs(spool, calls)):
                time.sleep(max(0.0, started + index * spread / calls - time.monotonic()))
                dial = {"op": "dial", "job": job, "number": "100", "document": str(document)}
                answer = request(spool, dial)
                if not answer.get("ok"):
                    raise RuntimeError(f"dial refused: {answer}")
            results: list[dict[str, Any]] = []
            while len(results) < 2 * calls:
                event = json.loads(stream.readline())
                if event.get("event") == "result":
                    results.append(event)
            wall = time.monotonic() - started
            cpu = cpu_seconds(daemon.pid) - cpu_before
    finally:
        stop(daemon)
    sent = sum(r["frames_sent"] for r in results)
    late = sum(r["frames_late"] for r in results)
    outgoing = [r for r in results if r["direction"] == "out"]
    return {
        "calls": calls,
        "done": sum(r["outcome"] == "done" for r in outgoing),
        "frames": sent,
        "late": late,
        "late_share": late / sent if sent else 0.0,
        "wall": wall,
        "cpu": cpu,
    }


def efax_reference(workdir: Path, pages: list[Path]) -> float:
    """Seconds from efax dialling to efax done, iaxmodem to iaxmodem (efax both ends)."""
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)
    ports = (BASEPORT + 150, BASEPORT + 151)
    modems = []
    for name, port, other in (("REFA", ports[0], ports[1]), ("REFB", ports[1], ports[0])):
        config = workdir / f"cfg{name}"
        config.write_text(
            f"device {workdir}/tty{name}\nowner uucp:uucp\nmode 660\nport {port}\nrefresh 0\n"
            f"server 127.0.0.1:{other}\npeername {name}\nsecret none\ncidname bench\n"
            "cidnumber 1\ncodec slinear\n"
        )
        log = (workdir / f"{name}.log").open("ab")
        modems.append(
            subprocess.Popen(
                ["iaxmodem", os.path.relpath(config, "/etc/iaxmodem")], stdout=log, stderr=log
            )
        )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in ("REFA", "REFB"):
            while not (workdir / f"tty{name}").is_symlink():
                time.sleep(0.05)
        receiver = subprocess.Popen(
            ["efax", "-d", f"{workdir}/ttyREFB", "-o1", "-iZ", "-jS0=1", "-w", "-r",
             str(workdir / "rx")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(receiver)
        time.sleep(8)
        started = time.monotonic()
        sender = subprocess.run(
            ["efax", "-d", f"{workdir}/ttyREFA", "-o1", "-iZ", "-t", "100", *map(str, pages)],
            capture_output=True,
            timeout=600,
        )
        took = time.monotonic() - started
        if sender.returncode != 0:
            raise RuntimeError(sender.stderr.decode(errors="replace")[-2000:])
        return took
    finally:
        for process in processes + modems:
            stop(process)


def faxgate_reference(workdir: Path, document: Path, ecm: bool) -> float:
    result = run_calls(workdir, 1, document, ecm=ecm)
    if result["done"] != 1:
        raise RuntimeError(f"reference call failed: {result}")
    return float(result["wall"])


def write_section(text: str) -> None:
    """Replace (or add) the '## Lines' section of docs/performance.md, nothing else."""
    current = PERFORMANCE.read_text() if PERFORMANCE.exists() else "# Performance\n"
    pattern = re.compile(r"^## Lines\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _m: text, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    PERFORMANCE.write_text(updated)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10,20,30,40,60")
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lines-") as temp:
        workdir = Path(temp)
        workdir.chmod(0o755)
        docs = test_documents.build(workdir / "docs")
        one_page = workdir / "docs" / "g4_page1.tif"
        rows = []
        for count in (int(c) for c in args.counts.split(",")):
            result = run_calls(workdir, count, one_page)
            rows.append(result)
            print(json.dumps(result), flush=True)
            if result["late_share"] >= LATE_LIMIT * 10 or result["done"] < count:
                break  # far past the limit: larger counts only take longer to fail
        capacity = max(
            (r["calls"] for r in rows if r["late_share"] < LATE_LIMIT and r["done"] == r["calls"]),
            default=0,
        )
        reference = None
        if not args.skip_reference:
            pages = [docs[f"mh_page{n}"] for n in (1, 2, 3)]
            ours_ecm = faxgate_reference(workdir, docs["fine3"], ecm=True)
            ours_no_ecm = faxgate_reference(workdir, docs["fine3"], ecm=False)
            theirs = efax_reference(workdir / "reference", pages)
            reference = (ours_ecm, ours_no_ecm, theirs)
            print(json.dumps({"faxgate_ecm": ours_ecm, "faxgate_no_ecm": ours_no_ecm,
                              "iaxmodem_efax": theirs}))  # fmt: skip
    write_section(render(rows, capacity, reference))
    return 0


def render(
    rows: list[dict[str, Any]], capacity: int, reference: tuple[float, float, float] | None
) -> str:
    lines = [
        "## Lines",
        "",
        f"Measured by `bench/lines.py` on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores "
        "shared with whatever else ran on the machine; one `iaxmodemd` process (one core: asyncio "
        "plus spandsp through ctypes). Each call is a 1-page fine fax between two of its lines "
        "over UDP on 127.0.0.1 (loopback trunk, ECM, V.17 14400); a frame is late when it left "
        "more than 10 ms after its due time.",
        "",
        "| simultaneous calls | completed | audio frames | late | late share | wall s | CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['calls']} | {r['done']} | {r['frames']} | {r['late']} | "
            f"{100 * r['late_share']:.3f} % | {r['wall']:.1f} | {r['cpu']:.1f} |"
        )
    lines += ["", f"Capacity (under 0.1 % late frames, every call done): **{capacity} calls** "
              "(goal: 60).", ""]  # fmt: skip
    if reference is not None:
        ours_ecm, ours_no_ecm, theirs = reference
        lines += [
            "3-page fine document (the test document of tests/fixtures/iaxmodemd):",
            "",
            "| path | seconds |",
            "|---|---:|",
            f"| faxgate line → faxgate line, ECM, dial to result | {ours_ecm:.1f} |",
            f"| faxgate line → faxgate line, no ECM, dial to result | {ours_no_ecm:.1f} |",
            f"| efax → iaxmodem → iaxmodem → efax (1-D MH, no ECM), dial to done | {theirs:.1f} |",
            "",
            f"faxgate without ECM vs the iaxmodem pair: {100 * (ours_no_ecm / theirs - 1):+.1f} % "
            "(goal: within 5 %). The two do not send identical line signals: efax sends 1-D MH "
            "while faxgate negotiates 2-D/T.6, so the comparison is of whole calls, not of "
            "the modems alone.",
            "",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
