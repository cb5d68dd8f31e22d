"""Who may send, how big, and when the disk is too full — the SMTP session's pure rules."""

from __future__ import annotations

from faxgate.settings.keys.listeners import LOCAL_AND_PRIVATE
from faxgate.smtpfaxd.policy import (
    REPLY_AUTH_REQUIRED,
    REPLY_DISK_FULL,
    ClientPolicy,
    client_in_networks,
    declared_size,
    disk_refusal,
    sender_refusal,
    size_refusal,
)


def test_default_networks_are_loopback_and_private() -> None:
    policy = ClientPolicy.build(LOCAL_AND_PRIVATE, "optional")
    for inside in ("127.0.0.1", "10.2.3.4", "172.16.9.9", "192.168.1.20", "::1", "fd00::5"):
        assert client_in_networks(inside, policy), inside
    for outside in ("8.8.8.8", "172.32.0.1", "2001:db8::1", "not-an-ip"):
        assert not client_in_networks(outside, policy), outside
    assert client_in_networks("::ffff:192.168.1.20", policy)  # IPv4 client on a dual-stack socket


def test_foreign_client_is_refused_as_relay_unless_authenticated() -> None:
    policy = ClientPolicy.build(["10.0.0.0/8"], "optional")
    refusal = sender_refusal("127.0.0.1", authenticated=False, policy=policy)
    assert refusal is not None
    assert refusal.startswith("550 5.7.1")
    assert sender_refusal("127.0.0.1", authenticated=True, policy=policy) is None
    assert sender_refusal("10.1.1.1", authenticated=False, policy=policy) is None


def test_auth_off_refuses_foreign_clients_without_offering_auth() -> None:
    policy = ClientPolicy.build(["10.0.0.0/8"], "off")
    refusal = sender_refusal("127.0.0.1", authenticated=False, policy=policy)
    assert refusal is not None
    assert refusal.startswith("550 5.7.1")
    assert "authenticate" not in refusal


def test_auth_required_refuses_even_allowed_networks() -> None:
    policy = ClientPolicy.build(["127.0.0.0/8"], "required")
    assert sender_refusal("127.0.0.1", authenticated=False, policy=policy) == REPLY_AUTH_REQUIRED
    assert sender_refusal("127.0.0.1", authenticated=True, policy=policy) is None


def test_size_is_checked_at_mail_from() -> None:
    assert declared_size(["BODY=8BITMIME", "SIZE=2048"]) == 2048
    assert declared_size(["AUTH=<>"]) is None
    refusal = size_refusal(2049, 2048)
    assert refusal is not None
    assert refusal.startswith("552 5.3.4")
    assert size_refusal(2048, 2048) is None
    assert size_refusal(None, 2048) is None


def test_disk_reserve() -> None:
    mib = 1024 * 1024
    assert disk_refusal(free_bytes=100 * mib, needed_bytes=10 * mib, reserve_bytes=64 * mib) is None
    assert disk_refusal(70 * mib, 10 * mib, 64 * mib) == REPLY_DISK_FULL
    assert REPLY_DISK_FULL.startswith("452 4.3.1")


def test_one_client_cannot_take_every_session() -> None:
    # Found by the slowloris fault test: with only a global cap one client holding the sessions
    # locked every other client out.
    from faxgate.smtpfaxd.server import SessionCount

    count = SessionCount()
    for _ in range(5):
        assert count.refusal("127.0.0.1", 20) is None
        count.open("127.0.0.1")
    assert count.refusal("127.0.0.1", 20) == "127.0.0.1 has 5 sessions open already"
    assert count.refusal("127.0.0.2", 20) is None  # another client still gets in
    count.close("127.0.0.1")
    assert count.refusal("127.0.0.1", 20) is None
    for n in range(16):
        count.open(f"10.0.0.{n}")
    assert count.refusal("10.0.1.1", 20) == "20 sessions are open"
    assert SessionCount().refusal("a", 1) is None  # a cap of one still lets one in


def test_auth_guessing_is_refused_after_five_failures_per_address() -> None:
    # Found by the AUTH fault test: every guess cost one Argon2 check and nothing more.
    from types import SimpleNamespace

    from aiosmtpd.smtp import LoginPassword

    from faxgate.smtpfaxd.handler import AUTH_FAILURE_WINDOW_S, UserAuthenticator

    checked: list[str] = []
    now = [1000.0]

    def check(name: str, password: str) -> bool:
        checked.append(password)
        return password == "right"

    auth = UserAuthenticator(check, clock=lambda: now[0])
    guesser = SimpleNamespace(peer=("192.0.2.9", 40000))
    other = SimpleNamespace(peer=("192.0.2.10", 40000))

    def login(session: object, password: str) -> object:
        return auth(None, session, None, "PLAIN", LoginPassword(b"alice", password.encode()))  # type: ignore[arg-type]

    for n in range(5):
        assert login(guesser, f"guess{n}").success is False  # type: ignore[attr-defined]
    blocked = login(guesser, "right")
    assert blocked.success is False  # type: ignore[attr-defined]
    assert blocked.message.startswith("454 4.7.0")  # type: ignore[attr-defined]
    assert "right" not in checked  # refused without spending a password check
    assert login(other, "right").success is True  # type: ignore[attr-defined]
    now[0] += AUTH_FAILURE_WINDOW_S + 1
    assert login(guesser, "right").success is True  # type: ignore[attr-defined]
