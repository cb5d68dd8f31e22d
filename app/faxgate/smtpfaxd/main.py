"""`python -m faxgate smtpfaxd`: the mail-to-fax gateway process.

Reads its settings (bind, port, networks, size, TLS, auth, addressing), makes a self-signed
certificate at first start, serves SMTP until SIGTERM, reloads the settings on SIGHUP (the
listener address, size limit and TLS need a restart; the addressing rules apply at once).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from faxgate.errors import FaxgateError
from faxgate.settings import Settings, load_settings
from faxgate.smtpfaxd import tls
from faxgate.smtpfaxd.handler import FaxMailHandler, GatewayConfig, UserAuthenticator
from faxgate.smtpfaxd.server import ApplianceUsers, start_server
from faxgate.smtpfaxd.store import MailStore
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("smtpfaxd")

STOP_GRACE_SECONDS = 3.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smtpfaxd", description=__doc__)
    parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # aiosmtpd logs every command at INFO; our handler logs one line per decision instead.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    spool = Spool.from_environment()
    try:
        if spool.problems():
            spool.ensure()  # run on its own (tests, development); the appliance made it already
        with Ledger.open(spool.ledger_path):
            pass  # apply migrations once before serving: stores must not race to do it
        settings = load_settings(spool)
        return asyncio.run(serve(spool, settings))
    except FaxgateError as exc:
        log.error("%s", exc)
        return 1
    except OSError as exc:  # e.g. the port is taken or needs privileges, the spool is not ours
        log.error("cannot start: %s", exc)
        return 1


async def serve(spool: Spool, settings: Settings) -> int:
    config = GatewayConfig.from_settings(settings)
    cert_path, key_path = tls.certificate_paths(
        spool,
        settings.get_str("sys.fax.configure.smtp.tls.certificate"),
        settings.get_str("sys.fax.configure.smtp.tls.key"),
    )
    if not settings.get_str("sys.fax.configure.smtp.tls.certificate"):
        tls.ensure_self_signed(cert_path, key_path, config.hostname)
    tls_context = tls.server_context(cert_path, key_path)
    authenticator = None
    if config.clients.auth != "off":
        authenticator = UserAuthenticator(ApplianceUsers(spool).check)
    store = MailStore(spool)
    handler = FaxMailHandler(config, store)
    host = settings.get_str("sys.fax.configure.smtp.bind")
    port = settings.get_int("sys.fax.configure.smtp.port")
    server = await start_server(handler, host, port, tls_context, authenticator)
    log.info("listening on %s:%d (max %d bytes, auth %s)", host, port, config.max_size,
             config.clients.auth)  # fmt: skip

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, _reload, spool, handler)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        server.close()
        # Python 3.12+ waits here for open sessions too; an idle client must not hold up SIGTERM.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=STOP_GRACE_SECONDS)
        await asyncio.get_running_loop().run_in_executor(None, store.close)
    return 0


def _reload(spool: Spool, handler: FaxMailHandler) -> None:
    """SIGHUP: new addressing and access rules for new transactions; bad settings keep the old."""
    try:
        handler.config = GatewayConfig.from_settings(load_settings(spool))
    except (FaxgateError, ValueError) as exc:
        log.error("settings not reloaded, keeping the previous ones: %s", exc)
        return
    log.info("settings reloaded")
