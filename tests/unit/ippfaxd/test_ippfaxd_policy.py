"""User names, access policy, DNS-SD record and the gunicorn command line (pure parts)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from faxgate.ippfaxd.access import basic_credentials, client_allowed
from faxgate.ippfaxd.dnssd import Advertisement, Advertiser, publish_command, txt_records
from faxgate.ippfaxd.main import bind_address, gunicorn_argv
from faxgate.ippfaxd.usernames import appliance_user, mangle, normalise
from faxgate.settings import load_settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("CORP\\Anna.Smith", "anna.smith"), ("anna@corp.example", "anna"), ("  bob ", "bob"),
     ("CORP\\bob@x", "bob")],
)  # fmt: skip
def test_domain_parts_are_dropped(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_documented_usermangle_example_keeps_the_part_before_the_dot() -> None:
    assert mangle("john.doe", r"/^(\w+)\..*/", "$1") == "john"
    assert mangle("john", r"/^(\w+)\..*/", "$1") == "john"  # no match: unchanged
    assert appliance_user("CORP\\John.Doe", r"/^(\w+)\..*/", "${1}") == "john"


def test_empty_or_unsafe_names_give_no_owner() -> None:
    assert appliance_user("CORP\\") is None
    assert appliance_user("../../etc") == "....etc"
    assert appliance_user("a b;c") == "abc"


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("127.0.0.1", True), ("10.1.2.3", True), ("::ffff:10.1.2.3", True), ("::1", True),
     ("8.8.8.8", False), ("2001:db8::1", False), ("not an address", False)],
)  # fmt: skip
def test_client_networks(address: str, allowed: bool) -> None:
    assert client_allowed(address, ["127.0.0.0/8", "10.0.0.0/8", "::1/128"]) is allowed


def test_basic_credentials() -> None:
    token = base64.b64encode(b"anna:pass:word").decode()
    assert basic_credentials(f"Basic {token}") == ("anna", "pass:word")
    assert basic_credentials(None) is None
    assert basic_credentials("Bearer abc") is None
    assert basic_credentials("Basic !!!") is None
    assert basic_credentials("Basic " + base64.b64encode(b"no-colon").decode()) is None


def test_dnssd_record_names_the_printer_path_formats_and_uuid() -> None:
    ad = Advertisement(name="Fax", port=631, uuid="urn:uuid:1234-5678", admin_url="http://fax/")
    records = txt_records(ad)
    assert records[0] == "txtvers=1"
    assert "rp=printers/sendfax" in records
    assert "UUID=1234-5678" in records
    pdl = next(r for r in records if r.startswith("pdl="))
    assert "application/pdf" in pdl
    assert "application/octet-stream" not in pdl
    command = publish_command(ad)
    assert command[:5] == ["avahi-publish-service", "--subtype=_universal._sub._ipp._tcp",
                           "Fax", "_ipp._tcp", "631"]  # fmt: skip


def test_gunicorn_command_line_from_settings() -> None:
    settings = load_settings(environ={"FAXGATE_SYS_FAX_CONFIGURE_IPP_PORT": "8700",
                                      "FAXGATE_SYS_FAX_CONFIGURE_IPP_BIND": "::"})  # fmt: skip
    argv = gunicorn_argv(settings, workers=3)
    assert argv[argv.index("--bind") + 1] == "[::]:8700"
    assert argv[argv.index("--workers") + 1] == "3"
    assert "--no-control-socket" in argv
    assert argv[-1] == "faxgate.ippfaxd.app:get_app()"
    assert bind_address("127.0.0.1", 8631) == "127.0.0.1:8631"


def test_advertising_is_off_without_a_system_bus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxgate.ippfaxd import dnssd

    publisher = tmp_path / "avahi-publish-service"
    publisher.write_text("#!/bin/sh\nexec sleep 600\n")
    publisher.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("DBUS_SYSTEM_BUS_ADDRESS", raising=False)
    monkeypatch.setattr(dnssd, "SYSTEM_BUS_SOCKET", tmp_path / "no-bus")
    problem = dnssd.system_bus_problem()
    assert problem is not None
    assert "--network host" in problem
    advertiser = Advertiser(Advertisement(name="Fax", port=631, uuid="u", admin_url="http://x/"))
    assert advertiser.start() is False  # installed, but avahi is out of reach: not started
    assert advertiser.process is None
    (tmp_path / "no-bus").touch()  # the host's socket mounted in
    assert dnssd.system_bus_problem() is None
    assert dnssd.system_bus_problem({"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/x"}) is None


def test_advertising_is_off_without_avahi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    advertiser = Advertiser(Advertisement(name="Fax", port=631, uuid="u", admin_url="http://x/"))
    assert advertiser.start() is False
    assert advertiser.process is None
    advertiser.stop()  # harmless when nothing runs
