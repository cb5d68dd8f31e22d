"""Talking to the running supervisord over its XML-RPC Unix socket in the spool.

supervisord has no restartProcess: a restart is stopProcess then startProcess. Programs that
can reload their settings in place get SIGHUP instead.
"""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from faxgate.errors import FaxgateError
from faxgate.spool.layout import Spool


class SupervisorUnavailable(FaxgateError):
    """supervisord does not answer (the appliance is not running)."""


@dataclass(frozen=True)
class ProgramState:
    name: str
    state: str  # RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL, ...
    pid: int
    description: str


class Supervisor:
    """A client of the supervisord that runs the appliance of `spool`."""

    def __init__(self, spool: Spool) -> None:
        self.socket = spool.root / "supervisor.sock"
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        self._proxy: Any = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def _call(self, method: str, *args: object) -> object:
        if not self.socket.exists():
            raise SupervisorUnavailable(f"the appliance is not running (no {self.socket})")
        try:
            return cast(object, getattr(self._proxy.supervisor, method)(*args))
        except (OSError, xmlrpc.client.ProtocolError) as exc:
            raise SupervisorUnavailable(f"supervisord does not answer: {exc}") from exc
        except xmlrpc.client.Fault as exc:
            raise FaxgateError(f"supervisord refused {method}: {exc.faultString}") from exc

    def programs(self) -> list[ProgramState]:
        infos = self._call("getAllProcessInfo")
        assert isinstance(infos, list)
        return [
            ProgramState(info["name"], info["statename"], info["pid"], info["description"])
            for info in infos
        ]

    def restart(self, name: str) -> None:
        try:
            self._call("stopProcess", name, True)
        except FaxgateError as exc:
            if "NOT_RUNNING" not in str(exc):
                raise
        self._call("startProcess", name, True)

    def reload(self, name: str) -> None:
        self._call("signalProcess", name, "HUP")

    def stop_all(self) -> None:
        self._call("shutdown")


def tell_programs(spool: Spool, restart: set[str], reload: set[str]) -> list[str]:
    """Restart or SIGHUP the named programs that run; return what was done, in words."""
    supervisor = Supervisor(spool)
    running = {p.name for p in supervisor.programs() if p.state == "RUNNING"}
    done: list[str] = []
    for name in sorted(restart):
        if name in running:
            supervisor.restart(name)
            done.append(f"restarted {name}")
    for name in sorted(reload - restart):
        if name in running:
            supervisor.reload(name)
            done.append(f"reloaded {name}")
    return done
