"""Chaos: 50 faxes through SMTP, IPP and the REST API while programs are SIGKILLed at random.

The whole appliance runs under a real supervisord (`python -m faxgate run`) on a temp spool,
with the loopback trunk: every fax sent is also received by another line, routed and mailed
into the outbox's Maildir. Clients keep trying until a gateway accepts (a gateway may be down
for a moment: that is what the sending mail server or printer would do). Meanwhile a random
program gets SIGKILL every few seconds and supervisord restarts it.

At the end: every accepted submission ended, each of its jobs done (one successful call, not
two) or failed with a notification sent; every received fax delivered once; nothing left in
incoming/ or tmp/; the ledger passes SQLite's integrity and foreign-key checks.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import http.client
import random
import smtplib
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faults_clients import a_mail
from faults_ipp import print_job
from faults_running import PROGRAMS, RunningAppliance

from faxgate import users
from faxgate.faxadmin.security import TokenStore
from faxgate.ipp.constants import Status
from faxgate.spool.ledger import Ledger

FAXES = 50
KILL_EVERY_S = (3.0, 6.0)
KILLING_S = 150.0
DRAIN_S = 300.0


def number(index: int) -> str:
    return f"07700{index:03d}"


def postscript(index: int, fields: bool) -> bytes:
    lines = [f"(chaos fax {index}) show"]
    if fields:
        lines = [f"(@@+FAX:{number(index)}@@) show", "0 -20 rmoveto",
                 f"(@@+NOTIFY:print{index}@example.com@@) show", *lines]  # fmt: skip
    body = "\n".join(f"72 {720 - 30 * i} moveto {line}" for i, line in enumerate(lines))
    return f"%!PS\n/Helvetica findfont 14 scalefont setfont\n{body}\nshowpage\n".encode()


def send_mail(appliance: RunningAppliance, index: int) -> bool:
    message = a_mail(f"chaos{index}@{number(index)}.fax", subject=f"chaos-{index}")
    message.replace_header("From", f"mail{index}@example.com")
    try:
        with smtplib.SMTP("127.0.0.1", appliance.smtp_port, timeout=30) as client:
            client.send_message(message, from_addr=f"mail{index}@example.com")
        return True
    except (smtplib.SMTPException, OSError):
        return False


def send_print(appliance: RunningAppliance, index: int) -> bool:
    try:
        _, response = print_job(appliance.ipp_port, postscript(index, True), user=f"print{index}",
                                fmt="application/postscript")  # fmt: skip
    except (OSError, http.client.HTTPException, ValueError):
        return False
    return response is not None and response.code == Status.SUCCESSFUL_OK


def send_upload(appliance: RunningAppliance, index: int, token: str) -> bool:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="numbers"\r\n\r\n{number(index)}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\nchaos-{index}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="f{index}.ps"\r\n'
            "Content-Type: application/postscript\r\n\r\n"
        ).encode()
        + postscript(index, False)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    try:
        connection = http.client.HTTPConnection("127.0.0.1", appliance.admin_port, timeout=30)
        connection.request("POST", "/api/v1/jobs", body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": "Bearer " + token, "Accept": "application/json"})  # fmt: skip
        status = connection.getresponse().status
        connection.close()
    except (OSError, http.client.HTTPException):
        return False
    return status in (200, 201, 202)


def submit_all(appliance: RunningAppliance, token: str, accepted: dict[int, str]) -> None:
    """Each fax through its gateway, retried for up to a minute until it is accepted."""
    for index in range(FAXES):
        channel = ("mail", "print", "upload")[index % 3]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if channel == "mail":
                ok = send_mail(appliance, index)
            elif channel == "print":
                ok = send_print(appliance, index)
            else:
                ok = send_upload(appliance, index, token)
            if ok:
                accepted[index] = channel
                break
            time.sleep(1)


def killer(
    appliance: RunningAppliance, stop: threading.Event, killed: list[tuple[float, str]]
) -> None:
    rng = random.Random(5)
    start = time.monotonic()
    while not stop.wait(rng.uniform(*KILL_EVERY_S)) and time.monotonic() - start < KILLING_S:
        name = rng.choice(PROGRAMS)
        if appliance.kill(name):
            killed.append((time.monotonic() - start, name))


def scalar(ledger: Ledger, sql: str) -> int:
    row = ledger.query_one(sql)
    return int(row[0]) if row else 0


def settled(appliance: RunningAppliance) -> bool:
    with appliance.ledger() as ledger:
        open_submissions = scalar(
            ledger,
            "SELECT count(*) FROM submissions WHERE state NOT IN ('done', 'rejected', 'bad', 'pending')",
        )
        open_jobs = scalar(
            ledger, "SELECT count(*) FROM jobs WHERE state NOT IN ('done', 'failed', 'cancelled')"
        )
        undelivered = scalar(
            ledger, "SELECT count(*) FROM received_faxes WHERE state != 'delivered'"
        )
        unsent = scalar(ledger, "SELECT count(*) FROM queue_notifications WHERE sent_at IS NULL")
    return open_submissions == 0 and open_jobs == 0 and undelivered == 0 and unsent == 0


def maildir_messages(appliance: RunningAppliance) -> list[email.message.EmailMessage]:
    folder = appliance.spool.outbox / "maildir"
    found = []
    for path in sorted(folder.glob("*/*")):
        if path.is_file():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found.append(message)
    return found


@dataclass
class ChaosResult:
    """What the run left behind, read after supervisord stopped every program."""

    accepted: dict[int, str]
    killed: list[tuple[float, str]]
    settled: bool
    jobs: list[dict[str, Any]]
    done_calls: Counter[int]
    notified_failures: set[int]
    submissions: list[dict[str, Any]]
    received: list[dict[str, Any]]
    mails: list[email.message.EmailMessage]
    incoming: list[Path]
    tmp: list[Path]
    integrity: str
    foreign_keys: list[object]
    log: str

    @property
    def summary(self) -> str:
        return (
            f"accepted {len(self.accepted)}/{FAXES}, killed {Counter(n for _, n in self.killed)}, "
            f"jobs {Counter(j['state'] for j in self.jobs)}, received {len(self.received)}"
        )


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> ChaosResult:
    appliance = RunningAppliance(
        tmp_path_factory.mktemp("chaos"), lines=8,
        settings={"queue_retry_busy": "2", "queue_retry_noanswer": "2", "queue_retry_other": "2",
                  "queue_retry_protocol": "2", "queue_tries": "5", "queue_dials": "20",
                  "faxprint_mode": "2", "convert_resolution": "normal"},
    )  # fmt: skip
    accepted: dict[int, str] = {}
    killed: list[tuple[float, str]] = []
    appliance.start()
    try:
        with appliance.ledger() as ledger:
            users.create(
                ledger, "api", "api-Pa55-word", "user", actor="test", email="api@example.com"
            )
            token = TokenStore(ledger).create(
                users.get(ledger, "api"), "chaos", "test", time.time()
            )
        stop = threading.Event()
        chaos_thread = threading.Thread(target=killer, args=(appliance, stop, killed), daemon=True)
        chaos_thread.start()
        submit_all(appliance, token, accepted)
        chaos_thread.join(timeout=KILLING_S + 10)
        stop.set()
        deadline = time.monotonic() + DRAIN_S
        while not settled(appliance) and time.monotonic() < deadline:
            time.sleep(2)
        is_settled = settled(appliance)
    finally:
        appliance.stop()
    with appliance.ledger() as ledger:
        return ChaosResult(
            accepted=accepted,
            killed=killed,
            settled=is_settled,
            jobs=[dict(r) for r in ledger.query("SELECT * FROM jobs")],
            done_calls=Counter(
                r["job_id"]
                for r in ledger.query(
                    "SELECT job_id FROM calls WHERE direction = 'out' AND outcome = 'done'"
                )
            ),
            notified_failures={
                r["job_id"]
                for r in ledger.query(
                    "SELECT job_id FROM queue_notifications WHERE kind = 'failed' AND sent_at IS NOT NULL"
                )
            },
            submissions=[dict(r) for r in ledger.query("SELECT * FROM submissions")],
            received=[dict(r) for r in ledger.query("SELECT * FROM received_faxes")],
            mails=maildir_messages(appliance),
            incoming=[p for p in appliance.spool.incoming.rglob("*") if p.is_file()],
            tmp=[p for p in appliance.spool.tmp.rglob("*") if p.is_file()],
            integrity=str(ledger.query("PRAGMA integrity_check")[0][0]),
            foreign_keys=list(ledger.query("PRAGMA foreign_key_check")),
            log=appliance.log(),
        )


@pytest.mark.slow
def test_every_fax_was_accepted_while_programs_were_killed(chaos: ChaosResult) -> None:
    assert len(chaos.accepted) == FAXES, chaos.summary
    assert len(chaos.killed) >= 15, chaos.summary
    assert set(name for _, name in chaos.killed) == set(PROGRAMS), chaos.summary
    assert chaos.settled, chaos.summary + "\n" + chaos.log[-5000:]


@pytest.mark.slow
def test_every_submission_ended_each_job_done_once_or_failed_with_a_notification(
    chaos: ChaosResult,
) -> None:
    by_number = Counter(job["number"] for job in chaos.jobs)
    for index, channel in chaos.accepted.items():
        assert by_number[number(index)] >= 1, f"fax {index} ({channel}) has no job; {chaos.summary}"
    for job in chaos.jobs:
        if job["state"] == "done":
            assert chaos.done_calls[job["id"]] == 1, job  # sent once, not twice
        else:
            assert job["state"] == "failed", job
            assert job["id"] in chaos.notified_failures, job
    assert all(s["state"] in ("done", "rejected", "bad") for s in chaos.submissions)


@pytest.mark.slow
def test_every_received_fax_was_delivered_once(chaos: ChaosResult) -> None:
    assert chaos.received, chaos.summary
    assert all(r["state"] == "delivered" for r in chaos.received)
    for dnid, count in Counter(r["dnid"] for r in chaos.received).items():
        mailed = [
            m for m in chaos.mails if dnid in str(m["Subject"]) and "faxmaster" in str(m["To"])
        ]
        assert len(mailed) == count, (dnid, count, [str(m["Subject"]) for m in mailed])


@pytest.mark.slow
def test_the_ledger_is_intact_and_incoming_is_empty(chaos: ChaosResult) -> None:
    assert chaos.integrity == "ok"
    assert chaos.foreign_keys == []
    assert chaos.incoming == []
    assert [p for p in chaos.tmp if not p.name.startswith("receiving-line")] == []


@pytest.mark.slow
def test_no_partial_reception_is_left_in_tmp(chaos: ChaosResult) -> None:
    assert chaos.tmp == []
