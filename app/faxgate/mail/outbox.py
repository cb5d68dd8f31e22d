"""The durable outbox: every mail the appliance sends waits here until the mail server took it.

Any part enqueues a message with `enqueue(spool, message)`: one file per message in `outbox/`,
written atomically, so a message handed over is never lost, even if the process dies a moment
later. faxqueued's `OutboxRunner` delivers them:

- with a mail server configured (sys.fax.configure.mail.server), by SMTP with STARTTLS/TLS and
  optional authentication; a temporary failure (server down, 4xx) is retried with growing delays
  for days (`backoff`); a permanent refusal (5xx) or giving up bounces the message to the
  faxmaster with the reason and the original attached;
- without a mail server (host-mode default), into the Maildir `outbox/maildir/` (tmp/new/cur),
  which any mail client can open.

File format: `outbox/<stamp>-<random>.msg` is one JSON line (the envelope: sender, recipients,
queued time, whether it is a bounce) followed by the RFC 5322 message. Retry bookkeeping lives
beside it in `<name>.state` (JSON, replaced atomically); a message without one is fresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import smtplib
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as DEFAULT_POLICY
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path

from faxgate.errors import FaxgateError, SpoolError
from faxgate.settings import Settings
from faxgate.spool.atomic import write_atomic
from faxgate.spool.layout import Spool

log = logging.getLogger("faxqueued")

MESSAGE_SUFFIX = ".msg"
STATE_SUFFIX = ".state"
MAILDIR_NAME = "maildir"
# Retry delays grow from one minute to four hours, then stay there until the give-up time.
FIRST_RETRY_S = 60.0
LONGEST_RETRY_S = 4 * 3600.0
DEFAULT_GIVE_UP_S = 4 * 86400.0
SMTP_TIMEOUT_S = 30.0


class MailError(FaxgateError):
    """Mail could not be handed to the mail server."""


class TemporaryMailError(MailError):
    """Try again later: the server is down, busy or answered 4xx."""


class ServerUnreachable(TemporaryMailError):
    """No SMTP conversation at all (refused, timeout, TLS failure): no use trying the others."""


class PermanentMailError(MailError):
    """The server refused the message for good (5xx)."""


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipients: list[str]
    queued_at: float
    bounce: bool = False  # a bounce is never bounced again (it goes to bad/ instead)

    def to_json(self) -> str:
        return json.dumps(
            {
                "from": self.sender,
                "to": self.recipients,
                "queued_at": self.queued_at,
                "bounce": self.bounce,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Envelope:
        data = json.loads(text)
        return cls(
            sender=str(data["from"]),
            recipients=[str(r) for r in data["to"]],
            queued_at=float(data["queued_at"]),
            bounce=bool(data.get("bounce", False)),
        )


@dataclass
class DeliveryState:
    attempts: int = 0
    next_try_at: float = 0.0
    last_error: str = ""
    delivered_to: list[str] = field(default_factory=list)  # recipients that already took it

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DeliveryState:
        data = json.loads(text)
        return cls(
            attempts=int(data.get("attempts", 0)),
            next_try_at=float(data.get("next_try_at", 0.0)),
            last_error=str(data.get("last_error", "")),
            delivered_to=[str(r) for r in data.get("delivered_to", [])],
        )


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (1 → one minute, doubling, capped)."""
    return float(min(FIRST_RETRY_S * 2 ** max(0, attempts - 1), LONGEST_RETRY_S))


def message_recipients(message: EmailMessage) -> list[str]:
    """The addresses in To, Cc and Bcc (the envelope recipients when none are given)."""
    fields: list[str] = []
    for header in ("To", "Cc", "Bcc"):
        fields.extend(str(v) for v in message.get_all(header, []))
    return list(dict.fromkeys(addr for _name, addr in getaddresses(fields) if addr))


def enqueue(
    spool: Spool,
    message: EmailMessage,
    recipients: Iterable[str] | None = None,
    sender: str | None = None,
    now: float | None = None,
    bounce: bool = False,
) -> Path:
    """Store `message` durably in the outbox and return its file; faxqueued sends it."""
    queued_at = time.time() if now is None else now
    rcpts = list(recipients) if recipients is not None else message_recipients(message)
    if not rcpts:
        raise MailError("a mail without any recipient cannot be sent")
    if "Date" not in message:
        message["Date"] = format_datetime(_aware(queued_at))
    if "Message-ID" not in message:
        message["Message-ID"] = make_msgid(domain=_domain_of(sender or "faxgate@localhost"))
    if "Bcc" in message:
        del message["Bcc"]
    envelope_sender = sender or _first_address(str(message.get("From", ""))) or ""
    envelope = Envelope(envelope_sender, rcpts, queued_at, bounce)
    name = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime(queued_at))}-{secrets.token_hex(6)}"
    path = spool.outbox / f"{name}{MESSAGE_SUFFIX}"
    data = envelope.to_json().encode() + b"\n" + message.as_bytes(policy=SMTP_POLICY)
    write_atomic(path, data, tmp_dir=spool.tmp)
    return path


