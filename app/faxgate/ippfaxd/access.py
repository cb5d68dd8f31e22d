"""Who may print: client networks and optional HTTP Basic authentication (pure checks)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterable


def client_allowed(address: str, networks: Iterable[str]) -> bool:
    """True when `address` (IPv4/IPv6, maybe IPv4-mapped) is inside one of `networks`."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for item in networks:
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            continue
        if ip.version == network.version and ip in network:
            return True
    return False


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
