"""Fax numbers from what people write: normalisation, dial prefix and the block list.

Pure functions shared by the gateways. A number as written in a mail address or a document
(`+49 991 234-5`, `0991/2345`) becomes digits only, with a leading `+` written as `00` (a `+` is
not allowed in a mail domain, so international numbers arrive as `0049...` anyway). The dial
prefix (e.g. `0` for an outside line) is put in front afterwards, and the block list is checked
against both forms so `112` stays blocked whatever the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from faxgate.errors import FaxgateError

# Separators people put into numbers; anything else that is not a digit makes the number invalid.
_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
MAX_DIGITS = 30  # ITU E.164 allows 15 after the international prefix; leave room for prefixes


class NumberError(FaxgateError):
    """A fax number cannot be dialled (the message says why, for the sender)."""


@dataclass(frozen=True)
class DialNumber:
    """A number ready for a fax job: `dialled` goes to the line, `written` is what the user meant."""

    written: str
    dialled: str


def normalise(text: str) -> str:
    """Digits only: separators removed, a leading `+` written as `00`. NumberError when unusable."""
    stripped = _SEPARATORS.sub("", text)
    if stripped.startswith("+"):
        stripped = "00" + stripped[1:]
    if not stripped:
        raise NumberError("the fax number is empty")
    if not stripped.isascii() or not stripped.isdigit():
        raise NumberError(
            f"{text!r} is not a fax number: use digits only (spaces and dashes are allowed, "
            "write + as 00)"
        )
    if len(stripped) > MAX_DIGITS:
        raise NumberError(f"{text!r} is too long to be a fax number ({len(stripped)} digits)")
    return stripped


def blocking_pattern(number: str, patterns: Iterable[str]) -> str | None:
    """The first block-list pattern `number` matches: a whole number, or a prefix ending in `*`."""
    for pattern in patterns:
        if pattern.endswith("*"):
            if number.startswith(pattern[:-1]):
                return pattern
        elif number == pattern:
            return pattern
    return None


def dial_number(text: str, prefix: str = "", blocked: Iterable[str] = ()) -> DialNumber:
    """Normalise `text`, refuse blocked numbers, and put the dial prefix in front."""
    written = normalise(text)
    dialled = prefix + written
    patterns = list(blocked)
    for candidate in (written, dialled):
        pattern = blocking_pattern(candidate, patterns)
        if pattern is not None:
            raise NumberError(
                f"faxing to {written} is not allowed on this fax server (the administrator "
                f"blocked {pattern}: emergency and premium-rate numbers)"
            )
    return DialNumber(written=written, dialled=dialled)
