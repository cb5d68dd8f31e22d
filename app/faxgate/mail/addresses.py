"""Fax recipients from mail addresses: `name@0991234.fax` → number 0991234 for name.

Pure: the SMTP session decides each RCPT with `fax_recipient()`, and the same decision is stored
with the message so the queue faxes exactly what was promised with 250.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from faxgate.errors import FaxgateError
from faxgate.numbers import NumberError, dial_number
from faxgate.settings.regex_notation import Matcher


class RecipientError(FaxgateError):
    """A recipient the gateway will not take; `reply` is the SMTP answer with its reason."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status  # enhanced status code, e.g. 5.1.1
        self.reason = reason

    @property
    def reply(self) -> str:
        return f"550 {self.status} {self.reason}"


@dataclass(frozen=True)
class FaxRecipient:
    """One accepted recipient: what was written and what will be dialled."""

    address: str
    number: str  # dialled: digits, with the dial prefix
    written: str  # the number as the user meant it (normalised, without the prefix)
    name: str  # for the cover page: the left part of the address, unless that is the number

    def as_params(self) -> dict[str, str]:
        return {
            "address": self.address,
            "number": self.number,
            "written": self.written,
            "name": self.name,
        }

    @staticmethod
    def from_params(value: object) -> FaxRecipient:
        if not isinstance(value, dict):
            raise ValueError("a recipient must be an object")
        return FaxRecipient(
            address=str(value["address"]),
            number=str(value["number"]),
            written=str(value.get("written", value["number"])),
            name=str(value.get("name", "")),
        )


def split_address(address: str) -> tuple[str, str]:
    """(local part, domain in lower case); ValueError when there is no `local@domain`."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{address!r} is not a mail address")
    return local, domain.rstrip(".").lower()


def domain_accepted(domain: str, accepted: Iterable[str]) -> bool:
    """True when `domain` is one of `accepted` or below one of them (0991234.fax below fax)."""
    domain = domain.lower().rstrip(".")
    for entry in accepted:
        entry = entry.lower().strip().strip(".")
        if entry and (domain == entry or domain.endswith("." + entry)):
            return True
    return False


def fax_recipient(
    address: str,
    matcher: Matcher,
    accepted_domains: Iterable[str],
    dial_prefix: str = "",
    blocked: Iterable[str] = (),
) -> FaxRecipient:
    """Decide one recipient; RecipientError carries the 550 reply when it is refused."""
    try:
        local, domain = split_address(address)
    except ValueError:
        raise RecipientError("5.1.3", f"<{address}> is not a mail address") from None
    if not domain_accepted(domain, accepted_domains):
        # Anything outside the fax domains is a relay attempt: refuse it without detail.
        raise RecipientError("5.7.1", f"<{address}>: relaying denied, this server only sends faxes")
    number_text = matcher.first_group(address)
    if number_text is None:
        raise RecipientError(
            "5.1.1",
            f"<{address}> is not a fax address: write the recipient as name@NUMBER.fax, "
            "e.g. Mueller@0991234.fax",
        )
    try:
        number = dial_number(number_text, dial_prefix, blocked)
    except NumberError as exc:
        raise RecipientError("5.1.1", f"<{address}>: {exc}") from None
    name = "" if _is_the_number(local, number.written) else local
    return FaxRecipient(address=address, number=number.dialled, written=number.written, name=name)


def _is_the_number(local: str, written: str) -> bool:
    digits = "".join(ch for ch in local if ch.isdigit())
    return bool(digits) and (digits == written or local.lstrip("+").isdigit())
