"""Checks that look at several keys together (apply refuses a set that fails any)."""

from __future__ import annotations

from collections.abc import Mapping

from faxgate.settings.registry import SettingValue

C = "sys.fax.configure."


def whole_set_problems(values: Mapping[str, SettingValue]) -> list[str]:
    """Plain-words reasons the whole set cannot be used; empty when it can."""
    problems: list[str] = []
    mode = values.get(C + "trunk.mode")
    if mode in ("register", "peer") and not values.get(C + "trunk.server"):
        problems.append(
            f"{C}trunk.server is empty: trunk mode {mode} needs the IAX2 server as host:port"
        )
    if mode == "register" and not values.get(C + "trunk.secret"):
        problems.append(f"{C}trunk.secret is empty: register mode needs the lines' secret")
    search = values.get(C + "faxprint.usermangle.search")
    replace = values.get(C + "faxprint.usermangle.replace")
    if bool(search) != bool(replace):
        problems.append(
            f"{C}faxprint.usermangle.search and .replace must be set together (or both empty)"
        )
    ports = {name: values.get(C + name + ".port") for name in ("smtp", "ipp", "admin")}
    seen: dict[object, str] = {}
    for name, port in ports.items():
        if port in seen:
            problems.append(f"{C}{name}.port and {C}{seen[port]}.port are both {port}")
        seen[port] = name
    count, base = values.get(C + "lines.count"), values.get(C + "lines.baseport")
    if isinstance(count, int) and isinstance(base, int) and base + count - 1 > 65535:
        problems.append(f"{C}lines.baseport {base} + {count} lines runs past port 65535")
    return problems
