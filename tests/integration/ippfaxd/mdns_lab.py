"""A private multicast DNS network for DNS-SD tests: two network namespaces joined by a veth
pair, each with its own dbus-daemon and a real avahi-daemon.

Multicast never leaves the two namespaces: the veth pair is created directly inside them, so
it is never an interface of the host, and the daemons are told to use only that interface.
Each avahi-daemon also gets a private /run (a mount namespace of its own), so neither touches
the host's /run/avahi-daemon nor trips over the other's PID file.

Everything started here is remembered by PID (and the namespaces by name) and undone by
`close()`, which `mdns_lab()` calls even when the test fails.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Private addresses on a link that exists only between the two namespaces; 10/8 is among the
# networks ippfaxd serves by default, so the browsing side may also print to what it found.
SUBNET_PREFIX = "10.77.0."
INTERFACE = "fax0"

TOOLS = {
    "ip": "iproute2",
    "unshare": "util-linux",
    "dbus-daemon": "dbus",
    "avahi-daemon": "avahi-daemon",
    "avahi-browse": "avahi-utils",
    "avahi-publish-service": "avahi-utils",
    "ippfind": "cups-ipp-utils",
    "ipptool": "cups-ipp-utils",
}

CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <!-- the default policy of Debian's system bus: nobody owns names unless a package's
       policy file says so -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <!-- avahi-daemon's own policy (avahi-dbus.conf) lets root own org.freedesktop.Avahi -->
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <includedir>/etc/dbus-1/system.d</includedir>
</busconfig>
"""

AVAHI_CONFIG = """[server]
host-name={host_name}
domain-name=local
use-ipv4=yes
# IPv4 only: no wait for IPv6 duplicate address detection on the fresh link
use-ipv6=no
allow-interfaces={interface}
enable-dbus=yes

[wide-area]
enable-wide-area=no

[publish]
publish-hinfo=no
publish-workstation=no

[reflector]
enable-reflector=no
"""


class NamespacesUnavailable(Exception):
    """This machine (or container) does not let the test create network namespaces."""


def missing_tools() -> list[str]:
    """'program (Debian package)' for each tool the lab needs and PATH lacks."""
    return [f"{tool} ({package})" for tool, package in TOOLS.items() if not shutil.which(tool)]


def namespaces_unavailable() -> str | None:
    """Why namespaces cannot be made here (not root, no CAP_NET_ADMIN/CAP_SYS_ADMIN), or None."""
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    effective = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("CapEff:"):
                effective = int(line.split()[1], 16)
    for bit, name in ((CAP_NET_ADMIN, "CAP_NET_ADMIN"), (CAP_SYS_ADMIN, "CAP_SYS_ADMIN")):
        if not effective & (1 << bit):
            return f"creating network namespaces needs {name}, which this process lacks"
    return None


@dataclass
class Side:
    """One end of the link: a network namespace with its bus and avahi-daemon."""

    label: str
    netns: str
    address: str
    directory: Path

    @property
    def bus_socket(self) -> Path:
        return self.directory / "bus"

    @property
    def bus_address(self) -> str:
        return f"unix:path={self.bus_socket}"

    @property
    def avahi_log(self) -> Path:
        return self.directory / "avahi-daemon.log"

    def avahi_ready(self) -> bool:
        return "Server startup complete" in self.avahi_log.read_text(errors="replace")

    def command(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv]

    def env(self) -> dict[str, str]:
        # libdbus and avahi-client take the system bus from this variable, so every avahi
        # program started with it talks to this side's daemon, never the host's.
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}

    def run(self, argv: Sequence[str], timeout: float = 15) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(argv), env=self.env(), capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip


