"""Writes docs/configuration.md from the registry: `python -m faxgate.settings.docgen`."""

from __future__ import annotations

import sys
from collections import defaultdict

from faxgate.settings import registry
from faxgate.settings.keys import AREAS
from faxgate.settings.registry import Key, KeyType

HEADER = """\
# Configuration reference

Generated from the settings registry by `make docs` (`python -m faxgate.settings.docgen`);
do not edit by hand. Every key faxgate reads is listed here.

## Where values come from

Lowest first; a higher layer wins:

1. the **default** below;
2. **appliance.yml** — `FAXGATE_CONFIG`, else `/etc/faxgate/appliance.yml` in the container, the
   checkout's `appliance.yml` in host mode; keys flat (`a.b.c: 1`) or nested;
3. the **environment** — `FAXGATE_` + the key in capitals with dots as underscores, e.g.
   `FAXGATE_SYS_FAX_CONFIGURE_LINES_COUNT=8`;
4. **applied changes** made in the web admin or with `faxctl settings set` + `faxctl apply`.

A change saved in the admin or with `faxctl settings set` is *pending* until it is *applied*
(`faxctl apply`): apply checks the whole set, keeps a snapshot, and restarts or reloads (SIGHUP)
only the programs the changed keys name below. A bad value is refused with the key, the value,
where it came from and why.

Matchers use the vendor's notation `/pattern/flags` (flags `i m s x`); the first pair of brackets
that takes part in the match is the value. A whole-address match is tried before a search, so
the documented `/||(\\d+)@.*/` works as written.

Other environment variables (not settings): `FAXGATE_SPOOL` (spool root, default
`./var/spool/hylafax`), `FAXGATE_CONFIG` (appliance.yml), `FAXGATE_ADMIN_PASSWORD` (first admin's
password at first start), `FAXGATE_ROOTFS` (where shipped files are), `FAXGATE_USER` (user the
programs run as).
"""

AREA_TITLES = {
    "faxprint": "Print-to-fax gateway (vendor keys)",
    "faxmail": "Mail-to-fax gateway (vendor keys)",
    "lines": "Fax lines and trunk",
    "mail": "E-mail server",
    "notify": "Notifications",
    "queue": "Fax queue",
    "convert": "Document conversion",
    "retention": "Clean-up",
    "listeners": "Listeners and access",
}


def _allowed(key: Key) -> str:
    if key.type is KeyType.CHOICE:
        return " \\| ".join(f"`{c}`" for c in key.choices)
    if key.type is KeyType.INTEGER:
        low = "" if key.minimum is None else str(key.minimum)
        high = "" if key.maximum is None else str(key.maximum)
        return f"{low}–{high}" if low or high else "whole number"
    return str(key.type.value)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    by_module: dict[str, list[Key]] = defaultdict(list)
    from importlib import import_module

    for area in AREAS:
        by_module[area] = list(import_module(f"faxgate.settings.keys.{area}").KEYS)
    out = [HEADER]
    for area in AREAS:
        out.append(f"\n## {AREA_TITLES.get(area, area.capitalize())}\n")
        out.append("| key | default | allowed | programs told | description |")
        out.append("|---|---|---|---|---|")
        for key in sorted(by_module[area], key=lambda k: k.name):
            default = key.render(key.default) if key.type is not KeyType.SECRET else ""
            told = ", ".join(key.programs) + (" (restart)" if key.restart else "")
            mark = " ¹" if key.documented else ""
            out.append(
                f"| `{key.name}`{mark} | `{_escape(default)}` | {_escape(_allowed(key))} "
                f"| {told} | {_escape(key.help)} |"
            )
    out.append("\n¹ named in the vendor documentation; name and default kept.\n")
    out.append(f"\n{len(registry())} keys in all.\n")
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(render())
