"""Listener access policy: is a client's address inside the allowed networks?

One check for every listener (SMTP, IPP, admin, IAX2), so they agree on the edge cases: an
IPv4 client seen through an IPv6 socket (::ffff:192.0.2.1) counts as its IPv4 address, a
scope id (fe80::1%eth0) is ignored, and anything that is not an IP address is refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """Networks from settings text (already validated there; a bad entry raises ValueError)."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def address_in(address: str | None, networks: Iterable[Network]) -> bool:
    """True when `address` is inside one of `networks`; False for anything unparsable."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False  # a Unix socket peer or something odd: not a known network
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def client_allowed(address: str | None, networks: Iterable[str]) -> bool:
    """`address_in` for networks written as text; entries that do not parse are skipped."""
    parsed: list[Network] = []
    for item in networks:
        try:
            parsed.append(ipaddress.ip_network(item, strict=False))
        except (ValueError, TypeError):
            continue
    return address_in(address, parsed)
