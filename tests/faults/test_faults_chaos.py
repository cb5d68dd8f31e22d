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
import email.policy
import http.client
import random
import smtplib
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from faults_clients import a_mail
from faults_ipp import print_job
from faults_running import PROGRAMS, RunningAppliance

from faxgate import users
from faxgate.faxadmin.security import TokenStore
from faxgate.ipp.constants import Status

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


def settled(appliance: RunningAppliance) -> bool:
    with appliance.ledger() as ledger:
        open_submissions = ledger.query_one(
            "SELECT count(*) FROM submissions WHERE state NOT IN ('done', 'rejected', 'bad', 'pending')"
        )[0]
        open_jobs = ledger.query_one(
            "SELECT count(*) FROM jobs WHERE state NOT IN ('done', 'failed', 'cancelled')"
        )[0]
        undelivered = ledger.query_one(
            "SELECT count(*) FROM received_faxes WHERE state != 'delivered'"
        )[0]
        unsent = ledger.query_one("SELECT count(*) FROM queue_notifications WHERE sent_at IS NULL")[
            0
        ]
    return open_submissions == 0 and open_jobs == 0 and undelivered == 0 and unsent == 0


def maildir_messages(appliance: RunningAppliance) -> list[email.message.EmailMessage]:
    folder = appliance.spool.outbox / "maildir"
    found = []
    for path in sorted(folder.glob("*/*")):
        if path.is_file():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found.append(message)  # type: ignore[arg-type]
    return found


@pytest.mark.slow
def test_fifty_faxes_survive_random_sigkills(tmp_path: Path) -> None:
    appliance = RunningAppliance(
        tmp_path, lines=8,
        settings={"queue_retry_busy": "2", "queue_retry_noanswer": "2", "queue_retry_other": "2",
                  "queue_retry_protocol": "2", "queue_tries": "5", "queue_dials": "20",
                  "faxprint_mode": "2", "convert_resolution": "normal"},
    )  # fmt: skip
    appliance.start()
    try:
        with appliance.ledger() as ledger:
            users.create(
                ledger, "api", "api-Pa55-word", "user", actor="test", email="api@example.com"
            )
            token = TokenStore(ledger).create(
                users.get(ledger, "api"), "chaos", "test", time.time()
            )
        accepted: dict[int, str] = {}
        killed: list[tuple[float, str]] = []
        stop = threading.Event()
        chaos = threading.Thread(target=killer, args=(appliance, stop, killed), daemon=True)
        chaos.start()
        submit_all(appliance, token, accepted)
        chaos.join(timeout=KILLING_S + 10)
        stop.set()
        deadline = time.monotonic() + DRAIN_S
        while not settled(appliance) and time.monotonic() < deadline:
            time.sleep(2)
        check_outcome(appliance, accepted, killed)
    finally:
        appliance.stop()
    with appliance.ledger() as ledger:
        assert ledger.query_one("PRAGMA integrity_check")[0] == "ok"
        assert ledger.query("PRAGMA foreign_key_check") == []


def check_outcome(
    appliance: RunningAppliance, accepted: dict[int, str], killed: list[tuple[float, str]]
) -> None:
    summary = f"accepted {len(accepted)}/{FAXES}, killed {Counter(n for _, n in killed)}"
    assert len(accepted) == FAXES, summary
    assert len(killed) >= 15, summary
    assert settled(appliance), summary + "\n" + appliance.log()[-5000:]
    with appliance.ledger() as ledger:
        jobs = [dict(r) for r in ledger.query("SELECT * FROM jobs")]
        done_calls = Counter(
            r["job_id"]
            for r in ledger.query(
                "SELECT job_id FROM calls WHERE direction = 'out' AND outcome = 'done'"
            )
        )
        notified_failures = {
            r["job_id"] for r in ledger.query(
                "SELECT job_id FROM queue_notifications WHERE kind = 'failed' AND sent_at IS NOT NULL")
        }  # fmt: skip
        submissions = [dict(r) for r in ledger.query("SELECT * FROM submissions")]
        received = [dict(r) for r in ledger.query("SELECT * FROM received_faxes")]
    by_number = Counter(job["number"] for job in jobs)
    for index in accepted:
        assert by_number[number(index)] >= 1, (
            f"fax {index} ({accepted[index]}) has no job; {summary}"
        )
    for job in jobs:
        if job["state"] == "done":
            assert done_calls[job["id"]] == 1, job
        else:
            assert job["state"] == "failed", job
            assert job["id"] in notified_failures, job
    assert all(s["state"] in ("done", "rejected", "bad") for s in submissions), submissions
    assert all(r["state"] == "delivered" for r in received)
    delivered_numbers = Counter(r["dnid"] for r in received)
    mails = maildir_messages(appliance)
    for dnid, count in delivered_numbers.items():
        mentioning = [m for m in mails if dnid in str(m["Subject"]) and "faxmaster" in str(m["To"])]
        assert len(mentioning) == count, (dnid, count, [str(m["Subject"]) for m in mentioning])
    leftovers = [p for folder in (appliance.spool.incoming, appliance.spool.tmp)
                 for p in folder.rglob("*") if p.is_file()]  # fmt: skip
    assert leftovers == [], leftovers
    print(summary, f"jobs {Counter(j['state'] for j in jobs)}, received {len(received)}")
