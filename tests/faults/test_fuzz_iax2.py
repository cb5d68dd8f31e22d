"""Fuzzing the IAX2 layer with frames that look right: valid headers, hostile information elements.

Random bytes mostly die in the header check (tests/unit/iax2 covers that); these frames get past
it, so the IE decoders, the call state machines and the registrar see them. The endpoint swallows
any exception to keep the line up (and counts it as `internal_error`): here that counter must
stay at zero, so a bug cannot hide behind the safety net.
"""

from __future__ import annotations

import contextlib
import random
import struct
from collections.abc import Sequence
from pathlib import Path

import pytest
from faults_fuzzing import fuzz_settings, replay_params
from hypothesis import given
from hypothesis import strategies as st

from faxgate.iax2.constants import FrameType, IaxSubclass, IeType
from faxgate.iax2.endpoint import Admission, CallRequest, Endpoint, EndpointConfig
from faxgate.iax2.events import Transmit
from faxgate.iax2.frames import FullFrame, parse_frame
from faxgate.iax2.ies import InformationElements
from faxgate.iax2.registration import Registrar

PEER = ("127.0.0.1", 40000)
FLAG = 0x8000

known_ie_types = st.sampled_from([int(kind) for kind in IeType])
ie_values = st.one_of(
    st.binary(max_size=40),
    st.integers(0, 0xFFFFFFFF).map(lambda n: struct.pack("!I", n)),
    st.integers(0, 0xFFFF).map(lambda n: struct.pack("!H", n)),
    st.integers(0, 0xFF).map(lambda n: bytes([n])),
    st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
raw_ies = st.lists(st.tuples(st.one_of(known_ie_types, st.integers(0, 255)), ie_values), max_size=8)


def encode_ies(items: list[tuple[int, bytes]]) -> bytes:
    return b"".join(bytes([kind, len(value)]) + value for kind, value in items)


def full_frame_bytes(
    source: int, destination: int, oseq: int, iseq: int, frame_type: int, subclass: int, body: bytes
) -> bytes:
    header = struct.pack(
        "!HHIBBBB", FLAG | source, destination, 1000, oseq, iseq, frame_type, subclass
    )
    return header + body


iax_frames = st.builds(
    lambda source, destination, oseq, iseq, subclass, ies: full_frame_bytes(
        source, destination, oseq, iseq, FrameType.IAX, subclass, encode_ies(ies)
    ),
    st.integers(1, 0x7FFF),
    st.one_of(st.just(0), st.integers(1, 0x7FFF)),
    st.integers(0, 255),
    st.integers(0, 255),
    st.one_of(st.sampled_from([int(s) for s in IaxSubclass]), st.integers(0, 0x7F)),
    raw_ies,
)
other_frames = st.builds(
    lambda source, destination, frame_type, subclass, payload: full_frame_bytes(
        source, destination, 0, 0, frame_type, subclass, payload
    ),
    st.integers(1, 0x7FFF),
    st.integers(0, 0x7FFF),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=64),
)


def guarded_endpoint(require_calltoken: bool) -> Endpoint:
    """An endpoint like a line: a secret to call in, a registrar that knows one peer."""

    def admit(request: CallRequest) -> Admission:
        return Admission(True, secret="s3cret")

    return Endpoint(
        policy=admit,
        config=EndpointConfig(require_calltoken=require_calltoken),
        registrar=lambda numbers: Registrar(
            lambda user: "s3cret" if user == "line1" else None, numbers
        ),
        rng=random.Random(7),
        challenge_factory=lambda: "12345",
    )


def follow_ups(outputs: Sequence[object]) -> list[int]:
    """Call numbers the endpoint just used, so later frames can aim at live dialogs."""
    numbers = []
    for output in outputs:
        if isinstance(output, Transmit) and isinstance(output.frame, FullFrame):
            numbers.append(output.frame.source_call)
    return numbers


@fuzz_settings()
@given(st.binary(min_size=12, max_size=12), raw_ies)
def test_ie_lists_parse_or_raise_value_error(header: bytes, items: list[tuple[int, bytes]]) -> None:
    body = encode_ies(items)
    try:
        parsed = InformationElements.parse(body)
    except ValueError:
        return
    assert len(parsed) == len(items)


@fuzz_settings()
@given(
    st.lists(st.one_of(iax_frames, other_frames), min_size=1, max_size=12),
    st.lists(st.integers(0, 11), max_size=12),
    st.booleans(),
)
def test_endpoint_handles_hostile_frame_sequences_without_internal_errors(
    frames: list[bytes], retarget: list[int], require_calltoken: bool
) -> None:
    endpoint = guarded_endpoint(require_calltoken)
    live: list[int] = []
    now = 0.0
    for index, data in enumerate(frames):
        if live and index < len(retarget) and retarget[index] % 2 and len(data) >= 4:
            # aim this frame at a dialog the endpoint opened (answer its challenge wrongly, …)
            target = live[retarget[index] % len(live)]
            data = data[:2] + struct.pack("!H", target) + data[4:]
        outputs = endpoint.datagram_received(data, PEER, now)
        live.extend(follow_ups(outputs))
        now += 0.25
        endpoint.tick(now)
    endpoint.tick(now + 120.0)
    assert endpoint.stats["internal_error"] == 0
    # nobody authenticated: no peer can have registered with a wrong or missing secret
    assert endpoint.registrar is not None
    assert endpoint.registrar.peers(now) == []


@pytest.mark.parametrize("path", replay_params("iax2"))
def test_kept_fault_datagram_is_handled(path: Path) -> None:
    endpoint = guarded_endpoint(False)
    endpoint.datagram_received(path.read_bytes(), PEER, 0.0)
    assert endpoint.stats["internal_error"] == 0
    with contextlib.suppress(ValueError):
        parse_frame(path.read_bytes())