class MdnsLab:
    def __init__(self, root: Path, bus_users: Sequence[str] = ()) -> None:
        """`bus_users`: passwd lines the dbus-daemons see besides the machine's own users (the
        system bus refuses a client whose uid it cannot look up, e.g. a container's user)."""
        self.root = root
        self.bus_users = tuple(bus_users)
        token = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.sides = [
            Side(label, f"faxgate-mdns-{token}-{label}", SUBNET_PREFIX + str(number), root / label)
            for number, label in ((1, "pub"), (2, "browse"))
        ]
        self.created: list[str] = []  # namespaces, deleted in close()
        self.processes: list[subprocess.Popen[bytes]] = []  # stopped by PID in close()

    @property
    def publisher(self) -> Side:
        return self.sides[0]

    @property
    def browser(self) -> Side:
        return self.sides[1]

    def start(self, timeout: float = 15) -> None:
        for side in self.sides:
            side.directory.mkdir(parents=True, exist_ok=True)
            self._ip("netns", "add", side.netns)
            self.created.append(side.netns)
        # Both ends are made inside the namespaces: the link never appears on the host.
        self._ip("link", "add", INTERFACE, "netns", self.publisher.netns, "type", "veth",
                 "peer", "name", INTERFACE, "netns", self.browser.netns)  # fmt: skip
        for side in self.sides:
            self._ip("-n", side.netns, "addr", "add", f"{side.address}/24", "dev", INTERFACE)
            self._ip("-n", side.netns, "link", "set", "lo", "up")
            self._ip("-n", side.netns, "link", "set", INTERFACE, "multicast", "on", "up")
        probe = subprocess.run(
            self.publisher.command(["unshare", "--mount", "--propagation", "private", "true"]),
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode != 0:
            raise NamespacesUnavailable(f"cannot enter a namespace: {probe.stderr.strip()}")
        for side in self.sides:
            self._start_bus(side)
        deadline = time.monotonic() + timeout
        for side in self.sides:
            self._wait(side.bus_socket.exists, deadline, f"{side.label} dbus-daemon")
        for side in self.sides:
            self._start_avahi(side)
        for side in self.sides:
            self._wait(side.avahi_ready, deadline, f"{side.label} avahi-daemon")

    def popen(
        self, side: Side, argv: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a program in `side`'s namespace (stdout and stderr to `log`), stopped by close()."""
        with log.open("wb") as out:
            process = subprocess.Popen(
                side.command(argv), env=env or side.env(), stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def close(self) -> None:
        for process in reversed(self.processes):
            stop(process)
        for netns in reversed(self.created):
            # Deleting a namespace also deletes its end of the veth pair (and with it the peer).
            subprocess.run(["ip", "netns", "delete", netns], capture_output=True, check=False)
        self.created.clear()

    def _ip(self, *args: str) -> None:
        result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            message = f"ip {' '.join(args)}: {result.stderr.strip()}"
            if re.search(r"not permitted|Permission denied", result.stderr):
                raise NamespacesUnavailable(message)
            raise RuntimeError(message)

    def _start_bus(self, side: Side) -> None:
        config = side.directory / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=side.bus_socket))
        bus = ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"]
        if self.bus_users:
            # The extra users exist only for this daemon: a private copy of /etc/passwd
            # bind-mounted in its own mount namespace, the machine's file untouched.
            passwd = side.directory / "passwd"
            passwd.write_text(Path("/etc/passwd").read_text() + "\n".join(self.bus_users) + "\n")
            script = f"mount --bind '{passwd}' /etc/passwd && exec {' '.join(bus)}"
            bus = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
        self.popen(side, bus, side.directory / "dbus-daemon.log")

    def _start_avahi(self, side: Side) -> None:
        config = side.directory / "avahi-daemon.conf"
        config.write_text(AVAHI_CONFIG.format(host_name=f"faxgate-{side.label}",
                                              interface=INTERFACE))  # fmt: skip
        daemon = (
            "mount -t tmpfs -o size=1m,mode=0755 faxgate-mdns-run /run && exec avahi-daemon"
            f" --no-drop-root --no-chroot --no-rlimits --no-proc-title -f '{config}'"
        )
        # unshare execs sh, sh execs avahi-daemon: the PID kept is the daemon's own.
        self.popen(side, ["unshare", "--mount", "--propagation", "private", "sh", "-c", daemon],
                   side.avahi_log)  # fmt: skip

    def _wait(self, ready: Callable[[], bool], deadline: float, what: str) -> None:
        while not ready():
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{what}: a lab process exited early\n{self.logs()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start in time\n{self.logs()}")
            time.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.relative_to(self.root)}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.root.glob("*/*.log"))
        )


def stop(process: subprocess.Popen[bytes], timeout: float = 5) -> None:
    """SIGTERM to the process we started, SIGKILL to its group if it does not end."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session, started by us
        process.wait()


@contextmanager
def lab_for_test(root: Path, bus_users: Sequence[str] = ()) -> Iterator[MdnsLab]:
    """`mdns_lab` for a test: skipped where namespaces cannot be made (no root or no
    CAP_NET_ADMIN), failed where a program is missing (scripts/debian-packages.txt lists them)."""
    import pytest

    reason = namespaces_unavailable()
    if reason:
        pytest.skip(reason)
    missing = missing_tools()
    assert not missing, f"install (scripts/debian-packages.txt): {', '.join(missing)}"
    try:
        with mdns_lab(root, bus_users) as started:
            yield started
    except NamespacesUnavailable as exc:
        pytest.skip(f"this machine cannot create network namespaces: {exc}")


@contextmanager
def mdns_lab(root: Path, bus_users: Sequence[str] = ()) -> Iterator[MdnsLab]:
    lab = MdnsLab(root, bus_users)
    try:
        lab.start()
        yield lab
    finally:
        lab.close()


# -- reading avahi-browse --parsable ----------------------------------------------------------


@dataclass(frozen=True)
class Browsed:
    """One line of `avahi-browse --parsable --resolve`: '+' found, '=' resolved, '-' gone."""

    event: str
    interface: str
    name: str
    service_type: str
    host: str = ""
    address: str = ""
    port: int = 0
    txt: tuple[str, ...] = ()

    @property
    def txt_map(self) -> dict[str, str]:
        return dict(entry.partition("=")[::2] for entry in self.txt)


def unescape(text: str) -> str:
    """avahi-browse writes bytes outside [A-Za-z0-9-_] in labels as \\DDD (decimal)."""
    return re.sub(r"\\(\d{3})|\\(.)", lambda m: chr(int(m[1])) if m[1] else m[2], text)


def parse_browse(output: str) -> list[Browsed]:
    events = []
    for line in output.splitlines():
        fields = line.split(";")
        if len(fields) < 6 or fields[0] not in "+=-" or not fields[0]:
            continue
        event, interface, _protocol, name, service_type = fields[:5]
        if event == "=" and len(fields) >= 10:
            txt = tuple(re.findall(r'"((?:[^"\\]|\\.)*)"', ";".join(fields[9:])))
            events.append(Browsed(event, interface, unescape(name), service_type, fields[6],
                                  fields[7], int(fields[8]), txt))  # fmt: skip
        else:
            events.append(Browsed(event, interface, unescape(name), service_type))
    return events
