"""A private Postfix instance configured like a company mail server relaying `*.fax`.

This stands in for Exchange's send connector (address space `*.fax`, smart host = the fax
appliance): Postfix accepts mail from loopback clients and routes every `*.fax` recipient with
`transport_maps` (`.fax smtp:[127.0.0.1]:PORT`) to smtpfaxd, using STARTTLS when offered, as
Exchange does. It runs from its own config, queue and data directories (`postfix -c DIR`), never
touching the system's Postfix, and logs to a file (there is no syslog in a container).

Needs root (Postfix drops to its `postfix` user) and the Debian package `postfix`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:{port} inet n -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.company.test
mydomain = company.test
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
transport_maps = hash:{config}/transport
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = no
smtp_tls_security_level = may
smtp_tls_loglevel = 1
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
# Retry fast so a test sees a deferred mail delivered after recovery within seconds.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtp_connect_timeout = 5s
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_root() -> Path:
    """A fresh directory for one Postfix instance, reachable by the postfix user."""
    root = Path(tempfile.mkdtemp(prefix="faxgate-postfix-"))
    root.chmod(0o711)
    return root


def available() -> str | None:
    """Why a private Postfix cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "Postfix needs root"
    if shutil.which("postfix") is None or shutil.which("postmap") is None:
        return "the Debian package postfix is not installed"
    return None


@dataclass
class Postfix:
    root: Path
    port: int  # where clients submit mail
    gateway_port: int  # smtpfaxd

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def maillog(self) -> Path:
        return self.root / "maillog"

    def log(self) -> str:
        return self.maillog.read_text(errors="replace") if self.maillog.exists() else ""

    def postfix(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["postfix", "-c", str(self.config), *args],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def start(self) -> None:
        self.config.mkdir(parents=True)
        (self.root / "queue").mkdir()  # root-owned; `postfix start` makes its subdirectories
        (self.root / "data").mkdir()
        shutil.chown(self.root / "data", user="postfix")
        # Postfix refuses a queue directory others could write to; the test's temp dir is fine,
        # but every parent must be searchable by the postfix user.
        (self.config / "main.cf").write_text(MAIN_CF.format(root=self.root, config=self.config))
        (self.config / "master.cf").write_text(MASTER_CF.format(port=self.port))
        (self.config / "transport").write_text(f".fax smtp:[127.0.0.1]:{self.gateway_port}\n")
        subprocess.run(["postmap", str(self.config / "transport")], check=True, timeout=30)
        # Postfix opens its lock files as the postfix user, which must reach them: `root` must be
        # in a directory of its own under /tmp (see `make_root`), not under pytest's tmp_path,
        # whose parent pytest resets to mode 0700 whenever another session starts.
        self.root.chmod(0o711)
        result = self.postfix("start")
        if result.returncode != 0:
            raise RuntimeError(f"postfix start failed: {result.stdout}{result.stderr}{self.log()}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"postfix did not listen on {self.port}:\n{self.log()}")

    def stop(self) -> None:
        """Stop this instance (never the system's) and remove its directories."""
        if (self.root / "config").exists():
            self.postfix("stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_for_log(self, text: str, timeout: float = 60) -> str:
        """Wait until the mail log contains `text`; return the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if text in log:
                return log
            time.sleep(0.3)
        raise AssertionError(f"{text!r} never appeared in the Postfix log:\n{self.log()}")
