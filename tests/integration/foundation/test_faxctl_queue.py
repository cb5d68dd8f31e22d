"""faxctl's queue commands against a real faxqueued (no lines needed: send, list, cancel)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def environment(spool: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
    env["FAXGATE_SPOOL"] = str(spool)
    return env


def faxctl(spool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faxgate", "faxctl", *args],
        env=environment(spool),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.fixture
def running_queue(tmp_path: Path) -> Iterator[Path]:
    spool = tmp_path / "spool"
    subprocess.run(
        [sys.executable, "-m", "faxgate", "init"],
        env=environment(spool),
        capture_output=True,
        check=True,
        timeout=60,
    )
    queue = subprocess.Popen(
        [sys.executable, "-m", "faxgate", "faxqueued"],
        env=environment(spool),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield spool
    queue.send_signal(signal.SIGTERM)
    try:
        queue.wait(timeout=15)
    except subprocess.TimeoutExpired:
        queue.kill()
        queue.wait()


def make_pdf(path: Path, pages: int) -> Path:
    postscript = " ".join(f"72 700 moveto (Page {n}) show showpage" for n in range(1, pages + 1))
    subprocess.run(
        [
            "gs",
            "-q",
            "-dSAFER",
            "-dNOPAUSE",
            "-dBATCH",
            "-sDEVICE=pdfwrite",
            f"-sOutputFile={path}",
            "-c",
            f"/Helvetica findfont 24 scalefont setfont {postscript}",
        ],
        check=True,
        timeout=60,
    )
    return path


def test_send_prints_the_job_ids_and_cancel_ends_them(running_queue: Path, tmp_path: Path) -> None:
    document = make_pdf(tmp_path / "letter.pdf", 2)
    sent = faxctl(
        running_queue,
        "--json",
        "send",
        "--to",
        "100",
        "--to",
        "0991234",
        "--priority",
        "120",
        "--tag",
        "Order 4711",
        str(document),
    )
    assert sent.returncode == 0, sent.stderr
    job_ids = json.loads(sent.stdout)["jobs"]
    assert len(job_ids) == 2  # one job per number, one conversion

    jobs = {j["id"]: j for j in json.loads(faxctl(running_queue, "--json", "jobs").stdout)}
    assert sorted(jobs) == sorted(job_ids)
    assert {j["number"] for j in jobs.values()} == {"100", "0991234"}
    assert {(j["priority"], j["tag"], j["pages_total"]) for j in jobs.values()} == {
        (120, "Order 4711", 2)
    }

    cancelled = faxctl(running_queue, "cancel", str(job_ids[0]))
    assert cancelled.returncode == 0, cancelled.stderr
    detail = json.loads(faxctl(running_queue, "--json", "job", str(job_ids[0])).stdout)
    assert detail["state"] == "cancelled"
    again = faxctl(running_queue, "cancel", str(job_ids[0]))
    assert again.returncode == 1
    assert again.stderr.startswith("faxctl: ")


def test_send_refuses_what_cannot_be_faxed(running_queue: Path, tmp_path: Path) -> None:
    document = make_pdf(tmp_path / "letter.pdf", 1)
    bad_number = faxctl(running_queue, "send", "--to", "call me", str(document))
    assert bad_number.returncode == 1
    assert "call me" in bad_number.stderr
    missing = faxctl(running_queue, "send", "--to", "100", str(tmp_path / "nope.pdf"))
    assert missing.returncode == 1
    assert "is not a file" in missing.stderr
