"""DNS-SD advertisement with real avahi: ippfaxd publishes in one network namespace, avahi-browse
and CUPS's ippfind find it from another, over a private veth link (see mdns_lab.py).

Root with CAP_NET_ADMIN is needed to make namespaces; without it the test is skipped. Missing
programs are a failure, not a skip: scripts/debian-packages.txt lists them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ippfaxd_helpers import Printer, start_printer, stop_printer
from mdns_lab import Browsed, MdnsLab, lab_for_test, parse_browse

NAME = "Office Fax"
SUBTYPE = "_universal._sub._ipp._tcp"

GET_UUID_TEST = """{
    NAME "Get-Printer-Attributes at the advertised address"
    OPERATION Get-Printer-Attributes
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR naturalLanguage attributes-natural-language en
    ATTR uri printer-uri $uri
    ATTR keyword requested-attributes printer-uuid,printer-name
    STATUS successful-ok
    EXPECT printer-uuid OF-TYPE uri COUNT 1
    DISPLAY printer-uuid
}
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[MdnsLab]:
    with lab_for_test(tmp_path / "lab") as started:
        yield started


def resolved(events: list[Browsed], name: str = NAME) -> list[Browsed]:
    return [event for event in events if event.event == "=" and event.name == name]


def wait_for(read: Path, predicate: str, timeout: float, what: str) -> list[Browsed]:
    """Events of a running `avahi-browse --parsable` (its output file) once one matches."""
    deadline = time.monotonic() + timeout
    while True:
        events = parse_browse(read.read_text(errors="replace"))
        if any(event.event == predicate and event.name == NAME for event in events):
            return events
        assert time.monotonic() < deadline, f"{what}; avahi-browse said:\n{read.read_text()}"
        time.sleep(0.1)


def test_ippfaxd_is_found_by_avahi_and_ippfind_in_another_namespace_until_it_stops(
    lab: MdnsLab, tmp_path: Path
) -> None:
    publisher, browser = lab.publisher, lab.browser
    # A browser that stays: it prints '+'/'=' when the printer appears and '-' when it goes.
    watch_log = tmp_path / "watch.log"
    lab.popen(browser, ["avahi-browse", "--parsable", "--resolve", "--no-db-lookup",
                        "_ipp._tcp"], watch_log)  # fmt: skip
    root = tmp_path / "printer"
    root.mkdir()
    printer: Printer | None = start_printer(root, {
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_DNSSD": "true",
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_PRINTERNAME": NAME,
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_BIND": publisher.address,
        "DBUS_SYSTEM_BUS_ADDRESS": publisher.bus_address,
    }, netns=publisher.netns)  # fmt: skip
    assert printer is not None
    try:
        events = wait_for(watch_log, "=", 15, "the printer was not found on the other side")
        found = resolved(events)[-1]
        assert found.service_type == "_ipp._tcp"
        assert found.interface == "fax0"
        assert found.address == publisher.address  # learnt over the link, not locally
        assert found.port == printer.port
        txt = found.txt_map
        assert txt["rp"] == "printers/sendfax"
        assert txt["ty"] == NAME
        assert "application/pdf" in txt["pdl"].split(",")
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", txt["UUID"]), txt
        assert txt["adminurl"].startswith("http"), txt
        assert "Established under name 'Office Fax'" in printer.log(), printer.log()

        # The subtype IPP Everywhere clients (and CUPS's driverless setup) look for.
        by_subtype = browser.run(["avahi-browse", "--parsable", "--resolve", "--terminate",
                                  "--no-db-lookup", SUBTYPE])  # fmt: skip
        assert resolved(parse_browse(by_subtype.stdout)), by_subtype.stdout + by_subtype.stderr

        # CUPS's own discovery: the same record as CUPS would see it, and the URI it builds
        # from host name, port and `rp`.
        ippfind = browser.run([
            "ippfind", "-T", "3", "_ipp._tcp,_universal", "--literal-name", NAME,
            "--port", str(printer.port), "--path", "^/printers/sendfax$",
            "--txt-pdl", "application/pdf", "--txt", "UUID", "--txt", "adminurl",
            "--remote", "--print",
        ])  # fmt: skip
        assert ippfind.returncode == 0, ippfind.stdout + ippfind.stderr
        assert ippfind.stdout.split() == [
            f"ipp://faxgate-pub.local:{printer.port}/printers/sendfax"
        ], ippfind.stdout

        # What was found leads to the printer: an IPP request from the other namespace to the
        # advertised address, port and path; its printer-uuid is the advertised UUID.
        test_file = tmp_path / "get-uuid.test"
        test_file.write_text(GET_UUID_TEST)
        uri = f"ipp://{found.address}:{found.port}/{txt['rp']}"
        ipptool = browser.run(["ipptool", "-T", "10", "-t", uri, str(test_file)])
        assert ipptool.returncode == 0, ipptool.stdout + ipptool.stderr + printer.log()
        assert f"urn:uuid:{txt['UUID']}" in ipptool.stdout, ipptool.stdout

        stop_printer(printer.process)
        assert printer.process.returncode == 0, printer.log()
        printer = None
        wait_for(watch_log, "-", 10, "the printer was still advertised after it stopped")
        again = browser.run(["avahi-browse", "--parsable", "--resolve", "--terminate",
                             "--no-db-lookup", "_ipp._tcp"])  # fmt: skip
        assert not [e for e in parse_browse(again.stdout) if e.name == NAME], again.stdout
    finally:
        if printer is not None:
            stop_printer(printer.process)