def read_message(path: Path) -> tuple[Envelope, bytes]:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n")
    return Envelope.from_json(head.decode()), body


def pending_messages(spool: Spool) -> list[Path]:
    """Messages in the outbox, oldest first."""
    if not spool.outbox.is_dir():
        return []
    return sorted(p for p in spool.outbox.glob(f"*{MESSAGE_SUFFIX}") if not p.name.startswith("."))


def maildir(spool: Spool) -> Path:
    return spool.outbox / MAILDIR_NAME


def ensure_maildir(spool: Spool) -> Path:
    root = maildir(spool)
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def deliver_to_maildir(spool: Spool, envelope: Envelope, data: bytes) -> Path:
    """Put a message into the Maildir (new/), with the envelope as Return-Path/Delivered-To."""
    root = ensure_maildir(spool)
    unique = f"{time.time():.6f}.P{os.getpid()}R{secrets.token_hex(4)}.{socket.gethostname()}"
    headers = f"Return-Path: <{envelope.sender}>\r\n".encode()
    headers += b"".join(f"Delivered-To: {r}\r\n".encode() for r in envelope.recipients)
    target = root / "new" / unique
    write_atomic(target, headers + data, tmp_dir=root / "tmp")
    return target


@dataclass(frozen=True)
class SmtpConfig:
    """How to reach the mail server (sys.fax.configure.mail.*); host empty → Maildir."""

    host: str = ""
    port: int = 25
    tls: str = "starttls"  # none | starttls (when offered) | tls (implicit)
    username: str = ""
    password: str = ""
    faxmaster: str = "faxmaster@localhost"
    sender: str = "fax@localhost"
    give_up_after: float = DEFAULT_GIVE_UP_S
    timeout: float = SMTP_TIMEOUT_S
    ssl_context: ssl.SSLContext | None = None  # tests pass one that trusts their certificate

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        server = settings.get_str("sys.fax.configure.mail.server")
        host, _, port = server.rpartition(":")
        return cls(
            host=host,
            port=int(port) if port else 25,
            tls=settings.get_str("sys.fax.configure.mail.tls"),
            username=settings.get_str("sys.fax.configure.mail.username"),
            password=settings.get_str("sys.fax.configure.mail.password"),
            faxmaster=settings.get_str("sys.fax.configure.mail.faxmaster"),
            sender=settings.get_str("sys.fax.configure.mail.sender"),
            give_up_after=float(settings.get_int("sys.fax.configure.queue.outbox.giveup")),
        )


def send_smtp(config: SmtpConfig, envelope: Envelope, recipients: list[str], data: bytes) -> None:
    """Hand one message to the mail server. Raises Temporary/PermanentMailError.

    When some recipients are refused, the error lists them; the others took the message.
    """
    context = config.ssl_context or ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if config.tls == "tls":
            client = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=context
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            client.ehlo()
            if config.tls == "starttls" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if config.username:
                client.login(config.username, config.password)
            refused = client.sendmail(envelope.sender, recipients, data)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refusal(exc.recipients) from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        reason = f"the mail server answered {exc.smtp_code} {text}".strip()
        if exc.smtp_code >= 500:
            raise PermanentMailError(reason) from exc
        raise TemporaryMailError(reason) from exc
    except OSError as exc:
        raise ServerUnreachable(
            f"cannot reach the mail server {config.host}:{config.port}: {exc}"
        ) from exc
    except smtplib.SMTPException as exc:
        raise TemporaryMailError(
            f"cannot reach the mail server {config.host}:{config.port}: {exc}"
        ) from exc
    if refused:
        raise _refusal(refused)


class RecipientsRefused(MailError):
    """Some recipients were refused; `permanent` and `temporary` list them."""

    def __init__(self, reason: str, permanent: list[str], temporary: list[str]) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.temporary = temporary


def _refusal(refused: dict[str, tuple[int, bytes]]) -> RecipientsRefused:
    permanent = [r for r, (code, _m) in refused.items() if code >= 500]
    temporary = [r for r, (code, _m) in refused.items() if code < 500]
    words = "; ".join(
        f"{r}: {code} {msg.decode(errors='replace')}" for r, (code, msg) in refused.items()
    )
    return RecipientsRefused(f"the mail server refused {words}", permanent, temporary)


