"""From the user name a print client sends to the appliance user the job belongs to.

Clients send `DOMAIN\\user` (Windows), `user@domain` (some ERP systems) or a plain name. The
domain part is dropped, the name lower-cased (Windows and mail treat names without case), then
the documented `faxprint.usermangle.search|replace` pair is applied, e.g. `/^(\\w+)\\..*/` with `$1`
turns `john.doe` into `john`.
"""

from __future__ import annotations

import re

from faxgate.settings.regex_notation import parse_matcher

_DOLLAR_GROUP = re.compile(r"\$(\d+)|\$\{(\d+)\}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")


def normalise(raw: str) -> str:
    """`DOMAIN\\user` and `user@domain` → `user`, lower case, without surrounding space."""
    name = raw.strip()
    if "\\" in name:
        name = name.rsplit("\\", 1)[1]
    if "@" in name:
        name = name.split("@", 1)[0]
    return name.strip().lower()


def mangle(name: str, search: str, replace: str) -> str:
    """Apply usermangle: `search` in /pattern/ notation, `replace` with $1-style groups."""
    if not search:
        return name
    matcher = parse_matcher(search)
    template = _DOLLAR_GROUP.sub(lambda m: f"\\g<{m.group(1) or m.group(2)}>", replace)
    return matcher.pattern.sub(template, name, count=1)


def appliance_user(raw: str, search: str = "", replace: str = "") -> str | None:
    """The appliance user name for a client's user name, None when nothing usable is left."""
    name = mangle(normalise(raw), search, replace).strip()
    name = _UNSAFE.sub("", name)[:64]
    return name or None
