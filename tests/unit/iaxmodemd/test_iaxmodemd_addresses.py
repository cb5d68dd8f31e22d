"""A line bound to a wildcard address is dialled on loopback (the container binds 0.0.0.0)."""

from __future__ import annotations

import pytest

from faxgate.iaxmodemd.line import reachable_host


@pytest.mark.parametrize(
    ("bind", "reached_at"),
    [
        ("0.0.0.0", "127.0.0.1"),
        ("", "127.0.0.1"),
        ("::", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("192.0.2.7", "192.0.2.7"),
    ],
)
def test_reachable_host(bind: str, reached_at: str) -> None:
    assert reachable_host(bind) == reached_at
