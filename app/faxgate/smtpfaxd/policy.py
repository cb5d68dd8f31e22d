"""Who may send through the gateway and when it must say "try later" — pure decisions.

Every function returns the SMTP reply for a refusal, or None to go on, so the aiosmtpd handler
only wires them up and the rules are unit-tested without sockets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from faxgate.access import Network, address_in, parse_networks

AuthMode = Literal["off", "optional", "required"]

REPLY_AUTH_REQUIRED = "530 5.7.0 Authentication required: use STARTTLS, then AUTH"
REPLY_DISK_FULL = "452 4.3.1 Insufficient system storage: the fax server is full, try again later"
REPLY_TRY_LATER = "451 4.3.0 The fax server cannot store mail right now, try again later"


@dataclass(frozen=True)
class ClientPolicy:
    """The access rules of the listener, from settings."""

    networks: tuple[Network, ...]
    auth: AuthMode

    @staticmethod
    def build(networks: Iterable[str], auth: str) -> ClientPolicy:
        parsed = parse_networks(networks)
        if auth not in ("off", "optional", "required"):
            raise ValueError(f"unknown auth mode {auth!r}")
        mode: AuthMode = auth  # type: ignore[assignment]
        return ClientPolicy(networks=parsed, auth=mode)


def client_in_networks(address: str, policy: ClientPolicy) -> bool:
    """True when the client's IP address is inside one of the allowed networks."""
    return address_in(address, policy.networks)


def sender_refusal(client_address: str, authenticated: bool, policy: ClientPolicy) -> str | None:
    """The reply to MAIL FROM when this client may not send, else None."""
    if authenticated:
        return None
    if policy.auth == "required":
        return REPLY_AUTH_REQUIRED
    if client_in_networks(client_address, policy):
        return None
    if policy.auth == "optional":
        return (
            f"550 5.7.1 Relaying denied: {client_address} is not an allowed network; "
            "authenticate after STARTTLS as a fax server user"
        )
    return f"550 5.7.1 Relaying denied: {client_address} may not send through this fax server"


def size_refusal(declared_size: int | None, limit: int) -> str | None:
    """The reply to a MAIL FROM whose SIZE= is over the limit (RFC 1870), else None."""
    if declared_size is not None and declared_size > limit:
        return (
            f"552 5.3.4 Message too big for the fax server: {declared_size} bytes, the limit is "
            f"{limit} bytes"
        )
    return None


def disk_refusal(free_bytes: int, needed_bytes: int, reserve_bytes: int) -> str | None:
    """452 when storing `needed_bytes` would leave less than the reserve free, else None."""
    if free_bytes - needed_bytes < reserve_bytes:
        return REPLY_DISK_FULL
    return None


def declared_size(mail_options: Iterable[str]) -> int | None:
    """The SIZE= value of MAIL FROM, when given and numeric."""
    for option in mail_options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return None
