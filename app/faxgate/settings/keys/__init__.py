"""Every settings key, gathered from one module per area.

An area adds its keys by adding its module to `AREAS`; each module exports `KEYS: list[Key]`.
"""

from __future__ import annotations

from importlib import import_module

from faxgate.settings.registry import Key

AREAS = (
    "faxprint",
    "faxmail",
    "lines",
    "mail",
    "notify",
    "queue",
    "convert",
    "retention",
    "listeners",
    "dialing",
    "smtp",
    "ipp",
)


def all_keys() -> list[Key]:
    keys: list[Key] = []
    for area in AREAS:
        keys.extend(import_module(f"faxgate.settings.keys.{area}").KEYS)
    return keys
