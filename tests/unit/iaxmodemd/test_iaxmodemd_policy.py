"""Who may call or register to a line."""

from __future__ import annotations

import dataclasses

from faxgate.iaxmodemd.config import LinesConfig, TrunkMode
from faxgate.iaxmodemd.policy import may_call, may_register

BASE = LinesConfig(
    count=4,
    bind="127.0.0.1",
    baseport=45100,
    mode=TrunkMode.LOOPBACK,
    server=None,
    peername="faxgate",
    secret="",
    refresh=60,
    codec="slinear",
    ident="faxgate",
    header="faxgate",
    ecm=True,
)


def test_loopback_takes_calls_only_from_its_own_lines() -> None:
    assert may_call(BASE, ("127.0.0.1", 45101), None)
    assert not may_call(BASE, ("127.0.0.1", 45104), None)  # one past the last line
    assert not may_call(BASE, ("127.0.0.1", 4569), None)
    assert not may_call(BASE, ("192.0.2.7", 45101), None)


def test_peer_mode_takes_calls_only_from_the_peer() -> None:
    config = dataclasses.replace(BASE, mode=TrunkMode.PEER, server=("192.0.2.1", 4569))
    assert may_call(config, ("192.0.2.1", 4569), None)
    assert not may_call(config, ("192.0.2.1", 4570), None)
    assert not may_call(config, ("127.0.0.1", 45101), ("127.0.0.1", 45101))


def test_register_mode_takes_calls_from_server_or_registrant() -> None:
    config = dataclasses.replace(BASE, mode=TrunkMode.REGISTER, server=("192.0.2.1", 4569))
    assert may_call(config, ("192.0.2.1", 4569), None)
    assert may_call(config, ("192.0.2.9", 4570), ("192.0.2.9", 4570))
    assert not may_call(config, ("192.0.2.9", 4570), None)
    assert not may_call(config, ("192.0.2.9", 4570), ("192.0.2.9", 4571))


def test_registrations_need_register_mode_and_a_secret() -> None:
    assert not may_register(BASE)
    register = dataclasses.replace(BASE, mode=TrunkMode.REGISTER)
    assert not may_register(register)
    assert may_register(dataclasses.replace(register, secret="s3cret"))
