"""Sources layer defaults < appliance.yml < environment < applied overrides; errors name the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.errors import SettingsError
from faxgate.settings import load_settings, store
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

LINES = "sys.fax.configure.lines.count"
RETENTION = "sys.fax.configure.retention.days"


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "appliance.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_layer_overrides_the_one_below(tmp_path: Path, spool: Spool, ledger: Ledger) -> None:
    config = write_yaml(tmp_path, f"{LINES}: 6\n{RETENTION}: 10\n")
    env = {"FAXGATE_SYS_FAX_CONFIGURE_LINES_COUNT": "8"}

    assert load_settings(environ={}).get(LINES) == 4
    from_yaml = load_settings(config_path=config, environ={})
    assert (from_yaml.get(LINES), from_yaml.source(LINES)) == (6, str(config))
    from_env = load_settings(config_path=config, environ=env)
    assert (from_env.get(LINES), from_env.source(LINES)) == (8, "environment")
    assert from_env.get(RETENTION) == 10  # untouched keys keep the lower layer's value

    store.save(ledger, LINES, "12", actor="test")
    store.apply(ledger, actor="test", config_path=config, environ=env)
    stored = load_settings(ledger=ledger, config_path=config, environ=env)
    assert (stored.get(LINES), stored.source(LINES)) == (12, "stored")


def test_nested_yaml_is_accepted(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "sys:\n  fax:\n    configure:\n      lines:\n        count: 2\n")
    assert load_settings(config_path=config, environ={}).get(LINES) == 2


def test_bad_yaml_value_names_key_value_and_file(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, f"{LINES}: four\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(config_path=config, environ={})
    message = str(caught.value)
    assert LINES in message
    assert "'four'" in message
    assert str(config) in message
    assert "whole number" in message


def test_unknown_key_in_yaml_is_refused(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "sys.fax.configure.lines.cuont: 4\n")
    with pytest.raises(SettingsError, match=r"lines\.cuont .*no such settings key"):
        load_settings(config_path=config, environ={})


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="FAXGATE_SYS_FAX_CONFIGURE_FAXPRINT_PRIORITY"):
        load_settings(environ={"FAXGATE_SYS_FAX_CONFIGURE_FAXPRINT_PRIORITY": "300"})


def test_unknown_environment_settings_variable_is_refused() -> None:
    with pytest.raises(SettingsError, match="names no settings key"):
        load_settings(environ={"FAXGATE_SYS_FAX_NOPE": "1"})


def test_other_faxgate_variables_are_not_settings() -> None:
    settings = load_settings(environ={"FAXGATE_SPOOL": "/x", "FAXGATE_ADMIN_PASSWORD": "y"})
    assert settings.get(LINES) == 4


def test_several_config_files_later_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    container = tmp_path / "container.yml"
    container.write_text(f"{LINES}: 2\n{RETENTION}: 7\n", encoding="utf-8")
    admin = write_yaml(tmp_path, f"{LINES}: 3\n")
    monkeypatch.setenv("FAXGATE_CONFIG", f"{container}:{admin}")
    settings = load_settings(environ={})
    assert (settings.get(LINES), settings.source(LINES)) == (3, str(admin))
    assert (settings.get(RETENTION), settings.source(RETENTION)) == (7, str(container))
