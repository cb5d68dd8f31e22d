"""A full spool disk: clear temporary errors, nothing half-written, recovery when space returns.

The appliance's spool (ledger included) lives on a small tmpfs this test mounts itself and
shrinks to "what is used now + a little" with `mount -o remount,size=`. Every way work enters
— a mail, a print job, an upload through the REST API — is then answered with a temporary
error and leaves no file behind in incoming/ or tmp/ and no ledger row; conversion waits
instead of failing the job, and a fax received while the disk is full leaves no half-written
file and no ledger row that points nowhere. Growing the tmpfs again brings everything back.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import smtplib
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults_appliance import Appliance, free_port
from faults_clients import a_mail
from faults_ipp import print_job

from faxgate import users
from faxgate.faxadmin.security import TokenStore
from faxgate.ipp.constants import Status

PDF = (
    Path(__file__).resolve().parents[1] / "fixtures" / "documents" / "a4-3pages.pdf"
).read_bytes()
BIG = PDF + b"%" + os.urandom(600_000).hex().encode()  # ~1.2 MB, still a readable PDF

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


class Disk:
    """A tmpfs whose size the test controls."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(path)], check=True)

    def used_kib(self) -> int:
        usage = shutil.disk_usage(self.path)
        return (usage.total - usage.free) // 1024

    def fill(self, leave_kib: int = 48) -> None:
        """Shrink the disk to what is used now plus `leave_kib`."""
        size = self.used_kib() + leave_kib
        subprocess.run(["mount", "-o", f"remount,size={size}k", str(self.path)], check=True)

    def grow(self) -> None:
        subprocess.run(["mount", "-o", "remount,size=64m", str(self.path)], check=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def disk_appliance(tmp_path: Path) -> Iterator[tuple[Disk, Appliance]]:
    disk = Disk(tmp_path / "disk")
    try:
        appliance = Appliance(disk.path, log_dir=tmp_path)
        try:
            yield disk, appliance
        finally:
            appliance.close()
    finally:
        disk.unmount()


def leftovers(appliance: Appliance) -> list[str]:
    spool = appliance.spool
    return [str(p.relative_to(spool.root)) for folder in (spool.incoming, spool.tmp)
            for p in folder.rglob("*") if p.is_file()]  # fmt: skip


def api_upload(port: int, token: str, document: bytes) -> tuple[int, bytes]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="numbers"\r\n\r\n0991234\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + document
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/api/v1/jobs", body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": "Bearer " + token, "Accept": "application/json"})  # fmt: skip
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def send_mail(port: int, document: bytes | None) -> int:
    """Send a mail (with `document` as a PDF attachment); the SMTP code of the answer."""
    message = a_mail()
    if document is not None:
        message.add_attachment(document, maintype="application", subtype="pdf", filename="a.pdf")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            client.send_message(message)
    except smtplib.SMTPResponseException as refused:
        return refused.smtp_code
    return 250


def submit_through(kind: str, appliance: Appliance, port: int, token: str) -> str:
    """Send BIG through one gateway: "accepted", "temporary" (try later) or what else happened."""
    if kind == "mail":
        code = send_mail(port, BIG)
        return "accepted" if code == 250 else "temporary" if 400 <= code < 500 else f"SMTP {code}"
    if kind == "print":
        status, response = print_job(port, BIG)
        if response is None:
            return f"HTTP {status}"
        if response.code == Status.SUCCESSFUL_OK:
            return "accepted"
        temporary = (Status.SERVER_ERROR_BUSY, Status.SERVER_ERROR_TEMPORARY_ERROR)
        return "temporary" if response.code in temporary else f"IPP 0x{response.code:04x}"
    status, body = api_upload(port, token, BIG)
    if status in (200, 201, 202):
        return "accepted"
    return "temporary" if status in (503, 507) else f"HTTP {status} {body[:120]!r}"


PROGRAM_OF = {"mail": "smtpfaxd", "print": "ippfaxd", "upload": "faxadmin"}


