"""The appliance image from inside (testinfra, docker backend) and from the host.

The image runs with a fresh volume and its ports published on 127.0.0.1 only. Run by
`make test-image` (which builds the image first); `make test` leaves this folder out.
"""

from __future__ import annotations

import http.client
import json
import os
import smtplib
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
import testinfra

IMAGE = os.environ.get("FAXGATE_IMAGE", "faxgate:latest")
ADMIN_PASSWORD = "image-test-password"


def docker(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=True
    )
    return done.stdout.strip()


@dataclass
class Appliance:
    name: str
    volume: str
    ports: dict[str, int]  # "25/tcp" → host port on 127.0.0.1
    started: float

    @property
    def host(self) -> testinfra.host.Host:
        return testinfra.get_host(f"docker://{self.name}")

    def health(self) -> str:
        return docker("inspect", "-f", "{{.State.Health.Status}}", self.name)

    def wait_healthy(self, timeout: float = 90) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health() == "healthy":
                return time.monotonic()
            time.sleep(0.5)
        logs = subprocess.run(
            ["docker", "logs", "--tail", "80", self.name],
            capture_output=True,
            text=True,
            check=False,
        )
        raise AssertionError(f"not healthy: {self.health()}\n{logs.stdout}{logs.stderr}")


def published_ports(name: str) -> dict[str, int]:
    mapping = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Ports}}", name))
    return {port: int(binds[0]["HostPort"]) for port, binds in mapping.items() if binds}


@pytest.fixture(scope="session")
def appliance() -> Iterator[Appliance]:
    try:
        docker("image", "inspect", IMAGE)
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip(f"image {IMAGE} is not built (make test-image builds it)")
    suffix = uuid.uuid4().hex[:8]
    name, volume = f"faxgate-test-{suffix}", f"faxgate-test-{suffix}"
    docker("volume", "create", volume)
    started = time.monotonic()
    docker(
        "run",
        "-d",
        "--name",
        name,
        "-v",
        f"{volume}:/var/spool/hylafax",
        "-e",
        f"FAXGATE_ADMIN_PASSWORD={ADMIN_PASSWORD}",
        # published on loopback only, on ports the engine picks
        "-p",
        "127.0.0.1::25",
        "-p",
        "127.0.0.1::631",
        "-p",
        "127.0.0.1::80",
        "--health-interval",
        "1s",
        "--health-start-period",
        "30s",
        IMAGE,
    )
    running = Appliance(name, volume, published_ports(name), started)
    try:
        yield running
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True, check=False)


PROGRAMS = ("iaxmodemd", "faxqueued", "smtpfaxd", "ippfaxd", "faxadmin")


def supervisor_states(appliance: Appliance) -> dict[str, str]:
    out = appliance.host.check_output(
        "FAXGATE_SPOOL=/var/spool/hylafax /opt/faxgate/bin/python3 -m faxgate faxctl --json status"
    )
    return {p["name"]: p["state"] for p in json.loads(out)["programs"]}


def test_becomes_healthy(appliance: Appliance) -> None:
    appliance.wait_healthy()
    assert appliance.host.run("/opt/faxgate/bin/python3 -m faxgate.healthcheck").rc == 0


def test_init_and_supervisord_are_the_process_tree(appliance: Appliance) -> None:
    appliance.wait_healthy()
    host = appliance.host
    assert host.check_output("cat /proc/1/comm") == "tini"
    supervisord = host.process.filter(comm="supervisord")
    assert len(supervisord) == 1
    assert supervisord[0].user == "root"
    assert supervisord[0].ppid == 1


def program_pids(appliance: Appliance) -> dict[str, int]:
    out = appliance.host.check_output(
        "FAXGATE_SPOOL=/var/spool/hylafax /opt/faxgate/bin/python3 -m faxgate faxctl --json status"
    )
    return {p["name"]: int(p["pid"]) for p in json.loads(out)["programs"]}


def test_every_program_runs_as_fax(appliance: Appliance) -> None:
    appliance.wait_healthy()
    assert supervisor_states(appliance) == dict.fromkeys(PROGRAMS, "RUNNING")
    host = appliance.host
    for program, pid in program_pids(appliance).items():
        # the program and its children (gunicorn's workers, converters)
        owners = host.check_output(f"ps -o user= -p {pid} --ppid {pid} | sort -u").split()
        assert owners == ["fax"], (program, owners)


def test_listeners(appliance: Appliance) -> None:
    appliance.wait_healthy()
    host = appliance.host
    for port in (25, 631, 80):
        assert host.socket(f"tcp://0.0.0.0:{port}").is_listening, port
    for line in range(4):
        assert host.socket(f"udp://0.0.0.0:{4570 + line}").is_listening, 4570 + line


def test_spool_layout_modes_and_no_world_writable_files(appliance: Appliance) -> None:
    appliance.wait_healthy()
    host = appliance.host
    for name in (
        "sendq",
        "doneq",
        "docq",
        "recvq",
        "log",
        "status",
        "etc",
        "tmp",
        "mimetype",
        "incoming",
        "outbox",
        "bad",
    ):
        directory = host.file(f"/var/spool/hylafax/{name}")
        assert directory.is_directory, name
        assert directory.user == "fax", name
    assert host.file("/var/spool/hylafax/etc/faxgate.db").mode & 0o007 == 0
    world_writable = host.check_output(
        "find / -xdev -perm -0002 -not -type l -not -path '/proc/*' -not -path '/sys/*' "
        "-not -path '/dev/*' -not \\( -type d -perm -1000 \\) 2>/dev/null || true"
    )
    assert world_writable == ""


