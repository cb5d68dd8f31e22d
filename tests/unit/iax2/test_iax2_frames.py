"""Frames and information elements: round trips, captured iaxmodem datagrams, strictness."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxgate.iax2.constants import (
    ControlSubclass,
    FrameType,
    IaxSubclass,
    IeType,
    MediaFormat,
)
from faxgate.iax2.endpoint import Endpoint
from faxgate.iax2.frames import (
    FullFrame,
    MetaTrunkFrame,
    MetaVideoFrame,
    MiniFrame,
    TrunkEntry,
    decode_subclass,
    encode_subclass,
    parse_frame,
)
from faxgate.iax2.ies import (
    ApparentAddress,
    IeKind,
    IeValue,
    InformationElement,
    InformationElements,
    VersionedValue,
    decode_datetime,
    encode_datetime,
    kind_of,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "iax2"
FIXTURE_FILES = sorted(FIXTURES.glob("*.bin"))

SAMPLE_VALUES: dict[IeKind, IeValue] = {
    IeKind.STRING: "fax \u00e9 100",
    IeKind.BYTES: b"\x00\xff\x10",
    IeKind.EMPTY: None,
    IeKind.UINT8: 0xAB,
    IeKind.UINT16: 0xBEEF,
    IeKind.UINT32: 0xDEADBEEF,
    IeKind.ADDRESS: ApparentAddress.for_address("192.0.2.7", 4570),
    IeKind.VERSIONED_UINT64: VersionedValue(0, 1 << 40 | 0x4C),
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_fixtures_were_captured() -> None:
    names = {path.stem for path in FIXTURE_FILES}
    assert {
        "new",
        "regreq",
        "regreq_md5",
        "regrel",
        "full_voice_slinear",
        "mini_voice_slinear",
    } <= names


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda path: path.stem)
def test_fixture_reencodes_byte_identically(path: Path) -> None:
    data = path.read_bytes()
    assert bytes(parse_frame(data)) == data


def test_iaxmodem_new_carries_what_the_notes_say() -> None:
    frame = parse_frame(fixture("new.bin"))
    assert isinstance(frame, FullFrame)
    assert frame.is_iax(IaxSubclass.NEW)
    assert (frame.destination_call, frame.oseqno, frame.iseqno) == (0, 0, 0)
    ies = frame.ies
    assert ies.elements[0].type == IeType.VERSION
    assert ies.get(IeType.VERSION) == 2
    assert ies.get(IeType.FORMAT) == MediaFormat.SLINEAR
    assert ies.get(IeType.CAPABILITY) == MediaFormat.ULAW | MediaFormat.ALAW | MediaFormat.SLINEAR
    assert ies.text(IeType.CALLED_NUMBER) == "100"
    assert ies.text(IeType.DNID) == "100"
    assert ies.text(IeType.CALLING_NUMBER) == "5551234"
    assert ies.text(IeType.CALLING_NAME) == "Capture Modem"
    assert ies.text(IeType.USERNAME) == "faxline1"
    assert IeType.CALLTOKEN not in ies


def test_iaxmodem_voice_frames() -> None:
    full = parse_frame(fixture("full_voice_slinear.bin"))
    mini = parse_frame(fixture("mini_voice_slinear.bin"))
    assert isinstance(full, FullFrame)
    assert isinstance(mini, MiniFrame)
    assert full.frame_type == FrameType.VOICE
    assert full.subclass == MediaFormat.SLINEAR
    assert len(full.payload) == 320
    assert len(mini.payload) == 320
    assert mini.source_call == full.source_call
    assert mini.timestamp > full.timestamp  # mini frames follow the full one


def test_iaxmodem_registration_frames() -> None:
    first = parse_frame(fixture("regreq.bin"))
    second = parse_frame(fixture("regreq_md5.bin"))
    release = parse_frame(fixture("regrel.bin"))
    assert isinstance(first, FullFrame)
    assert isinstance(second, FullFrame)
    assert isinstance(release, FullFrame)
    assert first.ies.get(IeType.REFRESH) == 60
    assert first.destination_call == 0
    # The answer to our REGAUTH goes on the same call, to our call number 100.
    assert second.source_call == first.source_call
    assert second.destination_call == 100
    assert len(second.ies.text(IeType.MD5_RESULT)) == 32
    assert release.is_iax(IaxSubclass.REGREL)
    assert release.ies.text(IeType.CAUSE) == "Exiting"


def _element_boundaries(data: bytes) -> set[int]:
    """Lengths at which a prefix is itself a complete frame (header, then whole IEs)."""
    if data[0] & 0x80 == 0:
        return set(range(4, len(data) + 1))  # mini frame: opaque media after 4 octets
    frame = FullFrame.parse(data)
    if frame.frame_type == FrameType.VOICE and frame.subclass == MediaFormat.SLINEAR:
        return set(range(12, len(data) + 1, 2))  # whole 16-bit samples only
    if frame.frame_type != FrameType.IAX:
        return set(range(12, len(data) + 1))  # media frame: opaque payload after the header
    boundaries, position = {12}, 12
    while position < len(data):
        position += 2 + data[position + 1]
        boundaries.add(position)
    return boundaries


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda path: path.stem)
def test_every_truncation_is_refused_or_is_a_whole_shorter_frame(path: Path) -> None:
    data = path.read_bytes()
    whole = _element_boundaries(data)
    for length in range(len(data)):
        prefix = data[:length]
        if length not in whole:
            with pytest.raises(ValueError, match=r"\w"):
                parse_frame(prefix)
            continue
        try:
            shorter = parse_frame(prefix)
        except ValueError:
            continue  # e.g. a REGREQ cut before its USERNAME
        assert bytes(shorter) == prefix  # never a silent reinterpretation


def test_truncated_ie_lists_name_the_problem() -> None:
    data = fixture("new.bin")
    with pytest.raises(ValueError, match="claims"):
        parse_frame(data[:-1])
    with pytest.raises(ValueError, match="VERSION"):
        parse_frame(data[:12])  # a NEW without any IE


@pytest.mark.parametrize("ie_type", list(IeType), ids=lambda ie: ie.name)
def test_every_information_element_round_trips(ie_type: IeType) -> None:
    element = InformationElement(ie_type, SAMPLE_VALUES[kind_of(ie_type)])
    encoded = bytes(element)
    assert encoded[0] == ie_type
    assert encoded[1] == len(encoded) - 2
    assert InformationElements.parse(encoded) == InformationElements((element,))


def test_all_elements_together_in_one_frame() -> None:
    elements = InformationElements(
        tuple(InformationElement(kind, SAMPLE_VALUES[kind_of(kind)]) for kind in IeType)
    )
    frame = FullFrame(5, 9, 1234, 3, 4, FrameType.IAX, IaxSubclass.DPREQ, ies=elements)
    assert parse_frame(bytes(frame)) == frame


def test_unknown_ies_are_kept_raw() -> None:
    data = bytes([0x7A, 3, 1, 2, 3, IeType.USERNAME, 2]) + b"ab"
    parsed = InformationElements.parse(data)
    assert parsed.get(0x7A) == b"\x01\x02\x03"
    assert parsed.text(IeType.USERNAME) == "ab"
    assert bytes(parsed) == data


@pytest.mark.parametrize(
    ("ie_type", "length"),
    [(IeType.VERSION, 1), (IeType.FORMAT, 2), (IeType.CAUSECODE, 2), (IeType.AUTOANSWER, 1),
     (IeType.CAPABILITY2, 8), (IeType.APPARENT_ADDR, 18), (IeType.REFRESH, 4)],
)  # fmt: skip
def test_known_ies_with_a_wrong_length_are_refused(ie_type: IeType, length: int) -> None:
    with pytest.raises(ValueError, match=ie_type.name):
        InformationElements.parse(bytes([ie_type, length]) + bytes(length))


def test_capability2_as_newer_asterisk_sends_it() -> None:
    data = bytes([IeType.CAPABILITY2, 9, 0]) + (0x4C).to_bytes(8, "big")
    value = InformationElements.parse(data).get(IeType.CAPABILITY2)
    assert value == VersionedValue(0, 0x4C)


def test_apparent_address_keeps_the_senders_family_byte_order() -> None:
    raw = b"\x02\x00" + (4569).to_bytes(2, "big") + bytes([10, 1, 2, 3]) + bytes(8)
    address = ApparentAddress.parse(raw)
    assert (address.host, address.port) == ("10.1.2.3", 4569)
    assert bytes(address) == raw
    six = ApparentAddress.for_address("2001:db8::1", 4570)
    assert ApparentAddress.parse(bytes(six)) == six
    assert len(bytes(six)) == 28


def test_datetime_packing() -> None:
    moment = dt.datetime(2026, 11, 26, 20, 37, 58, tzinfo=dt.UTC)
    packed = encode_datetime(moment)
    assert packed >> 25 == 26
    assert (packed >> 21) & 0xF == 11
    assert packed & 0x1F == 29
    assert decode_datetime(packed) == moment


def test_values_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="needs"):
        InformationElement(IeType.VERSION, "2")
    with pytest.raises(ValueError, match="out of range"):
        bytes(InformationElement(IeType.CAUSECODE, 300))
    with pytest.raises(ValueError, match="255"):
        bytes(InformationElement(IeType.CAUSE, "x" * 256))


def test_subclass_c_bit() -> None:
    assert encode_subclass(MediaFormat.SLINEAR) == 0x40  # as iaxmodem sends it
    assert encode_subclass(MediaFormat.SLINEAR16) == 0x80 | 15
    assert decode_subclass(0x80 | 15) == MediaFormat.SLINEAR16
    assert decode_subclass(0x82) == MediaFormat.ULAW  # the other legal spelling is accepted
    with pytest.raises(ValueError, match="power of two"):
        encode_subclass(0x180)
    frame = FullFrame(1, 2, 3, 0, 0, FrameType.VOICE, int(MediaFormat.H264), payload=b"v")
    assert bytes(frame)[11] == 0x95
    assert parse_frame(bytes(frame)) == frame


IAX_MINIMAL_IES: dict[int, InformationElements] = {
    IaxSubclass.NEW: InformationElements.build((IeType.VERSION, 2)),
    IaxSubclass.ACCEPT: InformationElements.build((IeType.FORMAT, 4)),
    IaxSubclass.AUTHREQ: InformationElements.build(
        (IeType.AUTHMETHODS, 2), (IeType.CHALLENGE, "1")
    ),
    IaxSubclass.REGAUTH: InformationElements.build(
        (IeType.AUTHMETHODS, 2), (IeType.CHALLENGE, "1")
    ),
    IaxSubclass.AUTHREP: InformationElements.build((IeType.MD5_RESULT, "0" * 32)),
    IaxSubclass.REGREQ: InformationElements.build((IeType.USERNAME, "line1")),
    IaxSubclass.REGREL: InformationElements.build((IeType.USERNAME, "line1")),
    IaxSubclass.CALLTOKEN: InformationElements.build((IeType.CALLTOKEN, b"123?abc")),
    IaxSubclass.UNSUPPORT: InformationElements.build((IeType.IAX_UNKNOWN, 0x55)),
}


@pytest.mark.parametrize("subclass", list(IaxSubclass), ids=lambda sub: sub.name)
def test_every_iax_message_round_trips(subclass: IaxSubclass) -> None:
    ies = IAX_MINIMAL_IES.get(subclass, InformationElements())
    frame = FullFrame(
        0x7FFF, 17, 0xFFFFFFFF, 255, 7, FrameType.IAX, subclass, ies=ies, retransmission=True
    )
    assert parse_frame(bytes(frame)) == frame
    if subclass in IAX_MINIMAL_IES:
        bare = bytes(FullFrame(1, 2, 3, 0, 0, FrameType.IAX, IaxSubclass.PING))[:11] + bytes(
            [subclass]
        )
        with pytest.raises(ValueError, match="lacks"):
            parse_frame(bare)


@pytest.mark.parametrize("frame_type", list(FrameType), ids=lambda kind: kind.name)
def test_every_frame_type_round_trips(frame_type: FrameType) -> None:
    if frame_type == FrameType.IAX:
        frame = FullFrame(3, 4, 99, 1, 2, frame_type, IaxSubclass.PING)
    elif frame_type == FrameType.CONTROL:
        frame = FullFrame(3, 4, 99, 1, 2, frame_type, ControlSubclass.ANSWER)
    else:
        frame = FullFrame(3, 4, 99, 1, 2, frame_type, 0x04, payload=b"\x01\x02")
    assert parse_frame(bytes(frame)) == frame


@pytest.mark.parametrize("subclass", list(ControlSubclass), ids=lambda sub: sub.name)
def test_every_control_subclass_round_trips(subclass: ControlSubclass) -> None:
    frame = FullFrame(3, 4, 99, 1, 2, FrameType.CONTROL, subclass)
    assert parse_frame(bytes(frame)) == frame


def test_mini_and_meta_frames_round_trip() -> None:
    mini = MiniFrame(42, 0xFFFF, b"\x00\x01" * 160)
    assert parse_frame(bytes(mini)) == mini
    video = MetaVideoFrame(42, 0x1234, True, b"frame")
    assert parse_frame(bytes(video)) == video
    for with_timestamps in (False, True):
        stamp = 7 if with_timestamps else None
        trunk = MetaTrunkFrame(
            1000, (TrunkEntry(5, b"abc", stamp), TrunkEntry(6, b"", stamp)), with_timestamps
        )
        assert parse_frame(bytes(trunk)) == trunk
        for length in range(len(bytes(trunk)) - 1, 0, -1):
            if length in (8, len(bytes(trunk)) - (6 if with_timestamps else 4)):
                continue  # ends exactly after the header or after the first entry
            with pytest.raises(ValueError, match=r"\w"):
                parse_frame(bytes(trunk)[:length])


def test_header_fields_are_range_checked() -> None:
    with pytest.raises(ValueError, match="call number"):
        FullFrame(0x8000, 0, 0, 0, 0, FrameType.IAX, IaxSubclass.PING)
    with pytest.raises(ValueError, match="call number"):
        MiniFrame(0, 0, b"")
    with pytest.raises(ValueError, match="IAX frame carries"):
        FullFrame(1, 0, 0, 0, 0, FrameType.IAX, IaxSubclass.PING, payload=b"x")
    with pytest.raises(ValueError, match="C bit"):
        parse_frame(bytes(FullFrame(1, 0, 0, 0, 0, FrameType.IAX, IaxSubclass.PING))[:11] + b"\x81")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_parse_raises_only_value_error_on_random_bytes(data: bytes) -> None:
    try:
        frame = parse_frame(data)
    except ValueError:
        return
    # The one allowed difference: a C-bit subclass below 0x80 is re-encoded without the C bit.
    non_canonical = isinstance(frame, FullFrame) and data[11] & 0x80 and data[11] & 0x7F < 7
    assert bytes(frame) == data or non_canonical


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(FIXTURE_FILES),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_endpoint_never_raises_on_mutated_captures(
    path: Path, edits: list[tuple[int, int]]
) -> None:
    data = bytearray(path.read_bytes())
    for position, value in edits:
        data[position % len(data)] = value
    endpoint = Endpoint()
    outputs = endpoint.datagram_received(bytes(data), ("127.0.0.1", 4570), 0.0)
    assert isinstance(outputs, list)
    assert endpoint.stats["received"] + endpoint.stats["malformed"] == 1
