"""Bringing the appliance up: first-start initialisation and supervisord in the foreground.

The same steps run in the container (`faxgate run` as the entry point) and in host mode
(`make run`): check the settings, create or check the spool, migrate the ledger, seed the
converters, create the first admin, then hand over to supervisord.
"""

from __future__ import annotations

import getpass
import logging
import os
import pwd
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from faxgate.settings import load_settings
from faxgate.spool.atomic import write_atomic
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.users import admin_password_path, ensure_first_admin

log = logging.getLogger("faxgate")

PROGRAMS = ("iaxmodemd", "faxqueued", "smtpfaxd", "ippfaxd", "faxadmin")

FAXNOTIFY_DEFAULT = """\
# FaxNotify: how faxgate formats job notifications (read by faxqueued).
# Remove the '#' before INLINE=true to send HTML notifications with the first page shown and the
# fax attached as PDF (same as the setting sys.fax.configure.notify.format = inline).
#INLINE=true
"""


def rootfs_dir() -> Path:
    """Where the shipped files are: FAXGATE_ROOTFS, the checkout's rootfs/, else / (the image)."""
    named = os.environ.get("FAXGATE_ROOTFS")
    if named:
        return Path(named)
    checkout = Path(__file__).resolve().parents[2] / "rootfs"
    return checkout if checkout.is_dir() else Path("/")


def checkout_config() -> Path | None:
    """appliance.yml of a checkout (host mode); the image has /etc/faxgate/appliance.yml."""
    candidate = Path(__file__).resolve().parents[2] / "appliance.yml"
    return candidate if candidate.is_file() else None


@dataclass
class InitReport:
    migrations: list[str] = field(default_factory=list)
    converters: list[Path] = field(default_factory=list)
    generated_admin_password: str | None = None


def initialise(spool: Spool, owner: tuple[int, int] | None = None) -> InitReport:
    """Create what a first start needs; on later starts only migrate and fill gaps."""
    report = InitReport()
    spool.ensure(owner)
    with Ledger(spool.ledger_path) as ledger:
        report.migrations = ledger.migrate()
        report.generated_admin_password = ensure_first_admin(spool, ledger)
    report.converters = spool.seed_mimetype(rootfs_dir() / "usr/lib/faxgate/mimetype")
    faxnotify = spool.etc / "FaxNotify"
    if not faxnotify.exists():
        write_atomic(faxnotify, FAXNOTIFY_DEFAULT.encode(), tmp_dir=spool.tmp)
    if owner is not None:
        for path in (*spool.root.rglob("*"), spool.root):
            os.chown(path, *owner, follow_symlinks=False)
    return report


def spool_owner(user: str) -> tuple[int, int] | None:
    """(uid, gid) the spool must belong to: the programs' user when we start as root for them."""
    if os.geteuid() != 0 or user == "root":
        return None
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def program_environment(spool: Spool) -> dict[str, str]:
    env = dict(os.environ)
    env["FAXGATE_SPOOL"] = str(spool.root)
    env["FAXGATE_PYTHON"] = sys.executable
    env.setdefault("FAXGATE_USER", getpass.getuser())
    env.setdefault("FAXGATE_ROOTFS", str(rootfs_dir()))
    config = checkout_config()
    if config is not None:
        env.setdefault("FAXGATE_CONFIG", str(config))
    return env


def run(spool: Spool) -> int:
    """Initialise, then replace this process with supervisord in the foreground."""
    env = program_environment(spool)
    os.environ.update(env)
    load_settings(spool)  # a bad setting stops here with one clear line, before anything starts
    report = initialise(spool, spool_owner(env["FAXGATE_USER"]))
    for name in report.migrations:
        log.info("ledger migration applied: %s", name)
    if report.generated_admin_password:
        log.warning(
            "first start: created user 'admin' with password %s (also in %s)",
            report.generated_admin_password,
            admin_password_path(spool),
        )
    supervisord = shutil.which(
        "supervisord", path=str(Path(sys.executable).parent)
    ) or shutil.which("supervisord")
    if supervisord is None:
        log.error("supervisord is not installed (pip install supervisor)")
        return 1
    config = rootfs_dir() / "etc/faxgate/supervisord.conf"
    log.info("starting supervisord with %s, spool %s", config, spool.root)
    os.execve(supervisord, [supervisord, "-n", "-c", str(config)], env)  # noqa: S606
    return 0  # not reached
