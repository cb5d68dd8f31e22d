"""The RFC 8010 codec on requests captured from ipptool (tests/fixtures/ipp/*.bin)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from faxgate.errors import ProtocolError
from faxgate.ipp.codec import (
    Attribute,
    AttributeGroup,
    Collection,
    IntRange,
    IppDecodeError,
    LanguageString,
    Message,
    Resolution,
    Value,
    attributes_length,
    decode_message,
    encode_message,
)
from faxgate.ipp.constants import GroupTag, Operation, ValueTag
from faxgate.ipp.printer import PrinterDescription, printer_attributes

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ipp"
CAPTURED = sorted(FIXTURES.glob("*.bin"))  # from ipptool and from CUPS 2.4 (lp)


def test_there_are_captured_requests() -> None:
    assert len(CAPTURED) >= 20


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.stem)
def test_captured_request_round_trips_byte_for_byte(path: Path) -> None:
    raw = path.read_bytes()
    message = decode_message(raw)
    assert encode_message(message) == raw


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.stem)
def test_every_truncation_of_the_attributes_raises_a_clean_error(path: Path) -> None:
    raw = path.read_bytes()
    message = decode_message(raw)
    attributes_end = len(raw) - len(message.data)
    for cut in range(attributes_end):
        with pytest.raises(IppDecodeError) as caught:
            decode_message(raw[:cut])
        assert isinstance(caught.value, ProtocolError)
        assert str(caught.value)


def test_print_job_capture_has_the_operation_attributes_and_the_document() -> None:
    message = decode_message((FIXTURES / "ipptool-print-job-01.bin").read_bytes())
    assert message.code == Operation.PRINT_JOB
    operation = message.operation_attributes
    assert [a.name for a in operation.attributes[:3]] == [
        "attributes-charset",
        "attributes-natural-language",
        "printer-uri",
    ]
    uri = operation.get("printer-uri")
    assert uri is not None
    assert uri.tag == ValueTag.URI
    assert str(uri.first).endswith("/printers/sendfax")
    fmt = operation.get("document-format")
    assert fmt is not None
    assert fmt.first == "application/pdf"
    assert message.data.startswith(b"%PDF-")


def test_request_id_zero_is_decoded_as_sent() -> None:
    message = decode_message((FIXTURES / "ipptool-get-printer-attributes-01.bin").read_bytes())
    assert message.request_id == 0
    assert message.code == Operation.GET_PRINTER_ATTRIBUTES


def test_every_value_type_round_trips() -> None:
    moment = dt.datetime(
        2026, 11, 26, 21, 5, 7, 300_000, tzinfo=dt.timezone(dt.timedelta(hours=-5))
    )
    size = Collection(
        (Attribute.of("x-dimension", ValueTag.INTEGER, 21000),
         Attribute.of("y-dimension", ValueTag.INTEGER, 29700))
    )  # fmt: skip
    attributes = [
        Attribute.of("a-integer", ValueTag.INTEGER, -7, 2**31 - 1),
        Attribute.of("a-boolean", ValueTag.BOOLEAN, True, False),
        Attribute.of("a-enum", ValueTag.ENUM, 3),
        Attribute.of("a-octets", ValueTag.OCTET_STRING, b"\x00\xffraw"),
        Attribute.of("a-date", ValueTag.DATE_TIME, moment),
        Attribute.of("a-resolution", ValueTag.RESOLUTION, Resolution(204, 196)),
        Attribute.of("a-range", ValueTag.RANGE_OF_INTEGER, IntRange(1, 5)),
        Attribute.of("a-text-lang", ValueTag.TEXT_WITH_LANGUAGE, LanguageString("de", "Grüße")),
        Attribute.of("a-name", ValueTag.NAME, "Jörg"),
        Attribute.of("a-no-value", ValueTag.NO_VALUE, None),
        Attribute("a-collection", [Value(ValueTag.BEGIN_COLLECTION, Collection(
            (Attribute("media-size", [Value(ValueTag.BEGIN_COLLECTION, size)]),
             Attribute.of("media-size-name", ValueTag.KEYWORD, "iso_a4_210x297mm"))))]),
    ]  # fmt: skip
    message = Message((2, 0), 0, 42, [AttributeGroup(GroupTag.PRINTER, attributes)], b"tail")
    decoded = decode_message(encode_message(message))
    assert decoded == message
    date = decoded.groups[0].get("a-date")
    assert date is not None
    assert date.first == moment


def test_printer_attributes_encode_and_decode_equal() -> None:
    description = PrinterDescription(
        uri="ipp://127.0.0.1:8631/printers/sendfax", uuid="urn:uuid:1", more_info="http://x/"
    )
    message = Message(
        (1, 1), 0, 1, [AttributeGroup(GroupTag.PRINTER, printer_attributes(description))]
    )
    assert decode_message(encode_message(message)) == message


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (bytes.fromhex("0101000b00000001") + b"\x01\x21\x00\x01a\x00\x03abc\x03", "expected 4"),
        (
            bytes.fromhex("0101000b00000001") + b"\x21\x00\x01a\x00\x04\x00\x00\x00\x01\x03",
            "before any group",
        ),
        (
            bytes.fromhex("0101000b00000001") + b"\x01\x44\x00\x00\x00\x01x\x03",
            "without an attribute",
        ),
        (bytes.fromhex("0101000b00000001") + b"\x01\x34\x00\x01c\x00\x00\x02", "not closed"),
        (bytes.fromhex("0101000b00000001") + b"\x01\x42\x00\x01n\x00\x02\xff\xfe\x03", "not UTF-8"),
    ],
    ids=["bad-integer-length", "no-group", "orphan-value", "open-collection", "bad-utf8"],
)
def test_malformed_messages_say_what_is_wrong(raw: bytes, reason: str) -> None:
    with pytest.raises(IppDecodeError, match=reason):
        decode_message(raw)


def test_cups_send_document_capture_carries_the_pdf() -> None:
    message = decode_message((FIXTURES / "cups-send-document-01.bin").read_bytes())
    assert message.code == Operation.SEND_DOCUMENT
    last = message.operation_attributes.get("last-document")
    assert last is not None
    assert last.first is True
    assert message.data.startswith(b"%PDF-")


@pytest.mark.parametrize("path", CAPTURED[:6], ids=lambda p: p.stem)
def test_attributes_length_finds_the_end_only_when_it_is_there(path: Path) -> None:
    raw = path.read_bytes()
    end = len(raw) - len(decode_message(raw).data)
    assert attributes_length(raw) == end
    assert all(attributes_length(raw[:cut]) is None for cut in range(end))
