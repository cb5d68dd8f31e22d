"""Who may print: client networks and optional HTTP Basic authentication (pure checks)."""

from __future__ import annotations

import base64
import binascii

from faxgate.access import client_allowed

__all__ = ["basic_credentials", "client_allowed"]


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, None when absent or not Basic."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password
