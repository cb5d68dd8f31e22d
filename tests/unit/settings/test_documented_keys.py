"""The keys of the vendor documentation exist with their documented names and defaults."""

from __future__ import annotations

import pytest

from faxgate.settings import load_settings, registry
from faxgate.settings.regex_notation import parse_matcher

# Straight from seed/fax-server.md ("Adjusting Settings" and the gateway chapters).
DOCUMENTED = {
    "sys.fax.configure.faxprint.mode": 1,
    "sys.fax.configure.faxprint.matcher.fax": r"/@@\+FAX:\s*(.*?)\s*@@/",
    "sys.fax.configure.faxprint.matcher.jobtag": r"/@@\+TAG:\s*(.*?)\s*@@/",
    "sys.fax.configure.faxprint.matcher.priority": r"/@@\+PRIO:\s*(\d+?)\s*@@/",
    "sys.fax.configure.faxprint.matcher.notify": r"/@@\+NOTIFY:\s*(.*?@.*?)\s*@@/",
    "sys.fax.configure.faxprint.priority": 200,
    "sys.fax.configure.faxprint.tries": 3,
    "sys.fax.configure.faxprint.notify": "faxmaster",
    "sys.fax.configure.faxprint.usermangle.search": "",
    "sys.fax.configure.faxprint.usermangle.replace": "",
    "sys.fax.configure.faxmail.mode": 0,
}

OUR_OWN_WITH_REQUIRED_DEFAULTS = {
    "sys.fax.configure.lines.count": 4,
    "sys.fax.configure.retention.days": 30,
    "sys.fax.configure.trunk.mode": "loopback",
    "sys.fax.configure.retention.schedule": "30 3 * * 0",
}


@pytest.mark.parametrize(("name", "default"), sorted(DOCUMENTED.items()))
def test_documented_key_has_documented_default(name: str, default: object) -> None:
    key = registry().get(name)
    assert key.default == default
    assert key.documented


@pytest.mark.parametrize(("name", "default"), sorted(OUR_OWN_WITH_REQUIRED_DEFAULTS.items()))
def test_own_key_default(name: str, default: object) -> None:
    assert registry().get(name).default == default


def test_faxmail_matcher_exists_and_takes_the_number() -> None:
    matcher = load_settings(environ={}).matcher("sys.fax.configure.faxmail.matcher.fax")
    assert matcher.first_group("Hans Muster@009912700619.fax") == "009912700619"
    assert matcher.first_group("someone@example.com") is None
    assert matcher.first_group("Mueller@0991-234.fax") == "0991-234"  # dashes dropped later


def test_documented_alternative_address_format_works() -> None:
    # "If you would like to change the address format to 009912700619@mydomain.de ..."
    matcher = parse_matcher(r"/||(\d+)@.*/")
    assert matcher.first_group("009912700619@mydomain.de") == "009912700619"


def test_documented_print_matchers_find_fields_in_text() -> None:
    settings = load_settings(environ={})
    text = "Invoice 4711\n@@+FAX: 0991234 @@ @@+TAG:Bestellung 12345@@ @@+PRIO:100@@\n"
    text += "@@+NOTIFY: erp@example.com @@"
    assert settings.matcher("sys.fax.configure.faxprint.matcher.fax").first_group(text) == "0991234"
    assert (
        settings.matcher("sys.fax.configure.faxprint.matcher.jobtag").first_group(text)
        == "Bestellung 12345"
    )
    assert (
        settings.matcher("sys.fax.configure.faxprint.matcher.priority").first_group(text) == "100"
    )
    assert (
        settings.matcher("sys.fax.configure.faxprint.matcher.notify").first_group(text)
        == "erp@example.com"
    )


def test_every_key_has_help_and_a_valid_default() -> None:
    for key in registry().keys():
        assert key.help.strip(), key.name
        assert key.parse(key.default) == key.default, key.name
