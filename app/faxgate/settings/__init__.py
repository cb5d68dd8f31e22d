"""Settings: one registry of keys, layered sources, pending changes and apply.

Programs call `load_settings(spool)` at start and again on SIGHUP; `settings.get(name)` returns
the effective value and `settings.source(name)` tells which layer gave it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from faxgate.settings.keys import all_keys
from faxgate.settings.regex_notation import Matcher, parse_matcher
from faxgate.settings.registry import Key, KeyType, Registry, SettingValue
from faxgate.settings.sources import (
    Layer,
    default_config_paths,
    defaults_layer,
    environment_layer,
    stored_layer,
    yaml_layer,
)
from faxgate.settings.validation import whole_set_problems
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

__all__ = [
    "Key",
    "KeyType",
    "Matcher",
    "Registry",
    "SettingValue",
    "Settings",
    "load_settings",
    "registry",
]


@functools.cache
def registry() -> Registry:
    """The registry of every key (built once per process)."""
    return Registry(all_keys())


@dataclass(frozen=True)
class Settings:
    """The effective settings of one moment: a value and its source for every key."""

    values: Mapping[str, SettingValue]
    sources: Mapping[str, str]

    def get(self, name: str) -> SettingValue:
        registry().get(name)  # unknown names are a programming error with a clear message
        return self.values[name]

    def get_str(self, name: str) -> str:
        value = self.get(name)
        assert isinstance(value, str), name
        return value

    def get_int(self, name: str) -> int:
        value = self.get(name)
        assert isinstance(value, int), name
        assert not isinstance(value, bool), name
        return value

    def get_bool(self, name: str) -> bool:
        value = self.get(name)
        assert isinstance(value, bool), name
        return value

    def get_list(self, name: str) -> list[str]:
        value = self.get(name)
        assert isinstance(value, list), name
        return value

    def matcher(self, name: str) -> Matcher:
        return parse_matcher(self.get_str(name))

    def source(self, name: str) -> str:
        return self.sources[name]


def combine(layers: list[Layer]) -> Settings:
    values: dict[str, SettingValue] = {}
    sources: dict[str, str] = {}
    for layer in layers:
        values.update(layer.values)
        sources.update(dict.fromkeys(layer.values, layer.name))
    return Settings(values=values, sources=sources)


def base_layers(
    config_path: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[Layer]:
    """The layers below the stored overrides: defaults, appliance.yml, environment."""
    reg = registry()
    paths = [config_path] if config_path is not None else default_config_paths()
    return [
        defaults_layer(reg),
        *(yaml_layer(reg, path) for path in paths),
        environment_layer(reg, os.environ if environ is None else environ),
    ]


def load_settings(
    spool: Spool | None = None,
    ledger: Ledger | None = None,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The effective settings. Raises SettingsError naming key, value and source when one is bad."""
    layers = base_layers(config_path, environ)
    if ledger is not None:
        layers.append(stored_layer(registry(), ledger))
    elif spool is not None and spool.ledger_path.exists():
        with Ledger.open(spool.ledger_path) as own:
            layers.append(stored_layer(registry(), own))
    settings = combine(layers)
    problems = whole_set_problems(settings.values)
    if problems:
        from faxgate.errors import SettingsError

        raise SettingsError("; ".join(problems))
    return settings
