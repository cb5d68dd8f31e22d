"""The SMTP listener: aiosmtpd's protocol with our handler, TLS context and authenticator."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult

from faxgate.smtpfaxd.handler import FaxMailHandler, UserAuthenticator
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("smtpfaxd")

IDENT = "ESMTP faxgate mail-to-fax gateway"
SESSION_TIMEOUT = 300  # seconds of client silence (RFC 5321 4.5.3.2.7: at least 5 minutes)
_DEFERRED_AUTH = AuthResult(success=False, handled=True, message="deferred")


class FaxSMTP(SMTP):
    """aiosmtpd's SMTP, tolerant of the `AUTH=` MAIL parameter.

    Relays that authenticated to their own server send `MAIL FROM:<a@b> AUTH=<>` (RFC 4954 5);
    aiosmtpd 1.4.6 answers 555 before any hook runs, so the parameter is dropped here (we do not
    trust another server's claim of who the sender is anyway). SIZE= is left to the handler, which
    answers an oversized mail with an enhanced status code (552 5.3.4).
    """

    # Password checks (Argon2: tens of MiB and a good part of a second by design) must not stall
    # every other session: aiosmtpd calls the authenticator synchronously, so the built-in
    # mechanisms run with `_authenticate` deferred, and the check itself runs in a thread.
    async def auth_PLAIN(self, _: SMTP, args: list[str]) -> AuthResult:
        return await self._checked(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: SMTP, args: list[str]) -> AuthResult:
        return await self._checked(await super().auth_LOGIN(_, args))

    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        self._deferred_auth = (mechanism, auth_data)
        return _DEFERRED_AUTH

    async def _checked(self, result: AuthResult) -> AuthResult:
        if result is not _DEFERRED_AUTH:
            return result
        mechanism, auth_data = self._deferred_auth
        loop = asyncio.get_running_loop()
        checked: AuthResult = await loop.run_in_executor(
            None, super()._authenticate, mechanism, auth_data
        )
        return checked

    def _getparams(self, params: Sequence[str]) -> dict[str, str | bool] | None:
        result: dict[str, str | bool] | None = super()._getparams(params)
        if result is not None:
            result.pop("AUTH", None)
            result.pop("SIZE", None)
        return result


REPLY_TOO_MANY_SESSIONS = b"421 4.7.0 Too many connections to the fax server, try again later\r\n"


class SessionCount:
    """Sessions open right now, shared by every protocol object of one listener: in all and
    per client address, so one client cannot take every session (slowloris) from the others."""

    def __init__(self) -> None:
        self.active = 0
        self.by_client: dict[str, int] = {}

    def refusal(self, client: str, maximum: int) -> str | None:
        """Why a new session from `client` is refused, or None when it may open."""
        if self.active >= maximum:
            return f"{self.active} sessions are open"
        per_client = max(1, maximum // 4)
        if self.by_client.get(client, 0) >= per_client:
            return f"{client} has {per_client} sessions open already"
        return None

    def open(self, client: str) -> None:
        self.active += 1
        self.by_client[client] = self.by_client.get(client, 0) + 1

    def close(self, client: str) -> None:
        self.active -= 1
        left = self.by_client.get(client, 1) - 1
        if left:
            self.by_client[client] = left
        else:
            self.by_client.pop(client, None)


class LimitedFaxSMTP(FaxSMTP):
    """FaxSMTP that answers 421 and hangs up when too many sessions are open.

    aiosmtpd keeps a whole mail in memory per session, so the session count bounds memory.
    `connection_made` runs again for the TLS transport after STARTTLS; only the first counts.
    """

    def __init__(self, handler: FaxMailHandler, count: SessionCount, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._count = count
        self._maximum: int = handler.config.max_sessions
        self._counted = False
        self._refused = False
        self._client = "?"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._counted:
            peer = transport.get_extra_info("peername")
            self._client = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
            reason = self._count.refusal(self._client, self._maximum)
            if reason is not None:
                self._refused = True
                log.warning("refused a connection from %s: %s", self._client, reason)
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(REPLY_TOO_MANY_SESSIONS)
                transport.close()
                return
            self._count.open(self._client)
            self._counted = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return  # never set up: nothing to tear down
        if self._counted:
            self._count.close(self._client)
            self._counted = False
        super().connection_lost(error)


def protocol_factory(
    handler: FaxMailHandler,
    tls_context: ssl.SSLContext | None,
    authenticator: UserAuthenticator | None,
) -> Callable[[], FaxSMTP]:
    """A factory making one protocol object per connection, with the handler's current config."""
    count = SessionCount()

    def make() -> FaxSMTP:
        config = handler.config
        extra: dict[str, Any] = {}
        if authenticator is not None:
            extra["authenticator"] = authenticator
        return LimitedFaxSMTP(
            handler,
            count,
            data_size_limit=config.max_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=config.hostname,
            ident=IDENT,
            tls_context=tls_context,
            require_starttls=False,
            timeout=SESSION_TIMEOUT,
            auth_required=False,  # decided per client network in handle_MAIL
            auth_require_tls=True,
            **extra,
        )

    return make


class ApplianceUsers:
    """Password checks against the ledger's users, one connection per thread."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self._local = threading.local()

    def check(self, name: str, password: str) -> bool:
        from faxgate import users

        ledger: Ledger | None = getattr(self._local, "ledger", None)
        if ledger is None:
            ledger = Ledger.open(self.spool.ledger_path, migrate=False)
            self._local.ledger = ledger
        return users.authenticate(ledger, name, password) is not None


async def start_server(
    handler: FaxMailHandler,
    host: str,
    port: int,
    tls_context: ssl.SSLContext | None,
    authenticator: UserAuthenticator | None,
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        protocol_factory(handler, tls_context, authenticator), host=host, port=port
    )
    return server
