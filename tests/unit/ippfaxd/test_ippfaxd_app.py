"""The falcon layer (falcon.testing, no sockets): media type, status page, icon, auth modes."""

from __future__ import annotations

import base64

import falcon.testing
import pytest

from faxgate import users
from faxgate.ipp.codec import Attribute, AttributeGroup, Message, decode_message, encode_message
from faxgate.ipp.constants import GroupTag, Operation, Status, ValueTag
from faxgate.ippfaxd.app import create_app
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


def client(spool: Spool, **env: str) -> falcon.testing.TestClient:
    settings = load_settings(environ={f"FAXGATE_SYS_FAX_CONFIGURE_{k.upper()}": v
                                      for k, v in env.items()})  # fmt: skip
    return falcon.testing.TestClient(create_app(spool, settings, started_at=0.0))


def get_printer_attributes() -> bytes:
    attributes = [
        Attribute.of("attributes-charset", ValueTag.CHARSET, "utf-8"),
        Attribute.of("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
        Attribute.of("printer-uri", ValueTag.URI, "ipp://x/printers/sendfax"),
    ]
    message = Message((2, 0), Operation.GET_PRINTER_ATTRIBUTES, 3,
                      [AttributeGroup(GroupTag.OPERATION, attributes)])  # fmt: skip
    return encode_message(message)


def post(test: falcon.testing.TestClient, **headers: str) -> falcon.testing.Result:
    return test.simulate_post("/printers/sendfax", body=get_printer_attributes(),
                              headers={"Content-Type": "application/ipp", **headers})  # fmt: skip


def test_ipp_over_post(spool: Spool) -> None:
    result = post(client(spool))
    assert result.status_code == 200
    assert result.headers["content-type"] == "application/ipp"
    response = decode_message(result.content)
    assert response.code == Status.SUCCESSFUL_OK
    assert response.request_id == 3


def test_other_media_types_and_methods(spool: Spool) -> None:
    test = client(spool)
    assert test.simulate_post("/printers/sendfax", body=b"x",
                              headers={"Content-Type": "text/plain"}).status_code == 415  # fmt: skip
    assert test.simulate_delete("/printers/sendfax").status_code == 405


def test_status_page_and_icon(spool: Spool) -> None:
    test = client(spool)
    page = test.simulate_get("/printers/sendfax", headers={"Host": "fax.example:631"})
    assert page.status_code == 200
    assert "ipp://fax.example:631/printers/sendfax" in page.text
    icon = test.simulate_get("/icons/printer.png")
    assert icon.status_code == 200
    assert icon.content.startswith(b"\x89PNG")


def test_forbidden_network(spool: Spool) -> None:
    test = client(spool, ipp_networks="10.0.0.0/8")
    assert test.simulate_get("/printers/sendfax").status_code == 403
    result = post(test)
    assert result.status_code == 200
    assert decode_message(result.content).code == Status.CLIENT_ERROR_FORBIDDEN


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def anna(spool: Spool, ledger: Ledger) -> None:
    users.create(ledger, "anna", "correct horse", "user", actor="test")


@pytest.mark.usefixtures("anna")
def test_optional_auth_checks_only_credentials_that_are_sent(spool: Spool) -> None:
    test = client(spool, ipp_auth="optional")
    assert post(test).status_code == 200  # no credentials: allowed (Windows)
    assert post(test, Authorization=basic("anna", "wrong")).status_code == 401
    assert post(test, Authorization=basic("anna", "correct horse")).status_code == 200


@pytest.mark.usefixtures("anna")
def test_required_auth_challenges(spool: Spool) -> None:
    test = client(spool, ipp_auth="required")
    result = post(test)
    assert result.status_code == 401
    assert result.headers["www-authenticate"].startswith("Basic")
    assert post(test, Authorization=basic("anna", "correct horse")).status_code == 200
    attributes = decode_message(post(test, Authorization=basic("anna", "correct horse")).content)
    printer = attributes.group(GroupTag.PRINTER)
    assert printer is not None
    auth = printer.get("uri-authentication-supported")
    assert auth is not None
    assert auth.first == "basic"
