"""`python -m faxgate <command>`: run the appliance, initialise it, or start one program.

One name per process everywhere: `python -m faxgate faxqueued` is the supervisord program
`faxqueued`, its logger, its settings and its docs heading.
"""

from __future__ import annotations

import importlib
import logging
import sys

from faxgate.errors import FaxgateError

USAGE = """usage: python -m faxgate COMMAND [ARGS]

commands:
  run          initialise the spool and start every program under supervisord (foreground)
  init         only initialise the spool, the ledger, the converters and the first admin
  faxctl ...   the administrator's command line (same as `faxctl ...`)
  PROGRAM      start one program: iaxmodemd, faxqueued, smtpfaxd, ippfaxd, faxadmin
"""


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    configure_logging()
    from faxgate import appliance
    from faxgate.spool.layout import Spool

    try:
        if command == "run":
            return appliance.run(Spool.from_environment())
        if command == "init":
            report = appliance.initialise(Spool.from_environment())
            if report.generated_admin_password:
                print(f"created user 'admin' with password {report.generated_admin_password}")
            return 0
        if command == "faxctl":
            from faxgate.faxctl.main import main as faxctl_main

            return faxctl_main(rest)
        if command in appliance.PROGRAMS:
            module = importlib.import_module(f"faxgate.{command}.main")
            result: int = module.main(rest)
            return result
    except FaxgateError as exc:
        logging.getLogger("faxgate").error("%s", exc)
        return 1
    print(f"unknown command {command!r}\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