class OutboxRunner:
    """Delivers the outbox. `run_once(now)` does one pass; faxqueued calls it in a thread."""

    def __init__(self, spool: Spool, config: SmtpConfig) -> None:
        self.spool = spool
        self.config = config
        # Set when the server could not be reached in this pass: the other due messages are
        # deferred with the same reason instead of each waiting for its own timeout.
        self._unreachable: str | None = None

    def run_once(self, now: float | None = None) -> int:
        """Try every message that is due; return how many left the outbox."""
        moment = time.time() if now is None else now
        gone = 0
        self._unreachable = None
        for path in pending_messages(self.spool):
            try:
                if self._attempt(path, moment):
                    gone += 1
            except (SpoolError, OSError) as exc:
                # The spool cannot be written (disk full for the Maildir or the retry state):
                # the message stays where it is and the next pass tries again; the others would
                # meet the same wall, so this pass ends here.
                log.warning("outbox: %s waits, the spool cannot be written: %s", path.name, exc)
                break
            except Exception:
                # One unreadable message must not stop the others: park it for the admin.
                log.exception("outbox: cannot process %s, moved to bad/", path.name)
                _move_to_bad(self.spool, path)
        return gone

    def _attempt(self, path: Path, now: float) -> bool:
        state = load_state(path)
        if state.next_try_at > now:
            return False
        envelope, data = read_message(path)
        if not self.config.host:
            deliver_to_maildir(self.spool, envelope, data)
            _remove(path)
            log.info("outbox: %s delivered into the maildir for %s", path.name, envelope.recipients)
            return True
        todo = [r for r in envelope.recipients if r not in state.delivered_to]
        if self._unreachable is not None:
            return self._defer(path, envelope, data, state, now, self._unreachable)
        try:
            send_smtp(self.config, envelope, todo, data)
        except RecipientsRefused as exc:
            state.delivered_to += [r for r in todo if r not in exc.permanent + exc.temporary]
            if exc.permanent:
                self._bounce(envelope, data, str(exc), exc.permanent)
            if not exc.temporary:
                _remove(path)
                return True
            return self._defer(path, envelope, data, state, now, str(exc))
        except PermanentMailError as exc:
            self._bounce(envelope, data, str(exc), todo)
            _remove(path)
            return True
        except TemporaryMailError as exc:
            if isinstance(exc, ServerUnreachable):
                self._unreachable = str(exc)
            return self._defer(path, envelope, data, state, now, str(exc))
        _remove(path)
        log.info("outbox: %s sent to %s", path.name, todo)
        return True

    def _defer(
        self,
        path: Path,
        envelope: Envelope,
        data: bytes,
        state: DeliveryState,
        now: float,
        reason: str,
    ) -> bool:
        state.attempts += 1
        state.last_error = reason
        if now - envelope.queued_at >= self.config.give_up_after:
            pending = [r for r in envelope.recipients if r not in state.delivered_to]
            days = self.config.give_up_after / 86400
            self._bounce(envelope, data, f"{reason} (gave up after {days:g} days)", pending)
            _remove(path)
            return True
        state.next_try_at = now + backoff(state.attempts)
        save_state(self.spool, path, state)
        log.warning(
            "outbox: %s deferred (%s), next try in %.0f s",
            path.name,
            reason,
            state.next_try_at - now,
        )
        return False

    def _bounce(self, envelope: Envelope, data: bytes, reason: str, failed: list[str]) -> None:
        if envelope.bounce:
            # A bounce that cannot reach the faxmaster: keep it for the admin instead of looping.
            name = f"undeliverable-{secrets.token_hex(6)}.eml"
            write_atomic(self.spool.bad / name, data, tmp_dir=self.spool.tmp)
            log.error("outbox: a bounce to the faxmaster failed (%s); kept as bad/%s", reason, name)
            return
        notice = EmailMessage()
        notice["From"] = self.config.sender
        notice["To"] = self.config.faxmaster
        notice["Subject"] = "Undeliverable fax server mail"
        notice.set_content(
            "The fax server could not deliver a mail.\n\n"
            f"Recipients: {', '.join(failed)}\n"
            f"Reason: {reason}\n\n"
            "The original message is attached.\n"
        )
        original = message_from_bytes(data, policy=DEFAULT_POLICY)
        notice.add_attachment(original, filename="original.eml")
        enqueue(self.spool, notice, [self.config.faxmaster], sender="", bounce=True)
        log.warning("outbox: bounced mail for %s to the faxmaster: %s", failed, reason)


def load_state(path: Path) -> DeliveryState:
    state_path = path.with_suffix(STATE_SUFFIX)
    try:
        return DeliveryState.from_json(state_path.read_text())
    except FileNotFoundError:
        return DeliveryState()
    except (ValueError, KeyError):
        return DeliveryState()


def save_state(spool: Spool, path: Path, state: DeliveryState) -> None:
    write_atomic(path.with_suffix(STATE_SUFFIX), state.to_json().encode(), tmp_dir=spool.tmp)


def _remove(path: Path) -> None:
    # The message first: a crash in between leaves an orphan state file, never a resend of a
    # bounce. (A crash after sending but before this unlink sends the mail twice: SMTP's own
    # at-least-once.)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with contextlib.suppress(FileNotFoundError):
        path.with_suffix(STATE_SUFFIX).unlink()


def _move_to_bad(spool: Spool, path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, spool.bad / path.name)
    with contextlib.suppress(FileNotFoundError):
        path.with_suffix(STATE_SUFFIX).unlink()


def undelivered_count(spool: Spool) -> int:
    return len(pending_messages(spool))


def _aware(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _first_address(text: str) -> str:
    found = [addr for _n, addr in getaddresses([text]) if addr]
    return found[0] if found else ""


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"