def test_admin_login_page_over_published_port(appliance: Appliance) -> None:
    appliance.wait_healthy()
    conn = http.client.HTTPConnection("127.0.0.1", appliance.ports["80/tcp"], timeout=10)
    conn.request("GET", "/login")
    response = conn.getresponse()
    assert response.status == 200
    assert b"password" in response.read().lower()


def test_ipp_printer_attributes_over_published_port(appliance: Appliance) -> None:
    appliance.wait_healthy()
    done = subprocess.run(
        [
            "ipptool",
            "-tv",
            f"ipp://127.0.0.1:{appliance.ports['631/tcp']}/printers/sendfax",
            "get-printer-attributes.test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "printer-name" in done.stdout


def test_killed_program_is_restarted(appliance: Appliance) -> None:
    appliance.wait_healthy()
    before = program_pids(appliance)["faxqueued"]
    appliance.host.run(f"kill -9 {before}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = program_pids(appliance)["faxqueued"]
        if after not in (0, before) and supervisor_states(appliance)["faxqueued"] == "RUNNING":
            return
        time.sleep(0.5)
    pytest.fail("faxqueued was not restarted after kill -9")


def test_stop_and_start_keep_the_spool(appliance: Appliance) -> None:
    appliance.wait_healthy()
    host = appliance.host
    host.check_output(
        "FAXGATE_SPOOL=/var/spool/hylafax /opt/faxgate/bin/python3 -m faxgate faxctl "
        "devices add 100 --email test@example.com"
    )
    docker("stop", appliance.name, timeout=60)
    # 0, not 137: SIGTERM stopped everything before Docker's grace time ran out and it killed
    assert docker("inspect", "-f", "{{.State.ExitCode}}", appliance.name) == "0"
    docker("start", appliance.name)
    appliance.ports.update(published_ports(appliance.name))
    appliance.wait_healthy()
    listed = host.check_output(
        "FAXGATE_SPOOL=/var/spool/hylafax /opt/faxgate/bin/python3 -m faxgate faxctl --json devices list"
    )
    assert '"100"' in listed


def make_pdf(path: Path, pages: int) -> Path:
    script = " ".join(
        f"72 700 moveto (Image test page {n}) show showpage" for n in range(1, pages + 1)
    )
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
            f"/Helvetica findfont 20 scalefont setfont {script}",
        ],
        check=True,
        timeout=60,
    )
    return path


def maildir_messages(appliance: Appliance) -> list[str]:
    listing = appliance.host.run("ls /var/spool/hylafax/outbox/maildir/new 2>/dev/null")
    return listing.stdout.split()


def test_mail_to_extension_100_is_faxed_and_delivered(appliance: Appliance, tmp_path: Path) -> None:
    appliance.wait_healthy()
    host = appliance.host
    host.run(
        "FAXGATE_SPOOL=/var/spool/hylafax /opt/faxgate/bin/python3 -m faxgate faxctl "
        "devices add 100 --email test@example.com"
    )
    before = set(maildir_messages(appliance))
    message = EmailMessage()
    message["From"] = "sender@example.com"
    message["To"] = "test@100.fax"
    message["Subject"] = "Image test"
    message.set_content("Faxed inside the container.")
    message.add_attachment(
        make_pdf(tmp_path / "doc.pdf", 1).read_bytes(),
        maintype="application",
        subtype="pdf",
        filename="doc.pdf",
    )
    with smtplib.SMTP("127.0.0.1", appliance.ports["25/tcp"], timeout=30) as smtp:
        refused = smtp.send_message(message)
    assert refused == {}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        new = set(maildir_messages(appliance)) - before
        bodies = [
            host.file(f"/var/spool/hylafax/outbox/maildir/new/{name}").content_string
            for name in new
        ]
        delivered = [b for b in bodies if "To: test@example.com" in b and "application/pdf" in b]
        if delivered:
            assert "Subject: Fax 100 from" in delivered[0]
            assert "2 page(s)" in delivered[0]  # the mail's first page + the one-page PDF
            return
        time.sleep(2)
    jobs = host.run(
        "FAXGATE_SPOOL=/var/spool/hylafax /opt/faxgate/bin/python3 -m faxgate faxctl jobs"
    )
    pytest.fail(f"no received fax was mailed to test@example.com:\n{jobs.stdout}")


def test_print_job_through_published_631(appliance: Appliance, tmp_path: Path) -> None:
    appliance.wait_healthy()
    document = make_pdf(tmp_path / "print.pdf", 1)
    done = subprocess.run(
        [
            "ipptool",
            "-tv",
            "-f",
            str(document),
            f"ipp://127.0.0.1:{appliance.ports['631/tcp']}/printers/sendfax",
            "print-job.test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    deadline = time.monotonic() + 60
    listing = ""
    while time.monotonic() < deadline:
        listing = appliance.host.run(
            "FAXGATE_SPOOL=/var/spool/hylafax /opt/faxgate/bin/python3 -m faxgate faxctl --json "
            "pending list"
        ).stdout
        if json.loads(listing or "[]"):
            return  # mode 1 (default): the print job waits for its user to give the number
        time.sleep(1)
    pytest.fail(f"the print job did not reach the held print jobs: {listing}")
