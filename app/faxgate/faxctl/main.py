"""faxctl: status, settings (save/apply), fax devices, users; --json for scripts.

It works on the local spool (FAXGATE_SPOOL, else ./var/spool/hylafax): the ledger directly and
supervisord through its socket. Every change is recorded in the audit log as actor
`faxctl:<unix user>`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from faxgate.errors import FaxgateError
from faxgate.faxctl import commands, queue_commands, remote
from faxgate.spool.layout import Spool


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faxctl", description="Administer a faxgate appliance.")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument(
        "--spool", help="spool directory (default: $FAXGATE_SPOOL or ./var/spool/hylafax)"
    )
    parser.add_argument(
        "--url", help="a remote appliance's admin URL (e.g. http://fax:8080): use its REST API"
    )
    parser.add_argument("--token", help="API token for --url (default: $FAXGATE_TOKEN)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("status", help="programs, lines and queue at a glance")

    settings = sub.add_parser("settings", help="list, read and change settings")
    ssub = settings.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = ssub.add_parser("list", help="every key with its value and source")
    listing.add_argument("search", nargs="?", default="", help="only keys containing this text")
    ssub.add_parser("get", help="one key").add_argument("key")
    setter = ssub.add_parser("set", help="save a change (pending until `faxctl apply`)")
    setter.add_argument("key")
    setter.add_argument("value")
    ssub.add_parser("reset", help="pending: back to the default").add_argument("key")
    ssub.add_parser("pending", help="changes saved but not applied")
    ssub.add_parser("discard", help="forget every pending change")

    sub.add_parser("apply", help="apply the pending changes and tell the programs")

    devices = sub.add_parser("devices", help="fax devices (extension → e-mail)")
    dsub = devices.add_subparsers(dest="action", required=True, metavar="ACTION")
    dsub.add_parser("list", help="all fax devices")
    add = dsub.add_parser("add", help="create a fax device")
    add.add_argument("extension")
    add.add_argument("--email", action="append", required=True, help="address (repeat for several)")
    add.add_argument("--format", default="pdf", choices=("pdf", "tif", "inlinegif"))
    add.add_argument("--name", default="", help="a name shown in lists")
    add.add_argument("--group", action="store_true", help="a shared (group) device")
    dsub.add_parser("remove", help="delete a fax device").add_argument("extension")

    users = sub.add_parser("users", help="appliance users (admins and ordinary users)")
    usub = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    usub.add_parser("list", help="all users")
    uadd = usub.add_parser("add", help="create a user (password from --password-stdin or a prompt)")
    uadd.add_argument("name")
    uadd.add_argument("--role", default="user", choices=("admin", "user"))
    uadd.add_argument("--email")
    uadd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    upw = usub.add_parser("passwd", help="set a user's password")
    upw.add_argument("name")
    upw.add_argument("--password-stdin", action="store_true")
    usub.add_parser("remove", help="delete a user").add_argument("name")

    queue_commands.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    spool = Spool(Path(args.spool).resolve()) if args.spool else Spool.from_environment()
    actor = f"faxctl:{getpass.getuser()}"
    handler: Callable[[argparse.Namespace, Spool, str], int] = commands.HANDLERS[args.command]
    try:
        if args.url:
            return remote.run(args)
        return handler(args, spool, actor)
    except FaxgateError as exc:
        print(f"faxctl: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
