"""The aiosmtpd handler: one hook per SMTP verb, each deciding with the pure rules.

MAIL FROM: client network / authentication, SIZE, free disk. RCPT TO: the fax address rules,
per recipient. DATA: store durably through the intake, then 250. Nothing is converted here.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session, TLSSetupException

from faxgate.mail.addresses import FaxRecipient, RecipientError, fax_recipient
from faxgate.settings import Settings
from faxgate.settings.regex_notation import Matcher
from faxgate.smtpfaxd import policy
from faxgate.smtpfaxd.store import MailStore, StoreError, StoreFullError

log = logging.getLogger("smtpfaxd")

MIB = 1024 * 1024
MAX_RECIPIENTS = 100


@dataclass(frozen=True)
class GatewayConfig:
    """What the SMTP session needs from the settings (rebuilt on SIGHUP)."""

    hostname: str
    max_size: int  # bytes
    max_sessions: int
    reserve: int  # bytes that must stay free on the spool's disk
    clients: policy.ClientPolicy
    matcher: Matcher
    domains: tuple[str, ...]
    dial_prefix: str
    blocked: tuple[str, ...]

    @staticmethod
    def from_settings(settings: Settings) -> GatewayConfig:
        return GatewayConfig(
            hostname=settings.get_str("sys.fax.configure.smtp.hostname"),
            max_size=settings.get_int("sys.fax.configure.smtp.maxsize") * MIB,
            max_sessions=settings.get_int("sys.fax.configure.smtp.maxsessions"),
            reserve=settings.get_int("sys.fax.configure.smtp.minfree") * MIB,
            clients=policy.ClientPolicy.build(
                settings.get_list("sys.fax.configure.smtp.networks"),
                settings.get_str("sys.fax.configure.smtp.auth"),
            ),
            matcher=settings.matcher("sys.fax.configure.faxmail.matcher.fax"),
            domains=tuple(settings.get_list("sys.fax.configure.faxmail.domains")),
            dial_prefix=settings.get_str("sys.fax.configure.dial.prefix"),
            blocked=tuple(settings.get_list("sys.fax.configure.dial.blocked")),
        )


def session_user(session: Session) -> str | None:
    """The appliance user a session authenticated as, if any."""
    if not session.authenticated:
        return None
    data = session.auth_data
    if isinstance(data, LoginPassword):
        return data.login.decode("utf-8", "replace")
    return str(data) if data else None


class FaxMailHandler:
    """aiosmtpd handler of the gateway. `config` may be replaced at any time (SIGHUP)."""

    def __init__(self, config: GatewayConfig, store: MailStore) -> None:
        self.config = config
        self.store = store
        # Recipients as decided at RCPT time, per transaction: stored with the mail, so the queue
        # faxes exactly what was promised even if settings change in between.
        self._recipients: weakref.WeakKeyDictionary[Envelope, list[FaxRecipient]] = (
            weakref.WeakKeyDictionary()
        )

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
        responses: list[str],
    ) -> list[str]:  # fmt: skip
        session.host_name = hostname
        if self.config.clients.auth == "off":
            responses = [line for line in responses if not line[4:].upper().startswith("AUTH")]
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        mail_options: list[str],
    ) -> str:  # fmt: skip
        config = self.config
        client = _client_address(session)
        refusal = (
            policy.sender_refusal(client, bool(session.authenticated), config.clients)
            or policy.size_refusal(policy.declared_size(mail_options), config.max_size)
            or policy.disk_refusal(
                self.store.free_bytes(), policy.declared_size(mail_options) or 0, config.reserve
            )
        )
        if refusal:
            log.info("refused MAIL FROM <%s> from %s: %s", address, client, refusal)
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self._recipients[envelope] = []
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:  # fmt: skip
        config = self.config
        accepted = self._recipients.setdefault(envelope, [])
        if len(accepted) >= MAX_RECIPIENTS:
            return f"452 4.5.3 Too many recipients: at most {MAX_RECIPIENTS} per mail"
        try:
            recipient = fax_recipient(
                address, config.matcher, config.domains, config.dial_prefix, config.blocked
            )
        except RecipientError as exc:
            log.info("refused RCPT TO <%s> from %s: %s", address, _client_address(session), exc)
            return exc.reply
        accepted.append(recipient)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return f"250 2.1.5 Fax recipient OK: number {recipient.number}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        recipients = self._recipients.get(envelope, [])
        if not recipients:
            return "554 5.5.1 No valid fax recipients"
        refusal = policy.disk_refusal(self.store.free_bytes(), len(raw), self.config.reserve)
        if refusal:
            log.warning("refused a mail of %d bytes: the spool is nearly full", len(raw))
            return refusal
        client = _client_address(session)
        user = session_user(session)
        params: dict[str, Any] = {
            "mail_from": _envelope_sender(envelope),
            "recipients": [r.as_params() for r in recipients],
            "client": client,
            "helo": session.host_name or "",
            "auth_user": user or "",
            "tls": session.ssl is not None,
            "received_at": time.time(),
        }
        message = self._received_header(session, client, user) + raw
        try:
            submission = await self.store.store(message, params, owner=user)
        except StoreFullError as exc:
            log.warning("mail from <%s> not stored, no room: %s", envelope.mail_from, exc)
            return policy.REPLY_DISK_FULL
        except StoreError as exc:
            log.error("mail from <%s> not stored: %s", envelope.mail_from, exc)
            return policy.REPLY_TRY_LATER
        numbers = ", ".join(r.number for r in recipients)
        log.info(
            "accepted submission %d: %d bytes from <%s> (%s) for %s",
            submission, len(raw), envelope.mail_from, client, numbers,
        )  # fmt: skip
        return f"250 2.0.0 Ok: queued as fax submission {submission}"

    async def handle_exception(self, error: Exception) -> str:
        """aiosmtpd's fallback for an exception in a session (it closes the connection after
        a TLS failure and sends the returned reply otherwise)."""
        if isinstance(error, TLSSetupException):
            # A client that gives up or speaks something else after STARTTLS: routine on an
            # open port, one line (aiosmtpd would log a traceback for each).
            cause = error.__cause__
            log.warning("TLS handshake failed: %s", (cause and repr(cause)) or "no reason given")
            return "421 4.7.0 TLS handshake failed"
        log.exception("SMTP session error")
        # temporary: the sending server keeps the mail and tries again, nothing is lost
        return "451 4.3.0 Local error; try again later"

    def _received_header(self, session: Session, client: str, user: str | None) -> bytes:
        protocol = "ESMTP" + ("S" if session.ssl is not None else "") + ("A" if user else "")
        helo = (session.host_name or "unknown").replace("\r", "").replace("\n", "")
        line = (
            f"Received: from {helo} ([{client}])\r\n\tby {self.config.hostname} (smtpfaxd) with "
            f"{protocol};\r\n\t{email.utils.formatdate(localtime=True)}\r\n"
        )
        return line.encode("utf-8", "replace")


def _envelope_sender(envelope: Envelope) -> str:
    """The envelope sender; '' for the null sender <> of bounces and receipts."""
    sender = envelope.mail_from or ""
    return "" if sender == "<>" else sender


def _client_address(session: Session) -> str:
    peer = session.peer
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "")


AUTH_FAILURES_ALLOWED = 5
AUTH_FAILURE_WINDOW_S = 15 * 60
REPLY_TOO_MANY_FAILURES = (
    "454 4.7.0 Too many failed logins from your address; try again in a few minutes"
)


class UserAuthenticator:
    """aiosmtpd authenticator: PLAIN/LOGIN against the appliance users (argon2 hashes).

    A client address with AUTH_FAILURES_ALLOWED failures in the last AUTH_FAILURE_WINDOW_S is
    refused without a password check (454), so passwords cannot be guessed at Argon2's pace.
    """

    def __init__(self, check: Any, clock: Callable[[], float] = time.monotonic) -> None:
        # check(name, password) -> bool; injected so the rule is testable without a ledger.
        self._check = check
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()  # checks may run in worker threads

    def _recent_failures(self, client: str, now: float) -> list[float]:
        recent = [t for t in self._failures.get(client, []) if now - t < AUTH_FAILURE_WINDOW_S]
        if recent:
            self._failures[client] = recent
        else:
            self._failures.pop(client, None)
        return recent

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        name = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        client = _client_address(session)
        with self._lock:
            if len(self._recent_failures(client, self._clock())) >= AUTH_FAILURES_ALLOWED:
                log.warning("AUTH from %s refused: too many failed logins", client)
                return AuthResult(success=False, handled=False, message=REPLY_TOO_MANY_FAILURES)
        ok = bool(self._check(name, password))
        if not ok:
            with self._lock:
                self._failures.setdefault(client, []).append(self._clock())
        log.info(
            "AUTH %s as %r from %s: %s",
            mechanism, name, _client_address(session), "ok" if ok else "refused",
        )  # fmt: skip
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
