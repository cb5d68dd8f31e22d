"""The layers a setting's value comes from, lowest first.

registry defaults < appliance.yml < environment (FAXGATE_…) < applied overrides in the ledger.

Each layer reports where a value came from, so a bad value is named with its source
("sys.fax.configure.lines.count = 'four' (from /etc/faxgate/appliance.yml): must be a whole number").
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from faxgate.errors import SettingsError
from faxgate.settings.registry import Registry, SettingValue
from faxgate.spool.ledger import Ledger

CONTAINER_CONFIG = Path("/etc/faxgate/appliance.yml")
SETTINGS_PREFIX = "FAXGATE_SYS_"


@dataclass(frozen=True)
class Layer:
    """Values of one source, already parsed and checked."""

    name: str
    values: dict[str, SettingValue]


def default_config_paths() -> list[Path]:
    """FAXGATE_CONFIG (several files separated by ':', later ones win), else the container's
    /etc/faxgate/appliance.yml when present."""
    named = os.environ.get("FAXGATE_CONFIG")
    if named:
        return [Path(part) for part in named.split(":") if part]
    return [CONTAINER_CONFIG] if CONTAINER_CONFIG.exists() else []


def flatten(tree: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Accept both `a.b.c: 1` and nested `a: {b: {c: 1}}` in appliance.yml."""
    flat: dict[str, object] = {}
    for name, value in tree.items():
        full = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


def defaults_layer(registry: Registry) -> Layer:
    return Layer("default", {key.name: key.default for key in registry})


def yaml_layer(registry: Registry, path: Path | None) -> Layer:
    if path is None:
        return Layer("appliance.yml", {})
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SettingsError(f"configuration file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(tree, Mapping):
        raise SettingsError(f"{path} must hold settings keys and values")
    values: dict[str, SettingValue] = {}
    for name, raw in flatten(tree).items():
        values[name] = registry.get_checked(name, source=str(path)).parse(raw, source=str(path))
    return Layer(str(path), values)


def environment_layer(registry: Registry, environ: Mapping[str, str]) -> Layer:
    by_env = registry.by_environment_name()
    values: dict[str, SettingValue] = {}
    for variable, raw in environ.items():
        if not variable.startswith(SETTINGS_PREFIX):
            continue
        key = by_env.get(variable)
        if key is None:
            raise SettingsError(f"environment variable {variable} names no settings key")
        values[key.name] = key.parse(raw, source=f"environment {variable}")
    return Layer("environment", values)


def stored_layer(registry: Registry, ledger: Ledger) -> Layer:
    values: dict[str, SettingValue] = {}
    for row in ledger.query("SELECT key, value FROM settings_applied"):
        if row["key"] not in registry:
            continue  # a key a newer version removed: ignored, kept in the snapshots
        key = registry.get(row["key"])
        values[key.name] = key.parse(json.loads(row["value"]), source="stored settings")
    return Layer("stored", values)