@pytest.mark.parametrize(
    "kind",
    ["mail", "print", "upload"],
)  # fmt: skip
def test_a_gateway_answers_a_full_disk_with_a_temporary_error_and_recovers(
    disk_appliance: tuple[Disk, Appliance], kind: str
) -> None:
    disk, appliance = disk_appliance
    with appliance.ledger() as ledger:
        token = TokenStore(ledger).create(users.get(ledger, "admin"), "t", "test", time.time())
    extra = {"smtp_minfree": "0"} if kind == "mail" else {}
    program = appliance.start(PROGRAM_OF[kind], **extra)  # type: ignore[arg-type]
    disk.fill()
    during = submit_through(kind, appliance, program.port, token)
    left = leftovers(appliance)
    rows_during = appliance.count("SELECT count(*) FROM submissions")
    disk.grow()
    after = submit_through(kind, appliance, program.port, token)
    assert program.alive(), program.log()[-2000:]
    assert left == []
    assert rows_during == 0
    assert after == "accepted", program.log()[-3000:]
    with appliance.ledger() as ledger:
        rows = ledger.query("SELECT kind, path FROM submissions ORDER BY id")
    assert [row["kind"] for row in rows] == [kind]
    stored = appliance.spool.incoming / str(rows[0]["path"])
    assert stored.stat().st_size >= len(BIG)  # a whole file, not a truncated one
    assert during == "temporary", program.log()[-3000:]


def test_conversion_waits_for_space_instead_of_failing_the_job(
    disk_appliance: tuple[Disk, Appliance],
) -> None:
    disk, appliance = disk_appliance
    smtp = appliance.start("smtpfaxd", smtp_minfree="0")
    assert send_mail(smtp.port, BIG) == 250
    disk.fill(leave_kib=16)
    queue = appliance.start("faxqueued")
    time.sleep(8)  # several intake rounds against a full disk
    with appliance.ledger() as ledger:
        states = [row["state"] for row in ledger.query("SELECT state FROM submissions")]
    failed_jobs = appliance.count("SELECT count(*) FROM jobs WHERE state = 'failed'")
    assert queue.alive(), queue.log()[-3000:]
    assert "failed" not in states, states
    assert "rejected" not in states, states
    assert failed_jobs == 0
    disk.grow()
    deadline = time.monotonic() + 30
    while True:
        with appliance.ledger() as ledger:
            jobs = [dict(r) for r in ledger.query("SELECT id, state FROM jobs")]
        if jobs:
            break
        assert time.monotonic() < deadline, queue.log()[-3000:]
        time.sleep(0.5)
    assert jobs[0]["state"] != "failed"
    assert queue.alive()


@pytest.mark.slow
def test_a_fax_received_onto_a_full_disk_leaves_nothing_half_written(
    disk_appliance: tuple[Disk, Appliance],
) -> None:
    disk, appliance = disk_appliance
    baseport = free_port(udp_block=2)
    lines = appliance.start("iaxmodemd", lines_count="2", lines_baseport=str(baseport))
    queue = appliance.start("faxqueued")
    smtp = appliance.start("smtpfaxd", smtp_minfree="0")
    assert send_mail(smtp.port, None) == 250
    deadline = time.monotonic() + 90
    while "answered" not in lines.log():
        assert time.monotonic() < deadline, lines.log() + queue.log()
        time.sleep(0.2)
    disk.fill(leave_kib=4)  # the call is up: the received pages will have no room
    deadline = time.monotonic() + 120
    while "result:" not in lines.log() or lines.log().count("result:") < 2:
        assert time.monotonic() < deadline, lines.log()
        time.sleep(0.5)
    time.sleep(3)
    assert lines.alive(), lines.log()[-3000:]
    assert queue.alive(), queue.log()[-3000:]
    with appliance.ledger() as ledger:
        received = [dict(r) for r in ledger.query("SELECT * FROM received_faxes")]
    for row in received:  # any row must point at a whole file
        path = Path(str(row.get("path") or row.get("tiff_path") or ""))
        path = path if path.is_absolute() else appliance.spool.root / path
        assert path.is_file(), row
    partial = [
        p.name
        for p in appliance.spool.recvq.iterdir()
        if p.name.startswith(".") or p.suffix == ".part"
    ]
    assert partial == []
    disk.grow()
    # with room again, the next fax is received and delivered
    assert send_mail(smtp.port, None) == 250
    deadline = time.monotonic() + 180
    while True:
        with appliance.ledger() as ledger:
            delivered = appliance.count(
                "SELECT count(*) FROM received_faxes WHERE state = 'delivered'"
            )
        if delivered >= 1:
            break
        assert time.monotonic() < deadline, lines.log()[-3000:] + queue.log()[-3000:]
        time.sleep(1)
    assert json.dumps(leftovers(appliance)) == "[]"
