"""The one client-network check every listener uses."""

from __future__ import annotations

import pytest

from faxgate.access import address_in, client_allowed, parse_networks

LOCAL_AND_PRIVATE = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "192.168.0.0/16"]


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("::1", True),
        ("::ffff:192.168.1.5", True),  # IPv4 client on an IPv6 socket
        ("fe80::1%eth0", False),  # scope id ignored, and not in the list
        ("192.0.2.1", False),
        ("2001:db8::1", False),
        ("", False),
        (None, False),
        ("/run/socket", False),
        ("not an address", False),
    ],
)
def test_client_allowed(address: str | None, allowed: bool) -> None:
    assert client_allowed(address, LOCAL_AND_PRIVATE) is allowed
    assert address_in(address, parse_networks(LOCAL_AND_PRIVATE)) is allowed


def test_unparsable_entries_are_skipped_by_the_text_form() -> None:
    assert client_allowed("10.0.0.1", ["nonsense", "10.0.0.0/8"]) is True
    with pytest.raises(ValueError, match="nonsense"):
        parse_networks(["nonsense"])


def test_empty_policy_allows_nobody() -> None:
    assert client_allowed("127.0.0.1", []) is False
