"""The image advertises its printer through the host's avahi: run with the host's D-Bus system
socket mounted in, the container's ippfaxd publishes `_ipp._tcp` via the host's avahi-daemon.

"The host" is a private one: a network namespace with its own dbus-daemon and a real
avahi-daemon, linked to a second namespace that browses (tests/integration/ippfaxd/mdns_lab.py),
so no multicast reaches a real network. The container itself runs with `--network none`: the
record goes out through avahi, and only the D-Bus socket connects the two.

The system bus refuses a client whose uid it cannot look up, so the host needs a user with the
container's `fax` uid (999); docs/deploy.md says so, and here the lab's dbus-daemon is given one.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "ippfaxd"))

from mdns_lab import MdnsLab, lab_for_test, parse_browse
from test_container import IMAGE, docker

NAME = "Fax in a container"
# what docs/deploy.md asks the host to have: a user with the container's fax uid
HOST_USER = "faxgate:x:999:21:faxgate container:/nonexistent:/usr/sbin/nologin"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[MdnsLab]:
    try:
        docker("image", "inspect", IMAGE)
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip(f"image {IMAGE} is not built (make test-image builds it)")
    with lab_for_test(tmp_path / "lab", bus_users=[HOST_USER]) as started:
        yield started


def browse(lab: MdnsLab) -> str:
    return lab.browser.run(
        ["avahi-browse", "--parsable", "--resolve", "--terminate", "--no-db-lookup", "_ipp._tcp"]
    ).stdout


def test_the_container_publishes_through_the_mounted_system_bus(lab: MdnsLab) -> None:
    name = f"faxgate-dnssd-{uuid.uuid4().hex[:8]}"
    docker(
        "run", "-d", "--name", name, "--network", "none",
        "-v", f"{lab.publisher.bus_socket}:/run/dbus/system_bus_socket",
        "-e", f"FAXGATE_SYS_FAX_CONFIGURE_IPP_PRINTERNAME={NAME}",
        IMAGE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            found = [e for e in parse_browse(browse(lab)) if e.event == "=" and e.name == NAME]
            if found:
                break
            logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
            assert time.monotonic() < deadline, logs.stdout + logs.stderr
            time.sleep(1)
        record = found[-1]
        assert record.port == 631  # the printer's port inside the container
        assert record.address == lab.publisher.address  # announced by the host's avahi
        assert record.txt_map["rp"] == "printers/sendfax"
        assert record.txt_map["ty"] == NAME
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    deadline = time.monotonic() + 20
    while [e for e in parse_browse(browse(lab)) if e.name == NAME]:
        assert time.monotonic() < deadline, "still advertised after the container was removed"
        time.sleep(1)


def test_without_a_bus_the_container_says_advertising_is_off() -> None:
    try:
        docker("image", "inspect", IMAGE)
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip(f"image {IMAGE} is not built (make test-image builds it)")
    name = f"faxgate-nobus-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, "--network", "none", IMAGE)
    try:
        deadline = time.monotonic() + 60
        while True:
            logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
            text = logs.stdout + logs.stderr
            if "DNS-SD advertising is off: no D-Bus system bus" in text:
                break
            assert time.monotonic() < deadline, text
            time.sleep(1)
        assert "DNS-SD publisher exited" not in text  # not started at all: no restart loop
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
