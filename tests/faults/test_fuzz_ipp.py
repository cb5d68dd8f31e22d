"""Fuzzing the IPP codec and the printer service behind it with hostile requests.

Two layers: the codec alone (random bytes and captured requests with flipped bytes must decode
or raise `IppDecodeError`, and what decodes must re-encode to something that decodes the same),
and the whole falcon app of ippfaxd in-process: requests with a valid header and the right
first two attributes followed by random attributes of real names and random tags. The printer
must answer each with an IPP response (never HTTP 500), carrying the request's id.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from falcon import testing
from faults_fuzzing import fuzz_settings, replay_params
from hypothesis import given
from hypothesis import strategies as st

from faxgate.ipp.codec import IppDecodeError, decode_message, encode_message
from faxgate.ipp.constants import Operation, ValueTag
from faxgate.ippfaxd.app import create_app
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool

CAPTURED = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "ipp").glob("*.bin"))
NAMES = [
    "printer-uri", "job-uri", "job-id", "requesting-user-name", "job-name", "document-format",
    "document-name", "requested-attributes", "which-jobs", "my-jobs", "limit", "first-index",
    "last-document", "copies", "page-ranges", "media", "media-col", "sides", "compression",
    "job-priority", "job-hold-until", "ipp-attribute-fidelity", "document-format-detected",
    "orientation-requested", "print-quality", "printer-resolution", "job-ids", "x", "",
]  # fmt: skip
TAGS = [int(tag) for tag in ValueTag if tag != ValueTag.EXTENSION]
VALUES: dict[str, bytes] = {
    "printer-uri": b"ipp://127.0.0.1/printers/sendfax",
    "job-uri": b"ipp://127.0.0.1/jobs/1",
    "document-format": b"application/pdf",
    "which-jobs": b"completed",
    "job-id": struct.pack(">i", 1),  # the printer's first job: reach the job operations' code
    "last-document": b"\x01",
    "my-jobs": b"\x01",
}


def tlv(tag: int, name: str, value: bytes) -> bytes:
    raw_name = name.encode()
    return (
        bytes([tag]) + struct.pack(">H", len(raw_name)) + raw_name
        + struct.pack(">H", len(value)) + value
    )  # fmt: skip


def attribute(name: str, tag: int, value: bytes, known: bool) -> bytes:
    """One attribute; `known` puts a meaningful value under a name that needs one."""
    return tlv(tag, name, VALUES.get(name, value) if known else value)


attribute_bytes = st.builds(
    attribute,
    st.sampled_from(NAMES),
    st.sampled_from(TAGS),
    st.one_of(
        st.binary(max_size=24),
        st.integers(-(2**31), 2**31 - 1).map(lambda n: struct.pack(">i", n)),
        st.sampled_from([b"\x01", b"\x00", b"1-2", b"all", b"not-completed"]),
    ),
    st.booleans(),
)
requests = st.builds(
    lambda version, operation, request_id, attributes, groups, document: (
        bytes(version)
        + struct.pack(">Hi", operation, request_id)
        + b"\x01"
        + tlv(ValueTag.CHARSET, "attributes-charset", b"utf-8")
        + tlv(ValueTag.NATURAL_LANGUAGE, "attributes-natural-language", b"en")
        + b"".join(attributes)
        + b"".join(groups)
        + b"\x03"
        + document
    ),
    st.sampled_from([(1, 1), (2, 0), (2, 2), (1, 0), (9, 9)]),
    st.one_of(st.sampled_from([int(op) for op in Operation]), st.integers(0, 0xFFFF)),
    st.integers(-5, 2**31 - 1),
    st.lists(attribute_bytes, max_size=8),
    st.lists(
        st.builds(
            lambda tag, attrs: bytes([tag]) + b"".join(attrs),
            st.sampled_from([2, 4, 5, 9]),
            st.lists(attribute_bytes, max_size=3),
        ),
        max_size=2,
    ),
    st.sampled_from([b"", b"%PDF-1.4\n%%EOF\n", b"%!PS\nshowpage\n", b"\x00garbage"]),
)


@fuzz_settings()
@given(st.binary(max_size=200))
def test_codec_decodes_or_raises_ipp_decode_error(data: bytes) -> None:
    try:
        message = decode_message(data)
    except IppDecodeError:
        return
    again = decode_message(encode_message(message))
    assert again == message


@fuzz_settings()
@given(
    st.sampled_from(CAPTURED) if CAPTURED else st.nothing(),
    st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 255)), min_size=1, max_size=6),
)
def test_mutated_captured_requests_decode_or_raise_cleanly(
    path: Path, edits: list[tuple[int, int]]
) -> None:
    data = bytearray(path.read_bytes())
    for position, value in edits:
        data[position % len(data)] = value
    try:
        message = decode_message(bytes(data))
    except IppDecodeError:
        return
    assert decode_message(encode_message(message)) == message


@pytest.fixture(scope="module")
def printer_client(tmp_path_factory: pytest.TempPathFactory) -> testing.TestClient:
    spool = Spool(tmp_path_factory.mktemp("ippfuzz") / "spool")
    spool.ensure()
    return testing.TestClient(create_app(spool, load_settings(spool)))


def post(client: testing.TestClient, body: bytes) -> testing.Result:
    return client.simulate_post(
        "/printers/sendfax", body=body, headers={"Content-Type": "application/ipp"}
    )


@fuzz_settings(share=0.5)
@given(body=requests)
def test_printer_answers_hostile_requests_with_ipp_never_a_crash(
    printer_client: testing.TestClient, body: bytes
) -> None:
    result = post(printer_client, body)
    assert result.status_code == 200, result.text[:300]
    response = decode_message(result.content)
    assert response.request_id == struct.unpack(">i", body[4:8])[0]


@fuzz_settings(share=0.5)
@given(body=st.binary(max_size=300))
def test_printer_answers_random_bodies_with_ipp_never_a_crash(
    printer_client: testing.TestClient, body: bytes
) -> None:
    result = post(printer_client, body)
    assert result.status_code == 200, result.text[:300]
    decode_message(result.content)


@pytest.mark.parametrize("path", replay_params("ipp"))
def test_kept_fault_request_is_answered(printer_client: testing.TestClient, path: Path) -> None:
    result = post(printer_client, path.read_bytes())
    assert result.status_code == 200
    decode_message(result.content)
