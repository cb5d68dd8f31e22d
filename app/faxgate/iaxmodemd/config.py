"""The lines' settings as one immutable value, read from `Settings` (pure)."""

from __future__ import annotations

import enum
import socket
from dataclasses import dataclass

from faxgate.errors import SettingsError
from faxgate.settings import Settings

P = "sys.fax.configure."


class TrunkMode(enum.Enum):
    """How the lines reach the telephone network."""

    LOOPBACK = "loopback"  # the lines call each other on 127.0.0.1
    REGISTER = "register"  # each line registers with the server as <peername><i>
    PEER = "peer"  # a static peer, no registration


@dataclass(frozen=True)
class LinesConfig:
    """Everything iaxmodemd needs from the settings."""

    count: int
    bind: str
    baseport: int
    mode: TrunkMode
    server: tuple[str, int] | None  # resolved host and port, register/peer modes
    peername: str
    secret: str
    refresh: int
    codec: str  # slinear, ulaw, alaw
    ident: str
    header: str
    ecm: bool

    @property
    def line_names(self) -> list[str]:
        """ "1" … "N": the names lines have in the control interface and the ledger."""
        return [str(i) for i in range(1, self.count + 1)]

    def port_of(self, line: str) -> int:
        """UDP port of a line: baseport + i - 1, like iaxmodem."""
        return self.baseport + int(line) - 1

    def peer_name_of(self, line: str) -> str:
        """The IAX2 peer name line i registers as (and is registered to as): <peername><i>."""
        return f"{self.peername}{line}"

    def line_of_port(self, port: int) -> str | None:
        index = port - self.baseport + 1
        return str(index) if 1 <= index <= self.count else None


def resolve(host_port: str) -> tuple[str, int]:
    """`host:port` -> (IPv4 address, port); SettingsError in plain words when it cannot be."""
    host, _, port = host_port.rpartition(":")
    try:
        infos = socket.getaddrinfo(host, int(port), socket.AF_INET, socket.SOCK_DGRAM)
    except (OSError, ValueError) as exc:
        raise SettingsError(
            f"the IAX2 server {host_port!r} (sys.fax.configure.trunk.server) cannot be found: {exc}"
        ) from exc
    address = infos[0][4]
    return str(address[0]), int(address[1])


def lines_config(settings: Settings) -> LinesConfig:
    """Read the lines' keys; register and peer modes need a server."""
    mode = TrunkMode(settings.get_str(P + "trunk.mode"))
    server_text = settings.get_str(P + "trunk.server")
    if mode is TrunkMode.PEER and not server_text:
        raise SettingsError(
            "trunk mode 'peer' needs sys.fax.configure.trunk.server (host:port of the peer)"
        )
    server = resolve(server_text) if server_text and mode is not TrunkMode.LOOPBACK else None
    return LinesConfig(
        count=settings.get_int(P + "lines.count"),
        bind=settings.get_str(P + "lines.bind"),
        baseport=settings.get_int(P + "lines.baseport"),
        mode=mode,
        server=server,
        peername=settings.get_str(P + "trunk.peername"),
        secret=settings.get_str(P + "trunk.secret"),
        refresh=settings.get_int(P + "trunk.refresh"),
        codec=settings.get_str(P + "trunk.codec"),
        ident=settings.get_str(P + "station.ident"),
        header=settings.get_str(P + "station.header"),
        ecm=settings.get_bool(P + "ecm"),
    )
