"""`python -m faxgate run` (what `make run` starts): supervisord with every program RUNNING,
faxctl status reporting them, Ctrl-C ending everything within 10 seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxgate.appliance import rootfs_dir

CONFIGURED = sorted(p.stem for p in (rootfs_dir() / "etc/faxgate/supervisor.d").glob("*.conf"))

# Ports of our own so the test never meets a `make run` or another test on the defaults.
PORTS = {
    "FAXGATE_SYS_FAX_CONFIGURE_SMTP_PORT": "47025",
    "FAXGATE_SYS_FAX_CONFIGURE_IPP_PORT": "47631",
    "FAXGATE_SYS_FAX_CONFIGURE_ADMIN_PORT": "47080",
    "FAXGATE_SYS_FAX_CONFIGURE_LINES_BASEPORT": "47570",
}


def status(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "faxgate", "faxctl", "--json", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
    env.update(PORTS)
    env["FAXGATE_SPOOL"] = str(tmp_path / "spool")
    env["FAXGATE_ADMIN_PASSWORD"] = "test-admin-password"
    proc = subprocess.Popen(
        [sys.executable, "-m", "faxgate", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc, env
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_all_running(env: dict[str, str], timeout: float = 60.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    programs: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        found = status(env)
        programs = list(found.get("programs", []))  # type: ignore[call-overload]
        states = {str(p["name"]): p["state"] for p in programs}
        # RUNNING for a few seconds: supervisord calls a program RUNNING after startsecs=2
        if sorted(states) == CONFIGURED and set(states.values()) == {"RUNNING"}:
            return programs
        time.sleep(0.5)
    raise AssertionError(f"not every program came up: {programs}")


def test_every_program_runs_and_ctrl_c_stops_all_within_10s(
    appliance: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, env = appliance
    assert CONFIGURED, "supervisor.d names no program"
    programs = wait_all_running(env)
    pids = [int(str(p["pid"])) for p in programs]
    assert all(pid > 0 for pid in pids)
    time.sleep(3)  # still running a moment later: none of them is crash-looping
    assert {p["state"] for p in status(env)["programs"]} == {"RUNNING"}  # type: ignore[union-attr]

    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=15)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"stopping took {elapsed:.1f}s"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not (Path(env["FAXGATE_SPOOL"]) / "supervisor.sock").exists()


def test_bad_setting_stops_start_with_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
    env["FAXGATE_SPOOL"] = str(tmp_path / "spool")
    env["FAXGATE_SYS_FAX_CONFIGURE_LINES_COUNT"] = "many"
    done = subprocess.run(
        [sys.executable, "-m", "faxgate", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1
    assert "FAXGATE_SYS_FAX_CONFIGURE_LINES_COUNT" in errors[0]
    assert "must be a whole number" in errors[0]
