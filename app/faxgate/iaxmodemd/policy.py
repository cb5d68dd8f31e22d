"""Who may call a line or register to it: the lines' access policy (pure).

A line takes calls only from the trunk it belongs to: in loopback mode from the other lines of
this iaxmodemd; in peer mode from the configured peer; in register mode from the configured
server or from the peer that has registered to this line (an IAX2 device or a PBX that registers
with us instead of us with it). Anything else is refused before a fax terminal is created.
"""

from __future__ import annotations

from faxgate.iaxmodemd.config import LinesConfig, TrunkMode

Address = tuple[str, int]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})


def may_call(config: LinesConfig, source: Address, registered: Address | None) -> bool:
    """True when a NEW from `source` may ring a line (`registered`: that line's registrant)."""
    if config.mode is TrunkMode.LOOPBACK:
        host, port = source
        own = host in LOOPBACK_HOSTS or host == config.bind
        return own and config.line_of_port(port) is not None
    if config.server is not None and source == config.server:
        return True
    return config.mode is TrunkMode.REGISTER and registered is not None and source == registered


def may_register(config: LinesConfig) -> bool:
    """Registrations to us are taken in register mode only, and need a secret to check."""
    return config.mode is TrunkMode.REGISTER and config.secret != ""


def refusal_reason(config: LinesConfig, source: Address) -> str:
    """Plain words for the log when `may_call` said no."""
    host, port = source
    if config.mode is TrunkMode.LOOPBACK:
        return f"call from {host}:{port} refused: in loopback mode only the lines themselves call"
    return f"call from {host}:{port} refused: not the configured IAX2 server or peer"
